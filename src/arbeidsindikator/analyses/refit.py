"""The report's refit bootstrap (appendix C), robust to rank-deficient replicates.

Split from :mod:`arbeidsindikator.analyses.uncertainty`, which uses it as the reference method
where it runs (it refits the main model for every replicate: hours at full scale).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import pandas as pd

from arbeidsindikator.analyses.influence import Level, _csr, _unit_codes  # noqa: F401 (_csr re-exported)
from arbeidsindikator.estimation import Design, DesignError, FitResult, SeparationWarning, build_design, fit
from arbeidsindikator.panel.covariates import CovariateOptions, build_covariates, horizon_of
from arbeidsindikator.spec import FAMILY


@dataclass
class RefitResult:
    """Replicate monthly group indicators per grouping (G × R) and per-replicate diagnostics."""

    curves: dict[str, np.ndarray]
    failed: int
    aliased: int
    separated: int
    seconds: float


def aliased_columns(design: Design, weights: np.ndarray, used: np.ndarray, tol: float = 1e-9) -> list[int]:
    """Design columns that are linear combinations of earlier ones among the weighted used rows.

    Sequential Cholesky on the scaled weighted Gram matrix (as the engine's rank check); columns
    without used rows are not reported (the engine drops them itself).
    """
    rows = np.flatnonzero(used & (weights > 0))
    X = _csr(design.codes[rows], design.n_columns)
    A = (X.T @ X.multiply(weights[rows][:, None])).toarray()
    dg = np.diag(A).copy()
    live = np.flatnonzero(dg > 0)
    S = A[np.ix_(live, live)] / np.sqrt(np.outer(dg[live], dg[live]))
    out = []
    for k in range(S.shape[0]):
        piv = S[k, k]
        if piv <= tol:
            out.append(int(live[k]))
            S[k, :] = 0.0
            S[:, k] = 0.0
            continue
        c = S[k:, k] / np.sqrt(piv)
        S[k:, k:] -= np.outer(c, c)
    return out


def fit_replicate(design: Design, y: np.ndarray, family: str, outcome: str, w: np.ndarray
                  ) -> tuple[FitResult | None, Design, bool, bool]:
    """Fit one bootstrap replicate; an aliased column is dropped (its rows moved to the reference).

    Dropping a column that is a linear combination of others among the used rows leaves the
    fitted values of those rows unchanged. Returns (fit or None if it still fails, the design
    used for prediction, aliased?, separated?).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SeparationWarning)
        try:
            res = fit(design, y, family=family, outcome=outcome, weights=w)  # type: ignore[arg-type]
            return res, design, False, any(issubclass(c.category, SeparationWarning) for c in caught)
        except DesignError:
            pass
        used = ~np.isnan(y) & (design.mask if design.mask is not None else True)
        bad = aliased_columns(design, w, used)
        if not bad:
            return None, design, True, False
        codes = design.codes.copy()
        codes[np.isin(codes, np.asarray(bad, dtype=codes.dtype))] = -1
        d2 = replace(design, codes=codes)
        try:
            res = fit(d2, y, family=family, outcome=outcome, weights=w)  # type: ignore[arg-type]
        except DesignError:
            return None, d2, True, False
        return res, d2, True, any(issubclass(c.category, SeparationWarning) for c in caught)


def refit_bootstrap(
    df: pd.DataFrame,
    outcome: str,
    options: CovariateOptions,
    *,
    replicates: int,
    seed: int,
    level: Level = "observation",
    groupings: Sequence[str] = ("national",),
    fit_result: FitResult | None = None,
) -> RefitResult:
    """Appendix C: resample rows (or persons) to the original size, refit, predict, regroup.

    Replicates that stay rank deficient after dropping aliased columns are NaN and counted in
    ``failed``; replicates needing the drop in ``aliased``; probit replicates with a separated
    dummy in ``separated`` (their fitted values are still identified).
    """
    t0 = time.perf_counter()
    obs = df[outcome].notna().to_numpy()
    design = build_design(build_covariates(df, horizon_of(outcome), options), mask=obs)
    y = df[outcome].to_numpy(dtype=float)
    family = FAMILY[outcome]
    months_all = pd.DatetimeIndex(df["month"])
    months = pd.DatetimeIndex(sorted(months_all[obs].unique()))
    mi = months.get_indexer(months_all)
    T = len(months)
    ucodes, labels = _unit_codes(df, groupings)
    gids = {g: np.where(obs & (c >= 0), c * T + mi, -1) for g, c in ucodes.items()}
    sizes = {g: len(labels[g]) * T for g in groupings}
    out = refit_design(design, y, family, outcome, df["person_id"].to_numpy(), gids, sizes,
                       replicates=replicates, seed=seed, level=level)
    out.seconds = time.perf_counter() - t0
    return out


def refit_design(design: Design, y: np.ndarray, family: str, outcome: str, person_id: np.ndarray,
                 gids: dict[str, np.ndarray], sizes: dict[str, int], *, replicates: int, seed: int,
                 level: Level = "observation") -> RefitResult:
    """The refit bootstrap on a prebuilt design; ``gids`` map rows to groups (−1: none)."""
    t0 = time.perf_counter()
    obs = ~np.isnan(y) & (design.mask if design.mask is not None else True)
    _, person = np.unique(person_id, return_inverse=True)
    n_persons = int(person.max()) + 1
    rows = np.flatnonzero(obs)
    rng = np.random.default_rng(seed)
    curves = {g: np.full((sizes[g], replicates), np.nan) for g in gids}
    failed = aliased = separated = 0
    for r in range(replicates):
        w = np.zeros(y.size)
        if level == "person":
            w = np.bincount(rng.integers(0, n_persons, n_persons), minlength=n_persons).astype(float)[person]
            w[~obs] = 0.0
        else:
            w[rows] = np.bincount(rng.integers(0, rows.size, rows.size), minlength=rows.size)
        res, d_used, was_aliased, was_sep = fit_replicate(design, y, family, outcome, w)
        aliased += was_aliased
        separated += was_sep
        if res is None:
            failed += 1
            continue
        pred = res.predict(d_used, unseen="nan")
        resid = np.where(w > 0, y - pred, 0.0)
        for g, gid in gids.items():
            sel = gid >= 0
            G = curves[g].shape[0]
            num = np.bincount(gid[sel], weights=(w * resid)[sel], minlength=G)
            den = np.bincount(gid[sel], weights=w[sel], minlength=G)
            with np.errstate(invalid="ignore", divide="ignore"):
                curves[g][:, r] = np.where(den > 0, num / den, np.nan)
    return RefitResult(curves=curves, failed=failed, aliased=aliased, separated=separated,
                       seconds=time.perf_counter() - t0)
