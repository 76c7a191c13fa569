"""Presentation tables for the book built from fitted models and indicator series.

Nothing here estimates anything; it arranges results of :mod:`models`, :mod:`indicator` and
:mod:`reference` the way the chapters show them.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from arbeidsindikator.panel.covariates import build_covariates, CovariateOptions, regressor_summary
from arbeidsindikator.data.reference import published_coefficients
from arbeidsindikator.indicator.cube import TABLE1_MEASURES, TABLE2_MEASURES


def regressor_table(panel: pd.DataFrame, options: CovariateOptions) -> pd.DataFrame:
    """One row per regressor block: number of levels present, reference level, most frequent level."""
    return regressor_summary(build_covariates(panel, 3, options))


def fit_statistics(fits: Mapping[str, Any]) -> pd.DataFrame:
    """Rows used, rows excluded (outcome not observable), R² or log-likelihood, convergence.

    Run times are left out on purpose: tables must be identical between two builds.
    """
    rows = []
    for outcome, f in fits.items():
        rows.append(
            {
                "outcome": outcome,
                "model": {"ols": "OLS", "probit": "probit (ML)", "lpm": "linear probability"}[f.family],
                "rows used": int(f.nobs),
                "rows excluded (no outcome)": int(f.n_excluded),
                "coefficients": int(len(f.params)),
                "R²": None if f.rsquared is None else round(float(f.rsquared), 4),
                "log-likelihood": None if f.llf is None else round(float(f.llf), 1),
                "converged": bool(f.converged),
            }
        )
    return pd.DataFrame(rows)


def coefficients_wide(fits: Mapping[str, Any]) -> pd.DataFrame:
    """Coefficients of all outcomes side by side (rows = coefficient names, union over outcomes)."""
    return pd.DataFrame({o: f.params for o, f in fits.items()})


def coefficients_vs_published(fits: Mapping[str, Any]) -> pd.DataFrame:
    """Our coefficient and standard error beside table 4's coefficient, for every outcome."""
    ours = coefficients_wide(fits)
    pub = published_coefficients(ours.index)
    out = pd.DataFrame(index=ours.index)
    for o, f in fits.items():
        out[f"{o}"] = ours[o]
        out[f"{o} se"] = f.bse.reindex(ours.index)
        out[f"{o} published"] = pub[o]
    out["table 4 rows"] = pub["published_rows"]
    return out


def agreement_with_published(comparison: pd.DataFrame, outcome: str, min_abs: float = 0.5) -> dict[str, float]:
    """Correlation with table 4 and sign agreement among published |β| > ``min_abs``."""
    d = comparison[[outcome, f"{outcome} published"]].dropna()
    d = d[d.index != "const"]
    big = d[d[f"{outcome} published"].abs() > min_abs]
    return {
        "n_compared": int(len(d)),
        "correlation": float(np.corrcoef(d[outcome], d[f"{outcome} published"])[0, 1]) if len(d) > 2 else float("nan"),
        "n_large": int(len(big)),
        "sign_agreement_large": float((np.sign(big[outcome]) == np.sign(big[f"{outcome} published"])).mean()) if len(big) else float("nan"),
    }


# --- descriptive tables beside the published appendix A tables 1–3 ---------------------------

_T1_MEASURES = {m: (lambda d, f=f: f(d).mean()) for m, f in TABLE1_MEASURES.items()} | {"observations": lambda d: float(len(d))}
_T2_MEASURES = {m: (lambda d, f=f: f(d).mean()) for m, f in TABLE2_MEASURES.items()}


def _by_main_group(panel: pd.DataFrame, measures: dict) -> pd.DataFrame:
    groups = {"all": panel} | {str(g): d for g, d in panel.groupby("hovedgruppe", observed=True)}
    return pd.DataFrame({g: {m: float(f(d)) for m, f in measures.items()} for g, d in groups.items()})


def descriptive_vs_published(panel: pd.DataFrame, table: int) -> pd.DataFrame:
    """Appendix A table 1 (outcomes) or 2 (description) by main group: this build beside the report.

    jobb3/jobb12 'in work' and hours-at-t are computed exactly as the report defines them; the
    measures of table 2 that the analysis panel does not carry (incomes, benefits split) are left out.
    """
    from arbeidsindikator.data.reference import load_table1, load_table2

    return descriptive_beside_published(_by_main_group(panel, _T1_MEASURES if table == 1 else _T2_MEASURES), table)


def descriptive_beside_published(ours: pd.DataFrame, table: int) -> pd.DataFrame:
    """Measures × main groups (``all`` first) of this build beside appendix A table 1 or 2."""
    from arbeidsindikator.data.reference import load_table1, load_table2

    pub = (load_table1() if table == 1 else load_table2()).pivot_table(index="measure", columns="main_group", values="value", observed=True)
    rows = []
    for m in ours.index:
        for g in ours.columns:
            rows.append({"measure": m, "main group": g, "this build": ours.loc[m, g],
                         "published": float(pub.loc[m, g]) if m in pub.index and g in pub.columns else float("nan")})
    return pd.DataFrame(rows)


def table3_vs_published(df: pd.DataFrame) -> pd.DataFrame:
    """Mean outcomes by county (all, young, country group 3) and by service group, beside table 3."""
    from arbeidsindikator.data.reference import load_table3

    pub = load_table3()
    panels = {
        "all": ("fylke", df),
        "young": ("fylke", df[df["ungdomsgaranti"]]),
        "landgruppe3": ("fylke", df[df["landgruppe3"]]),
        "innsatsgruppe": ("innsatsgruppe", df),
    }
    rows = []
    for panel_name, (col, d) in panels.items():
        means = d.groupby(col, observed=True)[["atid3", "jobb3", "atid12", "jobb12"]].mean()
        counts = d.groupby(col, observed=True).size()
        for group, r in means.iterrows():
            rows.append({"panel": panel_name, "group": str(group), "persons-months": int(counts[group]), **r.to_dict()})
    return table3_beside_published(pd.DataFrame(rows))


def table3_beside_published(ours: pd.DataFrame) -> pd.DataFrame:
    """Rows ``panel, group, persons-months, <outcomes>`` of this build beside table 3."""
    from arbeidsindikator.data.reference import load_table3

    pub = load_table3()
    pw = pub.pivot_table(index=["panel", "group"], columns="outcome", values="value", observed=True).add_suffix(" published").reset_index()
    pw["panel"] = pw["panel"].astype(str)
    pw["group"] = pw["group"].astype(str)
    return ours.merge(pw, on=["panel", "group"], how="left")


def truth_recovery(estimated: pd.Series, planted: pd.Series | None) -> tuple[pd.DataFrame, str]:
    """Planted (synthetic ground truth) vs estimated group indicators, and a sentence for the prose.

    Only synthetic data have a truth; for real data the table is empty and the sentence says so.
    The planted effects may be on another scale (e.g. a latent index), so the correlation is the
    yardstick, not equality.
    """
    if planted is None or len(planted) == 0:
        return pd.DataFrame(), "Real data have no planted truth, so this check applies to synthetic builds only."
    t = pd.DataFrame({"planted effect": planted, "estimated indicator": estimated}).dropna()
    r = float(np.corrcoef(t["planted effect"], t["estimated indicator"])[0, 1]) if len(t) > 2 else float("nan")
    return t, (f"The generator planted a contribution for each of the {len(t)} groups; the correlation "
               f"between planted and estimated values is {r:.2f}.")
