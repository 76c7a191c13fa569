"""Presentation tables for the book built from fitted models and indicator series.

Nothing here estimates anything; it arranges results of :mod:`models`, :mod:`indicator` and
:mod:`reference` the way the chapters show them.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from .covariates import build_covariates, CovariateOptions
from .reference import published_coefficients


def regressor_table(panel: pd.DataFrame, options: CovariateOptions) -> pd.DataFrame:
    """One row per regressor block: number of levels present, reference level, most frequent level."""
    X = build_covariates(panel, 3, options)
    rows = []
    for block in X.columns:
        s = X[block]
        counts = s.value_counts()
        rows.append(
            {
                "regressor": block,
                "levels in data": int((counts > 0).sum()),
                "reference level": str(s.cat.categories[0]),
                "share at reference": float((s == s.cat.categories[0]).mean()),
                "most frequent level": str(counts.idxmax()),
            }
        )
    return pd.DataFrame(rows)


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
