"""Sufficient statistics of the main models per partition, and the fit from their sums.

The estimation engine (:mod:`arbeidsindikator.estimation.fitting`) makes every pass over the
rows a *sum* of per-row terms: ``X'X``, ``X'y`` and ``Σw`` (OLS), the probit Newton quantities
(negative Hessian, score, log-likelihood) at the current coefficients, the residual sums
(RSS, TSS) and the sandwich meats. A sum over rows is the sum of the partitions' sums, so any
engine that can run "this kernel on that partition" and add the results can fit the model:
:func:`fit_from_passes` runs the in-process algorithm (same start, Newton steps, step halving,
stopping rule, rank and separation checks, small-sample factors) with the row passes handed to a
callable (:func:`arbeidsindikator.estimation.fit_from_totals`, the same function the in-process
fit ends in). The per-partition function (:func:`partition_pass`) calls the estimation kernels
on a partition's :class:`~arbeidsindikator.estimation.Design`. Seed 002 ch. 4 (digest §1.3–1.4).

Scope: unweighted fits (the main models are), ``cov_type`` classical, HC1 or cluster; for
cluster the partitions must hold whole clusters (persons), so per-partition cluster meats add.
Sums are taken in partition order: results equal the in-process fit up to the order of float64
additions (~1e-13 relative).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

# The engine's kernels: one implementation of every per-row formula.
from arbeidsindikator.estimation import Design, FitResult, fit_from_totals
from arbeidsindikator.estimation._kernels import N_ACC, _accumulate, _k_gram, _k_resid, _k_sums, _kernel_codes, _parts, _ro
from arbeidsindikator.estimation.fitting import _cluster_meat

__all__ = ["PassFn", "fit_from_passes", "partition_pass"]

_EMPTY = np.empty(0)
_EMPTY_MASK = np.empty(0, dtype=bool)

#: ``run(kind, **params) -> list of summed arrays`` over all partitions of one outcome.
PassFn = Callable[..., list]


def partition_pass(kind: str, design: Design, y: np.ndarray, groups: np.ndarray | None = None,
                   chunk_rows: int = 1_000_000, **kw: Any) -> list:
    """One pass of the fit over one partition: the arrays to be summed over partitions.

    The passes of :func:`arbeidsindikator.estimation.fit_from_totals` (unweighted): ``"sums"``
    ([rows used, Σw, Σwy, Σ log w]); ``"gram"`` (X'X or the probit negative Hessian without the
    constant row, X'y or the score, the accumulators, with ``colsums`` the column counts and Σy
    per column); ``"resid"`` (meat, [RSS, TSS, llf, meat constant]); ``"cluster"``
    (Σ_g s_g s_g', [G]). Every array is a sum over the partition's rows (clusters for ``cluster``).
    """
    n = design.n_rows
    yv = _ro(np.ascontiguousarray(y, dtype=np.float64))
    p = design.n_columns
    if kind == "sums":
        s = np.zeros(4)
        _k_sums(yv, _EMPTY, _EMPTY_MASK, s)
        return [s]
    if kind not in ("gram", "resid", "cluster"):
        raise ValueError(f"unknown pass {kind!r}")
    if n == 0:
        pc = p if kw.get("colsums") else 0
        pm = p if kw.get("meat_pow") else 0
        shapes = {"gram": [(p, p), (p,), (N_ACC,), (pc,), (pc,)], "resid": [(pm, pm), (4,)],
                  "cluster": [(p, p), (1,)]}[kind]
        return [np.zeros(s) for s in shapes]
    codes = _ro(_kernel_codes(design.codes))
    parts = _parts(n, chunk_rows)
    beta = np.ascontiguousarray(kw["beta"], dtype=np.float64)
    probit = bool(kw["probit"])
    if kind == "gram":
        pc = p if kw["colsums"] else 0
        return list(_accumulate(_k_gram, (codes, yv, _EMPTY, _EMPTY_MASK, beta, probit),
                                [(p, p), (p,), (N_ACC,), (pc,), (pc,)], parts, n))
    if kind == "resid":
        pm = p if kw["meat_pow"] else 0
        return list(_accumulate(_k_resid, (codes, yv, _EMPTY, _EMPTY_MASK, beta, probit, float(kw["ybar"]),
                                           int(kw["meat_pow"])), [(pm, pm), (4,)], parts, n))
    if groups is None:
        raise ValueError("a cluster pass needs the partition's cluster ids")
    M, g = _cluster_meat(codes, yv, _EMPTY, _EMPTY_MASK, np.asarray(groups), n, beta, probit, chunk_rows)
    return [M, np.array([float(g)])]


def add_passes(results: list[list]) -> list:
    """Sum per-partition pass results in partition order."""
    total = [np.array(a, dtype=np.float64, copy=True) for a in results[0]]
    for r in results[1:]:
        for t, a in zip(total, r, strict=True):
            t += a
    return total


def fit_from_passes(run: PassFn, meta: Any, *, family: str, outcome: str, cov_type: str = "classical",
                    tol: float = 1e-10, max_iter: int = 50, n_rows: int) -> FitResult:
    """:func:`arbeidsindikator.estimation.fit` (unweighted) with every row pass done by ``run``.

    ``meta`` carries the global design's ``names``, ``blocks``, ``categories``,
    ``level_columns``, ``col_block`` (:class:`~arbeidsindikator.engines.design.GlobalDesign`).
    ``run(kind, **params)`` returns the pass's arrays summed over all partitions (see
    :func:`partition_pass`). ``n_rows`` is the total number of rows (for ``n_excluded``).
    """
    return fit_from_totals(run, meta, family=family, outcome=outcome, cov_type=cov_type,  # type: ignore[arg-type]
                           tol=tol, max_iter=max_iter, n_rows=n_rows)
