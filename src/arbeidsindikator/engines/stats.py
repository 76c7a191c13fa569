"""Sufficient statistics of the main models per partition, and the fit from their sums.

The estimation engine (:mod:`arbeidsindikator.estimation.fitting`) makes every pass over the
rows a *sum* of per-row terms: ``X'X``, ``X'y`` and ``Σw`` (OLS), the probit Newton quantities
(negative Hessian, score, log-likelihood) at the current coefficients, the residual sums
(RSS, TSS) and the sandwich meats. A sum over rows is the sum of the partitions' sums, so any
engine that can run "this kernel on that partition" and add the results can fit the model:
:func:`fit_from_passes` runs the in-process algorithm (same start, Newton steps, step halving,
stopping rule, rank and separation checks, small-sample factors) with the row passes handed to a
callable. The per-partition functions (:func:`partition_pass`) call the estimation kernels on a
partition's :class:`~arbeidsindikator.estimation.Design`. Seed 002 ch. 4 (digest §1.3–1.4).

Scope: unweighted fits (the main models are), ``cov_type`` classical, HC1 or cluster; for
cluster the partitions must hold whole clusters (persons), so per-partition cluster meats add.
Sums are taken in partition order: results equal the in-process fit up to the order of float64
additions (~1e-13 relative).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy import special

# The engine's kernels and finishing helpers: one implementation of every formula.
from arbeidsindikator.estimation import Design, DesignError, FitResult
from arbeidsindikator.estimation._kernels import (
    ACC_CONST,
    ACC_LLF,
    N_ACC,
    _accumulate,
    _finish_gram,
    _k_gram,
    _k_resid,
    _k_sums,
    _kernel_codes,
    _nb_sandwich,
    _parts,
    _ro,
)
from arbeidsindikator.estimation.fitting import _check_rank, _cluster_meat, _solve_pd, _warn_separation
from arbeidsindikator.estimation.results import _Predictor

__all__ = ["PassFn", "fit_from_passes", "partition_pass"]

_EMPTY = np.empty(0)
_EMPTY_MASK = np.empty(0, dtype=bool)

#: ``run(kind, **params) -> list of summed arrays`` over all partitions of one outcome.
PassFn = Callable[..., list]


def partition_pass(kind: str, design: Design, y: np.ndarray, groups: np.ndarray | None = None,
                   chunk_rows: int = 1_000_000, **kw: Any) -> list:
    """One pass of the fit over one partition: the arrays to be summed over partitions.

    ``kind``: ``"sums"`` ([rows used, Σw, Σwy, Σ log w]); ``"normal"`` (X'X upper triangle
    without the constant row, X'y, [Σw]); ``"probit"`` (negative Hessian, score, [llf, Σ weight
    of the constant], and with ``colsums`` the column counts and Σy per column); ``"resid"``
    (meat, [RSS, TSS, llf, meat constant]); ``"cluster"`` (Σ_g s_g s_g', [G]). Every array is a
    sum over the partition's rows (clusters for ``cluster``).
    """
    n = design.n_rows
    codes = _ro(_kernel_codes(design.codes))
    yv = _ro(np.ascontiguousarray(y, dtype=np.float64))
    parts = _parts(n, chunk_rows)
    p = design.n_columns
    if kind == "sums":
        s = np.zeros(4)
        _k_sums(yv, _EMPTY, _EMPTY_MASK, s)
        return [s]
    if n == 0:
        shapes = {"normal": [(p, p), (p,), (1,)],
                  "probit": [(p, p), (p,), (2,), (p if kw.get("colsums") else 0,), (p if kw.get("colsums") else 0,)],
                  "resid": [(p if kw.get("meat_pow") else 0,) * 2, (4,)], "cluster": [(p, p), (1,)]}[kind]
        return [np.zeros(s) for s in shapes]
    if kind == "normal":
        # the engine's one accumulation kernel (_k_gram) with probit off: A = X'X, g = X'y
        A, g, acc, _, _ = _accumulate(_k_gram, (codes, yv, _EMPTY, _EMPTY_MASK, np.zeros(p), False),
                                      [(p, p), (p,), (N_ACC,), (0,), (0,)], parts, n)
        return [A, g, np.array([acc[ACC_CONST]])]
    if kind == "probit":
        pc = p if kw.get("colsums") else 0
        beta = np.ascontiguousarray(kw["beta"], dtype=np.float64)
        H, g, acc, cnt, xy = _accumulate(_k_gram, (codes, yv, _EMPTY, _EMPTY_MASK, beta, True),
                                         [(p, p), (p,), (N_ACC,), (pc,), (pc,)], parts, n)
        return [H, g, np.array([acc[ACC_LLF], acc[ACC_CONST]]), cnt, xy]
    if kind == "resid":
        pm = p if kw["meat_pow"] else 0
        beta = np.ascontiguousarray(kw["beta"], dtype=np.float64)
        return list(_accumulate(_k_resid, (codes, yv, _EMPTY, _EMPTY_MASK, beta, bool(kw["probit"]), float(kw["ybar"]),
                                           int(kw["meat_pow"])), [(pm, pm), (4,)], parts, n))
    if kind == "cluster":
        if groups is None:
            raise ValueError("a cluster pass needs the partition's cluster ids")
        beta = np.ascontiguousarray(kw["beta"], dtype=np.float64)
        M, g = _cluster_meat(codes, yv, _EMPTY, _EMPTY_MASK, np.asarray(groups), n, beta, bool(kw["probit"]), chunk_rows)
        return [M, np.array([float(g)])]
    raise ValueError(f"unknown pass {kind!r}")


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
    if family not in ("ols", "probit", "lpm"):
        raise ValueError(f"family must be one of ('ols', 'probit', 'lpm'), got {family!r}")
    if cov_type not in ("classical", "HC1", "cluster"):
        raise ValueError(f"cov_type must be one of ('classical', 'HC1', 'cluster'), got {cov_type!r}")
    names = list(meta.names)
    p_all = len(names)
    (sums,) = run("sums")
    n_used, sum_w, sum_wy = int(sums[0]), float(sums[1]), float(sums[2])
    if n_used == 0:
        raise DesignError(f"no usable rows for outcome {outcome!r} (all missing, zero weight or masked)")
    N = sum_w
    ybar = sum_wy / sum_w
    probit = family == "probit"

    def hints(A: np.ndarray) -> list[str]:
        out = []
        for b, block in enumerate(meta.blocks):
            cols = np.flatnonzero(meta.col_block == b)
            if cols.size and A[0, 0] - np.diag(A)[cols].sum() <= 1e-12 * A[0, 0]:
                out.append(f"hint: block {block!r} has no used rows at its reference level "
                           f"{meta.categories[b][0]!r} (the first category)")
        return out

    def keep_and_check(A: np.ndarray) -> tuple[np.ndarray, list[str]]:
        keep = np.flatnonzero(np.diag(A) > 0)
        names_k = [names[j] for j in keep]
        _check_rank(A[np.ix_(keep, keep)], names_k, hints(A))
        return keep, names_k

    n_iter = 1
    converged = True
    if not probit:
        A, xy, acc = run("normal")
        A = _finish_gram(A, acc[0])
        keep, names_k = keep_and_check(A)
        beta_k, bread = _solve_pd(A[np.ix_(keep, keep)], xy[keep], "X'WX", names_k)
    else:
        if ybar <= 0.0 or ybar >= 1.0:
            raise DesignError(f"probit outcome {outcome!r} is constant ({ybar:g}) among the used rows")
        beta = np.zeros(p_all)
        beta[0] = special.ndtri(ybar)
        llf_prev = -np.inf
        step_prev = np.zeros(p_all)
        keep = np.arange(p_all)
        names_k = list(names)
        converged = False
        separated: list[str] = []
        n_iter = 0
        halvings = 0
        while True:
            H, g, acc, cnt, cxy = run("probit", beta=beta, colsums=n_iter == 0)
            n_iter += 1
            H = _finish_gram(H, acc[1])
            llf_k = float(acc[0])
            if n_iter == 1:
                keep, names_k = keep_and_check(H)
                separated = _warn_separation(cnt, cxy, keep, names)
            if llf_k < llf_prev - 1e-12 * abs(llf_prev) and halvings < 30 and n_iter < max_iter:
                step_prev /= 2.0
                beta = beta - step_prev
                halvings += 1
                continue
            halvings = 0
            Hk = H[np.ix_(keep, keep)]
            step = np.zeros(p_all)
            step[keep], bread = _solve_pd(Hk, g[keep], "probit information matrix", names_k)
            dmax = float(np.max(np.abs(step)))
            stalled = abs(llf_k - llf_prev) <= 8 * np.finfo(float).eps * abs(llf_k) and dmax <= math.sqrt(tol)
            if separated and abs(llf_k - llf_prev) <= tol * abs(llf_k):
                beta = beta + step
                break
            if dmax <= tol or stalled:
                beta = beta + step
                converged = True
                break
            if n_iter >= max_iter:
                warnings.warn(f"probit for {outcome!r} did not converge in {max_iter} iterations (max |Δβ| {dmax:.3g})",
                              RuntimeWarning, stacklevel=2)
                break
            beta = beta + step
            step_prev = step
            llf_prev = llf_k
        beta_k = beta[keep]
        llf = llf_k

    p = keep.size
    if N <= p:
        raise DesignError(f"{N:g} observations (N) for {p} coefficients: no residual degrees of freedom")
    beta_design = np.full(p_all, np.nan)
    beta_design[keep] = beta_k
    beta_kernel = np.where(np.isnan(beta_design), 0.0, beta_design)
    meat_pow = 1 if cov_type == "HC1" else 0
    rsquared = None
    scale = 1.0
    if not probit or meat_pow:
        M, o = run("resid", beta=beta_kernel, probit=probit, ybar=ybar, meat_pow=meat_pow)
        if not probit:
            rss, tss = float(o[0]), float(o[1])
            rsquared = 1.0 - rss / tss if tss > 0 else float("nan")
            scale = rss / (N - p)
            llf = -0.5 * N * (math.log(2.0 * math.pi * rss / N) + 1.0)
        else:
            llf = float(o[2])
    df_inference = N - p if (not probit and cov_type == "classical") else None
    n_groups = None
    if cov_type == "classical":
        cov = bread * scale if not probit else bread
    elif cov_type == "HC1":
        meat = _finish_gram(M, o[3])[np.ix_(keep, keep)]
        cov = _nb_sandwich(bread, np.ascontiguousarray(meat))
        if not probit:
            cov *= N / (N - p)
    else:
        Mc, G = run("cluster", beta=beta_kernel, probit=probit)
        n_groups = int(round(float(G[0])))
        meat = (np.triu(Mc) + np.triu(Mc, 1).T)[np.ix_(keep, keep)]
        cov = _nb_sandwich(bread, np.ascontiguousarray(meat))
        if n_groups < 2:
            raise ValueError("cluster-robust covariance needs at least 2 clusters")
        cov *= n_groups / (n_groups - 1.0) * (N - 1.0) / (N - p)
    cov = (cov + cov.T) / 2.0
    index = pd.Index(names_k, name="variable")
    predictor = _Predictor(blocks=list(meta.blocks), categories=meta.categories, level_columns=meta.level_columns,
                           design_names=list(names), beta_design=beta_design)
    return FitResult(
        family=family, outcome=outcome,  # type: ignore[arg-type]
        params=pd.Series(beta_k, index=index, name=outcome),
        bse=pd.Series(np.sqrt(np.diag(cov)), index=index, name=outcome),
        cov=pd.DataFrame(cov, index=index, columns=index), cov_type=cov_type,
        nobs=n_used, n_excluded=n_rows - n_used, rsquared=rsquared, llf=llf, converged=converged, n_iter=n_iter,
        weight_kind="frequency", sum_weights=sum_w, df_resid=N - p, df_inference=df_inference, n_groups=n_groups,
        scale=scale, dropped=tuple(names[j] for j in range(p_all) if np.isnan(beta_design[j])), _predictor=predictor,
    )
