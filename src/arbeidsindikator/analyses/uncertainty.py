"""Uncertainty of the national indicator curve (seed 002 ch. 4 and appendix C; digest §1.6).

Three approaches, compared in the uncertainty chapter:

* **analytic**: the report's printed formula and the residual-based one (:mod:`indicator`);
* **refit bootstrap** (appendix C): resample, re-estimate the model, recompute expected values
  and the curve; by observation as the report does, or by person (all months of a drawn person
  together), which respects that persons appear in many months (appendix B);
* **multiplier bootstrap**: the first-order (influence-function) expansion of the refit
  bootstrap. With resampling weights ``1 + ξ`` the change of the month-m indicator is
  ``Σ_{i∈m} ξ_i (r_i − I_m)/n_m − D_m H⁻¹ X'(ξ ∘ s)``, where ``r`` are residuals, ``s`` the
  per-row score factors (OLS: residual; probit: generalised residual), ``H⁻¹`` the inverse
  Hessian and ``D_m`` the month's mean derivative of the expected value with respect to β.
  One pass over the data per replicate instead of a refit: the way to thousands of replicates at
  production scale (performance.md).

Every replicate curve is seasonally adjusted with the same windows as the point estimate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import ndtr

from arbeidsindikator.indicator import seasonal
from arbeidsindikator.config import Window
from arbeidsindikator.panel.covariates import CovariateOptions, build_covariates, horizon_of
from arbeidsindikator.spec import FAMILY

Level = Literal["observation", "person"]
Z = {0.5: 0.6744897501960817, 0.8: 1.2815515655446004, 0.95: 1.959963984540054}


@dataclass
class BootstrapResult:
    """Replicate curves (replicates × months) and the point curve, both seasonally adjusted."""

    point: pd.Series
    replicates: pd.DataFrame
    method: str
    seconds: float


def _weights(rng: np.random.Generator, n_rows: int, person_index: np.ndarray | None, n_persons: int) -> np.ndarray:
    """Resample counts: multinomial draw of rows (or persons) to the original size."""
    if person_index is None:
        return np.bincount(rng.integers(0, n_rows, n_rows), minlength=n_rows).astype(float)
    counts = np.bincount(rng.integers(0, n_persons, n_persons), minlength=n_persons).astype(float)
    return counts[person_index]


def _month_curve(month_idx: np.ndarray, n_months: int, resid: np.ndarray, w: np.ndarray) -> np.ndarray:
    num = np.bincount(month_idx, weights=w * resid, minlength=n_months)
    den = np.bincount(month_idx, weights=w, minlength=n_months)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def _adjust_rows(curves: np.ndarray, months: pd.DatetimeIndex, windows: Sequence[Window]) -> np.ndarray:
    """Seasonally adjust every row of a (replicates × months) array."""
    cal = months.month.to_numpy() - 1
    ref = seasonal.reference_mask(months, windows)
    out = curves.copy()
    valid = ~np.isnan(curves)
    use = valid & ref[None, :]
    for c in range(12):
        cm = use & (cal == c)[None, :]
        cnt = cm.sum(axis=1)
        if (cnt == 0).any():
            raise seasonal.SeasonalError(f"no reference month for calendar month {c + 1}")
    tot = np.where(use, curves, 0.0).sum(axis=1) / use.sum(axis=1)
    for c in range(12):
        cm = use & (cal == c)[None, :]
        mc = np.where(cm, curves, 0.0).sum(axis=1) / cm.sum(axis=1)
        out[:, cal == c] -= (mc - tot)[:, None]
    return out


def _setup(df: pd.DataFrame, outcome: str) -> tuple[np.ndarray, pd.DatetimeIndex, np.ndarray, np.ndarray]:
    obs = df[outcome].notna().to_numpy()
    months_all = pd.DatetimeIndex(df["month"])
    months = pd.DatetimeIndex(sorted(months_all[obs].unique()))
    month_idx = months.get_indexer(months_all)
    pid = df["person_id"].to_numpy()
    _, person_index = np.unique(pid, return_inverse=True)
    return obs, months, month_idx, person_index


def _expected_from_codes(design, res) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Expected values from integer codes; levels a replicate did not see contribute zero.

    Such rows have resample weight 0 in that replicate, so they never enter its curve.
    """
    beta = np.zeros(len(design.names))
    beta[[design.names.index(n) for n in res.params.index]] = res.params.to_numpy()
    eta = np.full(design.n_rows, beta[0])
    for b in range(design.codes.shape[1]):
        c = design.codes[:, b]
        eta += np.where(c >= 0, beta[np.maximum(c, 0)], 0.0)
    return ndtr(eta) if res.family == "probit" else eta


def refit_bootstrap(
    df: pd.DataFrame,
    outcome: str,
    options: CovariateOptions,
    windows: Sequence[Window],
    *,
    replicates: int,
    seed: int,
    level: Level = "observation",
    adjust: bool = True,
) -> BootstrapResult:
    """Appendix C: resample to the original size, refit, recompute the national curve."""
    from arbeidsindikator.estimation import build_design, fit

    t0 = time.perf_counter()
    obs, months, month_idx, person_index = _setup(df, outcome)
    design = build_design(build_covariates(df, horizon_of(outcome), options))
    y = df[outcome].to_numpy(dtype=float)
    family = FAMILY[outcome]
    base = fit(design, y, family=family, outcome=outcome)  # type: ignore[arg-type]
    point = _month_curve(month_idx[obs], len(months), (y - base.predict(design))[obs], np.ones(obs.sum()))
    rng = np.random.default_rng(seed)
    n_persons = int(person_index.max()) + 1
    curves = np.empty((replicates, len(months)))
    for r in range(replicates):
        w = _weights(rng, len(df), person_index if level == "person" else None, n_persons)
        res = fit(design, y, family=family, outcome=outcome, weights=w)  # type: ignore[arg-type]
        curves[r] = _month_curve(month_idx[obs], len(months), (y - _expected_from_codes(design, res))[obs], w[obs])
    adj_point = _adjust_rows(point[None, :], months, windows)[0] if adjust else point
    adj = _adjust_rows(curves, months, windows) if adjust else curves
    return BootstrapResult(
        point=pd.Series(adj_point, index=months),
        replicates=pd.DataFrame(adj, columns=months),
        method=f"refit, {level}",
        seconds=time.perf_counter() - t0,
    )


def _csr_chunk(codes: np.ndarray, p: int) -> sparse.csr_matrix:
    """Sparse design rows (constant + one active dummy per non-reference block) from codes."""
    n, k = codes.shape
    cols = np.concatenate([np.zeros((n, 1), dtype=np.int64), codes.astype(np.int64)], axis=1)
    keep = cols >= 0
    counts = keep.sum(axis=1)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return sparse.csr_matrix((np.ones(int(indptr[-1])), cols[keep], indptr), shape=(n, p))


def _month_means_of_x(codes: np.ndarray, month_idx: np.ndarray, d: np.ndarray, n_months: int, p: int) -> np.ndarray:
    """Months × p matrix of mean(d_i · x_i) within each month."""
    D = np.zeros((n_months, p))
    n_m = np.bincount(month_idx, minlength=n_months).astype(float)
    D[:, 0] = np.bincount(month_idx, weights=d, minlength=n_months)
    for b in range(codes.shape[1]):
        c = codes[:, b]
        sel = c >= 0
        D += np.bincount(month_idx[sel] * p + c[sel], weights=d[sel], minlength=n_months * p).reshape(n_months, p)
    return D / n_m[:, None]


def multiplier_bootstrap(
    df: pd.DataFrame,
    outcome: str,
    options: CovariateOptions,
    windows: Sequence[Window],
    *,
    replicates: int,
    seed: int,
    level: Level = "observation",
    adjust: bool = True,
    batch: int = 50,
    chunk_rows: int = 2_000_000,
) -> BootstrapResult:
    """Influence-function (multiplier) bootstrap of the national curve; no refits.

    Replicates are computed ``batch`` at a time as sparse matrix products over row chunks, so
    memory stays bounded (``batch`` × persons multipliers plus one chunk of the design).

    Multipliers ξ are standard normal per row (``observation``) or per person (``person``)
    (Gaussian multiplier bootstrap): mean 0 and variance 1 like the Poisson(1) − 1 weights of
    resampling, so the same first-order variance, and ten times cheaper to draw.
    """
    from arbeidsindikator.estimation import build_design, fit

    t0 = time.perf_counter()
    obs, months, month_idx, person_index = _setup(df, outcome)
    design = build_design(build_covariates(df, horizon_of(outcome), options), mask=obs)
    y = df[outcome].to_numpy(dtype=float)
    family = FAMILY[outcome]
    res = fit(design, y, family=family, outcome=outcome)  # type: ignore[arg-type]
    eta = res.linear_predictor(design, unseen="nan")[obs]
    yo = y[obs]
    codes = np.ascontiguousarray(design.codes[obs])
    mi = month_idx[obs]
    if family == "probit":
        prob = ndtr(eta)
        dens = np.exp(-0.5 * eta**2) / np.sqrt(2 * np.pi)
        resid = yo - prob
        score = dens * resid / np.clip(prob * (1 - prob), 1e-300, None)
        deriv = dens
        hinv_scale = 1.0
    else:
        resid = yo - eta
        score = resid
        deriv = np.ones_like(resid)
        hinv_scale = 1.0 / res.scale
    p = len(design.names)
    pos = np.array([design.names.index(n) for n in res.params.index])
    Hinv = res.cov.to_numpy() * hinv_scale  # (X'X)^-1 for OLS, inverse information for probit
    n_months = len(months)
    D = _month_means_of_x(codes, mi, deriv, n_months, p)[:, pos]
    B = D @ Hinv
    n_m = np.bincount(mi, minlength=n_months).astype(float)
    point = np.bincount(mi, weights=resid, minlength=n_months) / n_m
    centred = resid - point[mi]
    rng = np.random.default_rng(seed)
    unit = person_index[obs] if level == "person" else np.arange(len(resid))
    n_units = int(unit.max()) + 1
    curves = np.empty((replicates, n_months))
    for lo in range(0, replicates, batch):
        b = min(batch, replicates - lo)
        xi = rng.standard_normal((b, n_units))
        G = np.zeros((p, b))
        S = np.zeros((n_months, b))
        for r0 in range(0, len(resid), chunk_rows):
            r1 = min(len(resid), r0 + chunk_rows)
            Xc = _csr_chunk(codes[r0:r1], p)
            M = sparse.csr_matrix((np.ones(r1 - r0), (mi[r0:r1], np.arange(r1 - r0))), shape=(n_months, r1 - r0))
            xr = xi[:, unit[r0:r1]].T  # rows × b
            G += Xc.T @ (xr * score[r0:r1, None])
            S += M @ (xr * centred[r0:r1, None])
        curves[lo : lo + b] = (point[:, None] + S / n_m[:, None] - B @ G[pos]).T
    adj_point = _adjust_rows(point[None, :], months, windows)[0] if adjust else point
    adj = _adjust_rows(curves, months, windows) if adjust else curves
    return BootstrapResult(
        point=pd.Series(adj_point, index=months),
        replicates=pd.DataFrame(adj, columns=months),
        method=f"multiplier, {level}",
        seconds=time.perf_counter() - t0,
    )


def intervals(b: BootstrapResult, levels: Sequence[float] = (0.5, 0.8, 0.95)) -> pd.DataFrame:
    """Point ± z·SE of the replicates for each level, plus percentile 95 % bounds (appendix C)."""
    se = b.replicates.std(axis=0, ddof=1)
    out = pd.DataFrame({"indicator": b.point, "se": se.to_numpy()}, index=b.point.index)
    for lv in levels:
        out[f"lower_{int(lv * 100)}"] = b.point - Z[lv] * out["se"]
        out[f"upper_{int(lv * 100)}"] = b.point + Z[lv] * out["se"]
    out["lower_95_pct"] = b.replicates.quantile(0.025).to_numpy()
    out["upper_95_pct"] = b.replicates.quantile(0.975).to_numpy()
    return out


def se_comparison(results: dict[str, BootstrapResult], analytic: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean standard error of the monthly indicator by method (for the chapter's table).

    Run times are left out: written tables must be identical between two builds. Analytic
    standard errors are those of the unadjusted monthly indicator.
    """
    rows = [{"method": name, "mean SE": float(r.replicates.std(axis=0, ddof=1).mean()), "replicates": len(r.replicates)} for name, r in results.items()]
    if analytic is not None:
        for col, label in (("se_printed", "analytic, printed formula"), ("se_resid", "analytic, residual-based")):
            if col in analytic:
                rows.append({"method": label, "mean SE": float(analytic[col].mean()), "replicates": 0})
    return pd.DataFrame(rows)
