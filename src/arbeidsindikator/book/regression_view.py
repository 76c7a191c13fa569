"""The regression chapter's glued values for issue 13 (pooling, the growth comparison).

The numbers come from :mod:`arbeidsindikator.analyses.regression_notes`; this module only turns
them into :class:`~arbeidsindikator.book.chapter.GlueValue` mappings for ``ch.glue_all``, so the
chapter holds no loops (tests/book/test_chapters.py) and prose never types a number.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from arbeidsindikator.analyses.regression_notes import OLS_OUTCOMES, VARIANTS, GrowthComparison
from arbeidsindikator.book.chapter import GlueValue, fmt_number

_GROWTH_KEYS = ("reg_g_gain_atid3", "reg_g_gain_atid12", "reg_g_month_atid3", "reg_g_month_when", "reg_g_county_atid3",
                "reg_g_month_atid12", "reg_g_county_atid12", "reg_g_top_name", "reg_g_top_change", "reg_g_corr_pub")


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
