"""Chapter 04's recipes: what the results chapter shows of the indicator series.

Each function returns one section's finished data — the national series and the numbers the
prose quotes, the months × groups matrices behind the group figures (cells with fewer persons
than ``indicator.min_cell_count`` blanked, as in tables), period means, the tertial means and
percentage deviations — so the chapter holds narrative, parameters, calls, glue and figures
only. The series come from :func:`arbeidsindikator.pipeline.indicator_series` (the indicator
cube); the computations are :mod:`arbeidsindikator.indicator.indicator`'s (wide tables, period
and tertial means, percentage deviation), the report's selections (counties, programme pairs)
its constants. Glue values are :class:`~arbeidsindikator.book.chapter.GlueValue` mappings for
``ch.glue_all``, named as the chapter's prose uses them.

The chapter calls, per section::

    nat = result_views.national_view(ch.cfg)
    ch.glue_all(nat.glue)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from arbeidsindikator import pipeline
from arbeidsindikator.book import recipes, tables
from arbeidsindikator.book.chapter import GlueValue
from arbeidsindikator.config import RunConfig
from arbeidsindikator.indicator.indicator import (
    PROGRAMME_PAIRS,
    PROGRAMME_TWO_COUNTIES,
    SELECTED_COUNTIES,
    all_outcomes,
    percent_deviation_all,
    period_means,
    tertial_means,
    tertials_all,
    wide,
)

__all__ = ["NationalView", "GroupView", "ProgrammeView", "MeasuresView", "SUBGROUP_COUNT_GLUE", "national_view", "band",
           "county_view", "county_truth_recovery", "subgroup_view", "service_group_view", "programme_view",
           "measures_view"]


def band(series: pd.DataFrame) -> pd.DataFrame:
    """A national series with its residual 95 % band as the ``lower``/``upper`` columns the indicator figure draws."""
    return series.rename(columns={"lower_resid": "lower", "upper_resid": "upper"})


@dataclass(frozen=True)
class NationalView:
    """The national series of the four outcomes (figures 6–9) and the numbers the prose quotes."""

    series: dict[str, pd.DataFrame]  # outcome → monthly table (actual, expected, indicator, bands, n)
    glue: dict[str, Any]

    def table(self, outcome: str = "atid3") -> pd.DataFrame:
        """The monthly table of one outcome with the month as a column (the chapter's last table)."""
        return self.series[outcome].reset_index()


def national_view(cfg: RunConfig) -> NationalView:
    """National seasonally adjusted series and the opening section's glue values.

    First, largest, smallest and last atid3 indicator with their months; the last month atid12
    is observed; the last jobb3 indicator in percentage points; the mean atid3 residual
    (:func:`recipes.mean_residual`, zero by construction of OLS).
    """
    nat = pipeline.national(cfg)
    a3, j3 = nat["atid3"], nat["jobb3"]
    glue: dict[str, Any] = {
        "res_a3_first_month": a3.index[0].strftime("%B %Y"),
        "res_a3_first_actual": GlueValue(a3["actual"].iloc[0], 1),
        "res_a3_first_expected": GlueValue(a3["expected"].iloc[0], 1),
        "res_a3_max_month": a3["indicator"].idxmax().strftime("%B %Y"),
        "res_a3_max": GlueValue(a3["indicator"].max(), 2),
        "res_a3_min_month": a3["indicator"].idxmin().strftime("%B %Y"),
        "res_a3_min": GlueValue(a3["indicator"].min(), 2),
        "res_a3_last_month": a3.index[-1].strftime("%B %Y"),
        "res_a3_last": GlueValue(a3["indicator"].iloc[-1], 2),
        "res_mean_resid": GlueValue(recipes.mean_residual(cfg, "atid3"), 6),
        "res_a12_last_month": nat["atid12"]["actual"].dropna().index[-1].strftime("%B %Y"),
        "res_j3_last": GlueValue(j3["indicator"].iloc[-1] * 100, 1),
        "res_j3_last_month": j3.index[-1].strftime("%B %Y"),
    }
    return NationalView(series=nat, glue=glue)


@dataclass(frozen=True)
class GroupView:
    """One grouping of one outcome: months × groups matrices for the figures, period means, glue."""

    wide: dict[str, pd.DataFrame]  # column ("actual", "indicator") → months × groups, small cells blank
    means: pd.DataFrame | None = None  # person-weighted period means of the unadjusted series, per group
    glue: dict[str, Any] = field(default_factory=dict)
    highlight: tuple[str, ...] | None = None  # groups the report's figures highlight


def _wide(cfg: RunConfig, table: pd.DataFrame, column: str, group: str) -> pd.DataFrame:
    return wide(table, column, group, min_count=cfg.min_cell_count)


def _means(cfg: RunConfig, outcome: str, group: str) -> pd.DataFrame:
    return period_means(pipeline.indicator_series(cfg, outcome, group, adjust=False), group)


def county_view(cfg: RunConfig) -> GroupView:
    """atid3 by county (figures 10–11): actual and indicator matrices, period means, best and worst county."""
    county = pipeline.indicator_series(cfg, "atid3", "fylke")
    means = _means(cfg, "atid3", "fylke")
    glue: dict[str, Any] = {
        "res_county_best": means["indicator"].idxmax(),
        "res_county_best_v": GlueValue(means["indicator"].max(), 2),
        "res_county_worst": means["indicator"].idxmin(),
        "res_county_worst_v": GlueValue(means["indicator"].min(), 2),
        "res_county_top_actual": means["actual"].idxmax(),
    }
    return GroupView(wide={c: _wide(cfg, county, c, "fylke") for c in ("actual", "indicator")}, means=means,
                     glue=glue, highlight=SELECTED_COUNTIES)


def county_truth_recovery(cfg: RunConfig, counties: GroupView) -> tuple[pd.DataFrame, str]:
    """Planted county contributions beside the counties' period-mean indicator (:func:`tables.truth_recovery`),
    with the county as a column; empty for real data."""
    assert counties.means is not None
    recovery, text = tables.truth_recovery(counties.means["indicator"], recipes.planted_truth(cfg, "county_effect"))
    return recovery.reset_index(names="fylke"), text


#: Flag column of a subgroup → glue name of its number of person-months (figures 12–13).
SUBGROUP_COUNT_GLUE = {"ungdomsgaranti": "res_youth_n", "landgruppe3": "res_lg3_n"}


def subgroup_view(cfg: RunConfig, subset: str) -> GroupView:
    """The atid3 indicator by county for a flagged group (figures 12–13: ``ungdomsgaranti``, ``landgruppe3``),
    with the group's number of person-months as glue."""
    t = pipeline.indicator_series(cfg, "atid3", "fylke", subset=subset)
    return GroupView(wide={"indicator": _wide(cfg, t, "indicator", "fylke")},
                     glue={SUBGROUP_COUNT_GLUE[subset]: int(t["n"].sum())}, highlight=SELECTED_COUNTIES)


def service_group_view(cfg: RunConfig) -> GroupView:
    """atid3 by service group (figures 14–15): matrices, period means, best and worst group."""
    ig = pipeline.indicator_series(cfg, "atid3", "innsatsgruppe")
    means = _means(cfg, "atid3", "innsatsgruppe")
    glue = {"res_ig_best": means["indicator"].idxmax(), "res_ig_worst": means["indicator"].idxmin()}
    return GroupView(wide={c: _wide(cfg, ig, c, "innsatsgruppe") for c in ("actual", "indicator")}, means=means,
                     glue=glue)


@dataclass(frozen=True)
class ProgrammeView:
    """Programmes (figures 16–24): the report's programme series, matrices, pairs and the two-county view."""

    name: str  # the programme the report shows alone and in two counties (figures 16 and 24)
    first: pd.DataFrame  # its atid12 national table (figure 16)
    atid12: dict[str, pd.DataFrame]  # "actual"/"indicator" → months × programmes
    jobb12: pd.DataFrame  # jobb12 indicator, months × programmes
    pairs: list[dict[str, Any]]  # per pair: "label" ("A vs B"), "atid12", "jobb12" (months × the pair)
    two_counties: pd.DataFrame  # atid12 indicator of the first programme, months × the report's two counties
    glue: dict[str, Any]


def programme_view(cfg: RunConfig) -> ProgrammeView:
    """atid12 and jobb12 by programme, the report's pairs of similar programmes and one programme in two counties.

    Period means leave out the users without a programme (``ingen``) when ranking programmes.
    """
    t12 = pipeline.indicator_series(cfg, "atid12", "tiltak")
    j12 = pipeline.indicator_series(cfg, "jobb12", "tiltak")
    means = _means(cfg, "atid12", "tiltak").drop(index="ingen", errors="ignore")
    first_prog, counties = PROGRAMME_TWO_COUNTIES
    a_ind, j_ind = _wide(cfg, t12, "indicator", "tiltak"), _wide(cfg, j12, "indicator", "tiltak")
    pairs = [{"label": " vs ".join(p), "atid12": a_ind.reindex(columns=list(p)), "jobb12": j_ind.reindex(columns=list(p))}
             for p in PROGRAMME_PAIRS]
    two = pipeline.indicator_series(cfg, "atid12", ["tiltak", "fylke"])
    two_w = _wide(cfg, two.xs(first_prog, level="tiltak"), "indicator", "fylke").reindex(columns=list(counties))
    glue = {
        "res_prog_top_actual": means["actual"].idxmax(),
        "res_prog_low_actual": means["actual"].idxmin(),
        "res_prog_top_ind": means["indicator"].idxmax(),
        "res_prog_first": first_prog,
        "res_prog_counties": " and ".join(counties),
    }
    return ProgrammeView(name=first_prog, first=t12.xs(first_prog, level="tiltak"),
                         atid12={"actual": _wide(cfg, t12, "actual", "tiltak"), "indicator": a_ind},
                         jobb12=j_ind, pairs=pairs, two_counties=two_w, glue=glue)


@dataclass(frozen=True)
class MeasuresView:
    """All four measures together (figures 25–28)."""

    four: pd.DataFrame  # months × outcomes indicator; jobb in percentage points
    pct: pd.DataFrame  # indicator as % of the period's mean actual level
    tertial_atid3: pd.DataFrame  # atid3 indicator and its tertial means (carried over the tertial's months)
    tertial_pct: pd.DataFrame  # tertial means of ``pct``
    glue: dict[str, Any]


def measures_view(nat: NationalView) -> MeasuresView:
    """The four national indicators on their scales and as percentage deviations, with tertial (four-month) means."""
    a3 = nat.series["atid3"]
    pct = percent_deviation_all(nat.series)
    tert = tertial_means(a3["indicator"])
    glue = {"res_pct_last_jobb12": GlueValue(pct["jobb12"].dropna().iloc[-1], 1),
            "res_pct_last_jobb12_month": pct["jobb12"].dropna().index[-1].strftime("%B %Y")}
    return MeasuresView(four=all_outcomes(nat.series), pct=pct,
                        tertial_atid3=a3[["indicator"]].join(tert.rename("tertial mean"), how="left").ffill(limit=3),
                        tertial_pct=tertials_all(pct), glue=glue)
