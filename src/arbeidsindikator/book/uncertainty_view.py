"""Chapter 06's recipe: the intervals, funnels, office view and coverage study as the chapter
shows them, with the numbers its prose quotes.

The computations are :mod:`arbeidsindikator.analyses`' (``uncertainty.book_intervals``,
``funnel.office_view``, ``validation.cached_study``, ``interval_views``); this module composes
them once into :class:`UncertaintyPage`, whose ``glue`` is a mapping of
:class:`~arbeidsindikator.book.chapter.GlueValue` for ``ch.glue_all`` (names as the chapter's
prose uses them), so the chapter holds narrative, one call, glue and figures only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from arbeidsindikator.analyses import funnel, interval_views, uncertainty, validation
from arbeidsindikator.book.chapter import GlueValue
from arbeidsindikator.config import RunConfig
from arbeidsindikator.spec import OUTCOMES

__all__ = ["UncertaintyPage", "page", "refit_sample_text", "national_adjusted", "last_month"]

#: outcomes with office funnels and the office table; county funnels for the yearly outcomes
OFFICE_OUTCOMES = OUTCOMES
COUNTY_OUTCOMES = ("atid12", "jobb12")
#: the funnel limit (per cent) at which an office is listed as differing from the national level
DIFFER_LIMIT = "99.8"


@dataclass
class UncertaintyPage:
    """What chapter 06 displays: the interval table (every method, grouping and statistic), the
    method comparisons (national, county, office), the refit-bootstrap summary, the funnels and
    office view, the coverage study, and the glue values of its prose."""

    table: pd.DataFrame
    diagnostics: pd.DataFrame
    comparison: pd.DataFrame
    county_comparison: pd.DataFrame
    office_comparison: pd.DataFrame
    refit: pd.DataFrame
    view: pd.DataFrame
    funnels: dict[str, Any]
    county_funnels: dict[str, Any]
    differ: pd.DataFrame
    coverage: pd.DataFrame
    verdict: pd.DataFrame
    recovery: pd.DataFrame
    glue: dict[str, Any] = field(default_factory=dict)


def refit_sample_text(refit: pd.DataFrame, max_rows: int) -> str:
    """Which sample the refit bootstrap ran on, in words (the whole panel, or above
    ``bootstrap.max_refit_rows`` a deterministic person subsample, with its size)."""
    if (refit["sample"] == "person subsample").all():
        return (f"a deterministic person subsample of each outcome (about {int(refit['persons'].mean()):,} persons, "
                f"{int(refit['person_months'].mean()):,} person-months: the panel is larger than "
                f"bootstrap.max_refit_rows = {int(max_rows):,}), compared with the analytic intervals of the same subsample")
    if (refit["sample"] == "whole panel").all():
        return "the whole panel"
    return "the whole panel or, above bootstrap.max_refit_rows, a person subsample (see the table)"


def _glue(cfg: RunConfig, p: UncertaintyPage) -> dict[str, Any]:
    diag = p.diagnostics.set_index("outcome")
    nat = p.comparison.set_index(["outcome", "statistic"])
    cty = p.county_comparison.set_index(["outcome", "statistic"])
    cov = p.coverage.set_index(["grouping", "statistic", "method"])
    rec = p.recovery.set_index(["grouping", "kind"])
    rf = p.refit.set_index("outcome")

    def pct(key: tuple[str, str, str]) -> GlueValue:
        return GlueValue(cov.loc[key, "coverage_95"], 1, pct=True)

    return {
        "unc_R": cfg.bootstrap_replicates,
        "unc_R10": int(diag["multiplier_replicates"].iloc[0]),
        "unc_nat_printed_ratio": GlueValue(nat.loc[("atid3", "month_adjusted"), "ratio printed/analytic_person"], 2),
        "unc_nat_obs_ratio": GlueValue(nat.loc[("atid3", "month_adjusted"), "ratio analytic_observation/analytic_person"], 2),
        "unc_cty_printed_period": GlueValue(cty.loc[("atid3", "period"), "ratio printed/analytic_person"], 2),
        "unc_mult_ratio": GlueValue(nat.loc[("atid3", "month_adjusted"), "ratio multiplier_person/analytic_person"], 3),
        "unc_refit_person_ratio": GlueValue(rf.loc["atid3", "ratio refit/analytic (person)"], 2),
        "unc_refit_sample": refit_sample_text(p.refit, diag["refit_max_rows"].iloc[0]),
        "unc_refit_outcomes": interval_views.refit_outcomes_text(p.refit),
        "unc_refit_cost": interval_views.refit_cost_text(p.refit),
        "unc_influence_s": GlueValue(diag.loc["atid3"]["seconds_influence_person"], 1),
        "unc_aliased": int(diag.filter(like="_aliased").sum().sum()),
        "unc_failed": int(diag.filter(like="_failed").sum().sum()),
        "unc_separated": int(diag.filter(like="_separated").sum().sum()),
        "unc_refit_total": int(diag.filter(regex="^refit_.*_replicates$").sum().sum()),
        "unc_phi_atid12": GlueValue(p.funnels["atid12"].phi, 2),
        "unc_phi_jobb12": GlueValue(p.funnels["jobb12"].phi, 2),
        "unc_p_atid12": GlueValue(p.funnels["atid12"].p_overdispersion, 3),
        "unc_n_offices": int(p.view[p.view.outcome == "atid12"].shape[0]),
        "unc_n_differ": int(p.differ.shape[0]),
        "unc_reps": int(p.coverage["replications"].max()),
        "unc_cov_person_cty_period": pct(("county", "period", "analytic_person")),
        "unc_cov_printed_cty_period": pct(("county", "period", "printed")),
        "unc_cov_printed_nat_month": pct(("national", "month", "printed")),
        "unc_cov_obs_nat_month": pct(("national", "month", "analytic_observation")),
        "unc_cov_person_office_tertial": pct(("office", "tertial_adjusted", "analytic_person")),
        "unc_se_sd_office_period": GlueValue(cov.loc[("office", "period", "analytic_person"), "se_over_sd"], 2),
        "unc_rec_office_raw": GlueValue(rec.loc[("office", "raw"), "rmse"], 2),
        "unc_rec_office_shrunk": GlueValue(rec.loc[("office", "shrunken"), "rmse"], 2),
        "unc_rec_county_corr": GlueValue(rec.loc[("county", "raw"), "correlation"], 2),
    }


def page(cfg: RunConfig) -> UncertaintyPage:
    """Everything chapter 06 shows, from the build's interval table (:func:`uncertainty.book_intervals`,
    cached) and the cached coverage study (:func:`validation.cached_study`)."""
    res = uncertainty.book_intervals(cfg)
    table = res.table
    view, funnels = funnel.office_view(table, OFFICE_OUTCOMES, "office", min_persons=cfg.min_cell_count)
    _, county_funnels = funnel.office_view(table, COUNTY_OUTCOMES, "county")
    study = validation.cached_study(cfg.cache_dir)
    p = UncertaintyPage(
        table=table,
        diagnostics=res.diagnostics,
        comparison=interval_views.method_comparison(table),
        county_comparison=interval_views.method_comparison(table, "county"),
        office_comparison=interval_views.method_comparison(table, "office"),
        refit=interval_views.refit_summary(table, res.diagnostics),
        view=view,
        funnels=funnels,
        county_funnels=county_funnels,
        differ=funnel.differing_units(view, DIFFER_LIMIT),
        coverage=study["coverage"],
        verdict=validation.verdicts(study["coverage"]),
        recovery=study["recovery"],
    )
    p.glue = _glue(cfg, p)
    return p


def national_adjusted(table: pd.DataFrame) -> pd.DataFrame:
    """The seasonally adjusted national monthly indicators with every method's bounds, jobb in
    percentage points (:func:`interval_views.in_percentage_points`), rows numbered from 0."""
    nat = table[(table.grouping == "national") & (table.statistic == "month_adjusted")]
    return interval_views.in_percentage_points(nat).reset_index(drop=True)


def last_month(national: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`national_adjusted` for each outcome's last month with an indicator (a page
    shows these; the whole monthly table, ~2 000 rows at 78 months, is a download)."""
    have = national[national["indicator"].notna()]
    last = have.groupby("outcome", observed=True, sort=False)["period"].transform("max")
    return have[have["period"] == last].reset_index(drop=True)
