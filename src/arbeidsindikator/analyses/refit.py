"""The report's refit bootstrap (appendix C), robust to rank-deficient replicates.

Split from :mod:`arbeidsindikator.analyses.uncertainty`, which uses it as the reference method
where it runs (it refits the main model for every replicate: hours at full scale).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

from arbeidsindikator.estimation import Design, DesignError, FitResult, SeparationWarning, fit


def _csr(codes: np.ndarray, p: int, values: np.ndarray | None = None) -> sparse.csr_matrix:
    """Sparse design rows (constant + one dummy per non-reference block), rows scaled by ``values``."""
    n = codes.shape[0]
    cols = np.concatenate([np.zeros((n, 1), dtype=np.int64), codes.astype(np.int64)], axis=1)
    keep = cols >= 0
    indptr = np.concatenate([[0], np.cumsum(keep.sum(axis=1))])
    data = np.ones(int(indptr[-1])) if values is None else np.repeat(values, keep.sum(axis=1))
    return sparse.csr_matrix((data, cols[keep], indptr), shape=(n, p))



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
