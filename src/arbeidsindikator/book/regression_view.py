"""Chapter 03's recipes: the main fits beside table 4, and the glued values of its notes.

:func:`main_fit_view` gives the fit statistics, the coefficients beside the report's table 4,
the rows of the comparison figure and the section's numbers; the notes' numbers (history,
convergence, pooling, the growth comparison of issue 13) come from
:mod:`arbeidsindikator.analyses.regression_notes`. Glue values are
:class:`~arbeidsindikator.book.chapter.GlueValue` mappings for ``ch.glue_all``, so the chapter
holds no loops or composition (tests/book/test_chapters.py) and prose never types a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from arbeidsindikator import pipeline
from arbeidsindikator.analyses import regression_notes as notes
from arbeidsindikator.analyses.regression_notes import OLS_OUTCOMES, VARIANTS, GrowthComparison
from arbeidsindikator.book import tables
from arbeidsindikator.book.chapter import GlueValue, fmt_number
from arbeidsindikator.config import RunConfig

_GROWTH_KEYS = ("reg_g_gain_atid3", "reg_g_gain_atid12", "reg_g_month_atid3", "reg_g_month_when", "reg_g_county_atid3",
                "reg_g_month_atid12", "reg_g_county_atid12", "reg_g_top_name", "reg_g_top_change", "reg_g_corr_pub")


@dataclass(frozen=True)
class MainFitView:
    """The four main models as the chapter shows them."""

    stats: pd.DataFrame  # rows used and excluded, coefficients, R² or log-likelihood, convergence
    comparison: pd.DataFrame  # every coefficient and standard error beside table 4's
    scatter: pd.DataFrame  # the comparison's rows with a published atid3 coefficient, constant left out
    glue: dict[str, Any]


def main_fit_view(cfg: RunConfig) -> MainFitView:
    """Fit statistics, coefficients beside table 4 and the agreement with it (atid3: correlation,
    sign agreement among published |β| > 0.5), from the main models (:func:`pipeline.main_models`)."""
    fits = pipeline.main_models(cfg).fits
    comparison = tables.coefficients_vs_published(fits)
    agree = tables.agreement_with_published(comparison, "atid3")
    glue = {
        "reg_n_coef": int(len(fits["atid3"].params)),
        "reg_r2_atid3": GlueValue(fits["atid3"].rsquared, 3),
        "reg_r2_atid12": GlueValue(fits["atid12"].rsquared, 3),
        "reg_rows": int(fits["atid3"].nobs),
        "reg_corr": GlueValue(agree["correlation"], 2),
        "reg_sign": GlueValue(agree["sign_agreement_large"], 0, pct=True),
        "reg_n_large": agree["n_large"],
        "reg_n_compared": agree["n_compared"],
    }
    return MainFitView(stats=tables.fit_statistics(fits), comparison=comparison,
                       scatter=comparison.dropna(subset=["atid3 published"]).drop(index="const"), glue=glue)


def history_glue(cfg: RunConfig) -> dict[str, Any]:
    """Glue values of the NAV-history source notes (issues 13 and 16): the coefficient of the
    reference category's neighbour, the shares in "> 60" and in all 60 months, table 4's value."""
    hist = notes.history_note(cfg)
    return {
        "reg_note_hist16": GlueValue(pipeline.main_models(cfg).fits["atid3"].params.get("nav_historikk[1-6]", float("nan")), 2),
        "reg_hist_over60": GlueValue(hist["share_over_60"], 1, pct=True),
        "reg_hist_all60": GlueValue(hist["share_all_60"], 1, pct=True),
        "reg_hist_max": hist["max_history"],
        "reg_hist_pub_over60": GlueValue(hist["published_over60_atid3"], 2),
    }


def convergence_glue(fit: pd.DataFrame) -> dict[str, Any]:
    """The sentence saying whether every main model converged (from :func:`regression_notes.fit_table`)."""
    return {"reg_all_converged": "all four models converged" if fit["converged"].all() else
            "not every model converged: " + ", ".join(fit.loc[~fit["converged"], "outcome"])}


def pooling_glue(min_persons: int, pooled: pd.DataFrame, effect: dict[str, float]) -> dict[str, Any]:
    """Glue values of the pooling section: the threshold, how many levels, what it changed."""
    if len(pooled) == 0:
        sentence = "No level was pooled, so the rule changed nothing."
    else:
        sentence = ("Pooling changes the OLS models too, because the hours and job models of a horizon share one "
                    "design; refitted without pooling, the largest change in a shared OLS coefficient is "
                    f"{fmt_number(effect['coef_max_change'], 3)} hours a week and in a monthly mean expected value "
                    f"{fmt_number(effect['expected_month_max_change'], 3)} hours a week.")
    return {"reg_pool_k": min_persons, "reg_pool_n": int(len(pooled)), "reg_pool_effect": sentence}


def growth_glue(gc: GrowthComparison) -> dict[str, Any]:
    """Glue values of the growth section; "—" everywhere (and the reason) when it cannot be made."""
    out: dict[str, Any] = {}
    if not gc.available:
        out.update({f"reg_g_r2_{o}_{i}": "—" for i in range(len(VARIANTS)) for o in OLS_OUTCOMES})
        out.update({k: "—" for k in _GROWTH_KEYS})
        out["reg_g_status"] = f"**The comparison is not made in this build:** {gc.reason}."
        return out
    assert gc.fits is not None and gc.indicator is not None and gc.movers is not None
    assert gc.growth_coefficients is not None
    r2 = gc.fits.set_index(["model", "outcome"])["R²"]
    out.update({f"reg_g_r2_{o}_{i}": GlueValue(r2[(v, o)], 3) for i, v in enumerate(VARIANTS) for o in OLS_OUTCOMES})
    out.update({f"reg_g_gain_{o}": GlueValue(gc.r2_gain[o], 4) for o in OLS_OUTCOMES})
    ind = gc.indicator.set_index("outcome")
    out["reg_g_month_when"] = ind.loc["atid3", "month of the largest"]
    out.update({f"reg_g_month_{o}": GlueValue(ind.loc[o, "largest monthly difference (hours/week)"], 2)
                for o in OLS_OUTCOMES})
    out.update({f"reg_g_county_{o}": GlueValue(ind.loc[o, "largest county difference (hours/week)"], 3)
                for o in OLS_OUTCOMES})
    top = gc.movers[gc.movers["outcome"] == "atid3"].iloc[0]
    out["reg_g_top_name"] = str(top["coefficient"])
    out["reg_g_top_change"] = GlueValue(top["change"], 2)
    g = gc.growth_coefficients.dropna()
    corr = float(g["atid3 (this build)"].corr(g["atid3 (table 4)"])) if len(g) > 2 else float("nan")
    out["reg_g_corr_pub"] = GlueValue(corr, 2)
    out["reg_g_status"] = "The comparison below is made on this build's data."
    return out
