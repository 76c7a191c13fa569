"""Fitting the main model: OLS / LPM and probit on an all-dummy design, solvers, separation.

Seed 002 ch. 4 (digest §1.3–1.4): atid3 and atid12 are fitted by OLS, jobb3 and jobb12 by probit
maximum likelihood (the linear probability model, LPM, is alternative 4 of digest §1.8). Every
regressor is a categorical variable entering as dummies with a reference level, so a row of the
design matrix has at most one active column per block plus the constant. This module never forms
the dense ``n × p`` matrix: the design is stored as integer column codes (:class:`Design`) and
hand-written numba kernels accumulate ``X'WX``, ``X'Wy``, the probit Newton quantities, the
sandwich "meat" and the per-cluster score sums directly from the codes, in chunks of rows, in
float64 (see ``shared/docs/performance.md``, row "hand-written sparse kernel"). OLS / LPM with
classical SEs is one pass over the rows (:func:`~arbeidsindikator.estimation._kernels._k_gram`
also returns Σw, Σwy, Σwy², from which RSS and TSS follow unless cancellation would cost
digits); probit is one such pass per Newton iteration plus, for HC1, a residual pass.

Conventions
-----------
* Rows with a missing (NaN) outcome, a zero weight, or outside the design's ``mask`` are not used
  and are counted in :attr:`FitResult.n_excluded`; they are never zero-filled. Predictions are
  still produced for them.
* Levels with no used rows are dropped (:func:`build_design` drops levels empty among the mask
  rows; :func:`fit` additionally drops columns with no used rows). Predicting for a row whose
  level was dropped raises a ``ValueError`` naming the levels.
* Exact collinearity raises :class:`DesignError` naming the aliased columns.
* Weights (``weight_kind``): ``"frequency"`` (default) means each row stands for ``w`` identical
  rows: every result equals the fit on the data with rows duplicated ``w`` times (the bootstrap's
  resample counts). ``"analytic"`` matches statsmodels ``WLS(weights=w)`` for OLS and
  ``GLM(..., var_weights=w)`` for probit. See :func:`fit` for the exact formulas.
* Small-sample corrections follow statsmodels (0.15): OLS classical ``σ² = RSS/(N−p)``; OLS
  ``HC1`` multiplies HC0 by ``N/(N−p)``; probit ``HC1`` is the sandwich *without* correction
  (statsmodels applies none to non-linear models); ``cluster`` multiplies by
  ``G/(G−1)·(N−1)/(N−p)`` for both families. p-values as statsmodels' defaults: Student t with
  ``N−p`` degrees of freedom for the classical OLS/LPM covariance, standard normal for probit and
  for every robust (HC1, cluster) covariance.
* Frequency weights versus statsmodels ``GLM(freq_weights=w)``: identical coefficients, classical
  SEs and probit HC sandwich; statsmodels' GLM applies no HC1 factor to the Gaussian family and
  uses the row count, not Σw, in the cluster factor (its own fit on duplicated rows uses Σw, as
  here).
* Probit: Newton–Raphson on the observed information from the constant-only start
  ``Φ⁻¹(ȳ)`` (its first step is the scaled LPM), with step halving; converged when the largest
  Newton step is below ``tol``. A level whose rows all have the same outcome makes the MLE
  infinite: :class:`SeparationWarning` names it.
* Threads: kernels use numba's thread pool (``NUMBA_NUM_THREADS`` / ``numba.set_num_threads``)
  for inputs of 200,000 rows or more, one thread below. Sums are taken over 16 fixed row
  partitions in a fixed order, so results do not depend on the number of threads; changing
  ``chunk_rows`` changes the order of float64 additions only (differences ~1e-13 relative).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy import special

from arbeidsindikator.estimation._kernels import (
    ACC_CONST,
    ACC_LLF,
    ACC_ROWS,
    ACC_W,
    ACC_WY,
    ACC_WYY,
    N_ACC,
    _accumulate,
    _finish_gram,
    _k_cluster,
    _k_gram,
    _k_resid,
    _k_sums,
    _kernel_codes,
    _nb_chol_solve_inv,
    _nb_cholesky,
    _nb_sandwich,
    _parts,
    _ro,
)
from arbeidsindikator.estimation.design import Design, DesignError, build_design
from arbeidsindikator.estimation.results import CovType, Family, FitResult, WeightKind, _Predictor

__all__ = ["SeparationWarning", "fit", "fit_from_totals"]

_FAMILIES = ("ols", "probit", "lpm")
_COV_TYPES = ("classical", "HC1", "cluster")
_WEIGHT_KINDS = ("frequency", "analytic")

#: A column whose squared residual norm, relative to its own norm, falls below this after
#: projecting on the preceding columns is aliased (1 − R² < 1e-9).
_RANK_TOL = 1e-9


class SeparationWarning(UserWarning):
    """A probit dummy has only 0 or only 1 outcomes: its MLE does not exist (is infinite)."""


def _aliased_columns(A: np.ndarray, tol: float = _RANK_TOL) -> tuple[list[int], np.ndarray]:
    """Columns of a PSD Gram matrix aliased with the columns before them (sequential Cholesky).

    Returns the aliased positions and the diagonal-scaled matrix. Works in column order, so the
    later of two collinear columns is reported (as R's ``lm`` does).
    """
    d = np.sqrt(np.diag(A))
    S = A / np.outer(d, d)
    W = S.copy()
    aliased: list[int] = []
    for k in range(W.shape[0]):
        piv = W[k, k]
        if piv <= tol:
            aliased.append(k)
            W[k, :] = 0.0
            W[:, k] = 0.0
            continue
        col = W[k:, k] / math.sqrt(piv)
        W[k:, k:] -= np.outer(col, col)
    return aliased, S


def _check_rank(A: np.ndarray, names: list[str], hints: list[str]) -> None:
    """Raise DesignError naming aliased columns and what they are collinear with."""
    aliased, S = _aliased_columns(A)
    if not aliased:
        return
    alias_set = set(aliased)
    lines = []
    for j in aliased:
        base = [i for i in range(j) if i not in alias_set]
        coef = np.linalg.lstsq(S[np.ix_(base, base)], S[base, j], rcond=None)[0] if base else np.zeros(0)
        partners = [names[base[t]] for t in np.flatnonzero(np.abs(coef) > 1e-6)]
        lines.append(f"{names[j]} is collinear with {', '.join(partners) if partners else '(nothing: empty column)'}")
    msg = (
        f"design is rank deficient: {len(aliased)} of {len(names)} columns are linear combinations "
        "of earlier columns among the rows used:\n  " + "\n  ".join(lines)
    )
    if hints:
        msg += "\n" + "\n".join(hints)
    raise DesignError(msg)


def _solve_pd(A: np.ndarray, b: np.ndarray, what: str, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """x = A⁻¹b and A⁻¹ for symmetric positive-definite A (Cholesky, in numba).

    Small dense algebra is done in numba rather than LAPACK: a multi-threaded BLAS on a busy
    2-core machine took ~0.1 s per 249 × 249 factorisation (vs < 5 ms) and fought the kernels.
    """
    A = np.ascontiguousarray(A, dtype=np.float64)
    L, bad = _nb_cholesky(A)
    if bad >= 0 or not np.isfinite(A).all():
        _check_rank(A, names, [])
        raise DesignError(f"{what} is not positive definite (numerically singular design)")
    x, inv = _nb_chol_solve_inv(L, np.ascontiguousarray(b, dtype=np.float64))
    return x, inv


def _as_float_vector(v: np.ndarray | pd.Series, n: int, what: str) -> np.ndarray:
    arr = v.to_numpy(dtype=np.float64, na_value=np.nan) if isinstance(v, pd.Series) else np.asarray(v, dtype=np.float64)
    arr = np.ascontiguousarray(arr)
    if arr.shape != (n,):
        raise ValueError(f"{what} must have shape ({n},), got {arr.shape}")
    return arr


def fit(
    X: pd.DataFrame | Design,
    y: np.ndarray | pd.Series,
    *,
    family: Family,
    outcome: str = "y",
    weights: np.ndarray | None = None,
    cov_type: CovType = "classical",
    groups: np.ndarray | None = None,
    chunk_rows: int = 1_000_000,
    tol: float = 1e-10,
    max_iter: int = 50,
    weight_kind: WeightKind = "frequency",
) -> FitResult:
    """Fit OLS / LPM or probit on an all-dummy design (seed 002 ch. 4; digest §1.3, §1.8 alt. 4).

    Parameters
    ----------
    X : DataFrame or Design
        Categorical regressors (first category = reference) or a prebuilt :class:`Design`. A
        DataFrame is encoded with ``mask`` = rows used, so levels without used rows are dropped.
    y : array or Series, length n_rows
        Outcome (hours per week for atid; 0/1 for jobb with probit/lpm). NaN rows are excluded
        and counted in ``n_excluded``.
    family : {"ols", "probit", "lpm"}
        ``lpm`` is OLS on a 0/1 outcome.
    weights : array, optional
        Non-negative row weights; rows with weight 0 are excluded. See ``weight_kind``.
    cov_type : {"classical", "HC1", "cluster"}
        classical: OLS ``σ²(X'WX)⁻¹`` with ``σ² = Σw e²/(N−p)``; probit inverse observed
        information (negative Hessian, as statsmodels ``Probit``). HC1: OLS sandwich times
        ``N/(N−p)``; probit sandwich without correction (statsmodels' "HC1" for non-linear
        models). cluster: sandwich of per-cluster score sums times ``G/(G−1)·(N−1)/(N−p)``
        (statsmodels ``cov_type="cluster"`` with its default ``use_correction=True``).
    groups : array, length n_rows
        Cluster ids (person id) for ``cov_type="cluster"``.
    chunk_rows : int
        Maximum rows per kernel call. Each pass splits the rows into parts (at most
        ``chunk_rows``, otherwise ≥ 65,536 rows and ≤ 32 parts) that run on numba's thread count
        and get their own p × p float64 accumulators; memory beyond the inputs is O(p²) per
        part in flight, independent of n. No dense n × p matrix is ever formed.
    tol : float
        Probit convergence: largest |Δβ| of the Newton step below ``tol``. If a level is
        perfectly separated (:class:`SeparationWarning`) the fit stops once the relative change
        in log-likelihood is below ``tol``, with ``converged=False``.
    max_iter : int
        Maximum probit Newton iterations (step halving counts).
    weight_kind : {"frequency", "analytic"}
        ``frequency``: a row of weight w counts as w identical rows; N = Σw; HC meat uses w·e²;
        every output equals the unweighted fit on duplicated rows (bootstrap resample counts).
        ``analytic``: N = number of used rows, HC meat uses w²·e², as statsmodels ``WLS`` (OLS)
        and ``GLM(..., var_weights=w)`` (probit; its classical covariance is the same for both
        kinds). Cluster score sums use w·e for both kinds.

    Returns
    -------
    FitResult

    Raises
    ------
    DesignError
        Rank-deficient design (message names the aliased columns) or no usable rows.
    """
    return _fit(
        X,
        y,
        family=family,
        outcome=outcome,
        weights=weights,
        cov_type=cov_type,
        groups=groups,
        chunk_rows=chunk_rows,
        tol=tol,
        max_iter=max_iter,
        weight_kind=weight_kind,
    )


def _fit(
    X: pd.DataFrame | Design,
    y: np.ndarray | pd.Series,
    *,
    family: Family,
    outcome: str,
    weights: np.ndarray | None,
    cov_type: CovType,
    groups: np.ndarray | None,
    chunk_rows: int,
    tol: float,
    max_iter: int,
    weight_kind: WeightKind,
) -> FitResult:
    """Implementation of :func:`fit`."""
    if family not in _FAMILIES:
        raise ValueError(f"family must be one of {_FAMILIES}, got {family!r}")
    if cov_type not in _COV_TYPES:
        raise ValueError(f"cov_type must be one of {_COV_TYPES}, got {cov_type!r}")
    if weight_kind not in _WEIGHT_KINDS:
        raise ValueError(f"weight_kind must be one of {_WEIGHT_KINDS}, got {weight_kind!r}")
    if cov_type == "cluster" and groups is None:
        raise ValueError('cov_type="cluster" needs groups (cluster ids, e.g. person id)')
    if cov_type != "cluster" and groups is not None:
        raise ValueError(f'groups given but cov_type={cov_type!r}; use cov_type="cluster"')
    n = X.n_rows if isinstance(X, Design) else len(X)
    yv = _as_float_vector(y, n, "y")
    if np.isinf(yv).any():
        raise ValueError(f"outcome {outcome!r} has infinite values")
    w = np.empty(0)
    if weights is not None:
        w = _as_float_vector(weights, n, "weights")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError("weights must be finite and non-negative")
    if family in ("probit", "lpm"):
        ok = np.isnan(yv) | (yv == 0.0) | (yv == 1.0)
        if not ok.all():
            raise ValueError(f"family={family!r} needs a 0/1 outcome; {outcome!r} has other values")

    if isinstance(X, Design):
        design = X
    else:
        used = ~np.isnan(yv)
        if w.shape[0]:
            used &= w > 0
        design = build_design(X, mask=used)
    mask = _ro(design.mask if design.mask is not None else np.empty(0, dtype=bool))
    codes = _ro(_kernel_codes(design.codes))
    yv = _ro(yv)
    w = _ro(w)
    p_all = design.n_columns
    parts = _parts(n, chunk_rows)

    def totals(kind: str, **kw: object) -> list:
        """The row passes of this design, in process (one numba pass each; see :func:`fit_from_totals`)."""
        beta = kw.get("beta")
        if kind == "sums":
            sums = np.zeros(4)
            _k_sums(yv, w, mask, sums)
            return [sums]
        if kind == "gram":
            pc = p_all if kw["colsums"] else 0
            return _accumulate(_k_gram, (codes, yv, w, mask, beta, bool(kw["probit"])),
                               [(p_all, p_all), (p_all,), (N_ACC,), (pc,), (pc,)], parts, n)
        if kind == "resid":
            pm = p_all if kw["meat_pow"] else 0
            return _accumulate(_k_resid, (codes, yv, w, mask, beta, bool(kw["probit"]), float(kw["ybar"]),
                                          int(kw["meat_pow"])), [(pm, pm), (4,)], parts, n)
        if kind == "cluster":
            M, g = _cluster_meat(codes, yv, w, mask, groups, n, beta, bool(kw["probit"]), chunk_rows)
            return [M, np.array([float(g)])]
        raise ValueError(f"unknown pass {kind!r}")

    return fit_from_totals(totals, design, family=family, outcome=outcome, cov_type=cov_type, tol=tol,
                           max_iter=max_iter, weight_kind=weight_kind, n_rows=n, analytic_weights=bool(w.shape[0]))


def fit_from_totals(
    totals: Callable[..., list],
    meta: Any,
    *,
    family: Family,
    outcome: str,
    cov_type: CovType = "classical",
    tol: float = 1e-10,
    max_iter: int = 50,
    weight_kind: WeightKind = "frequency",
    n_rows: int,
    analytic_weights: bool = False,
) -> FitResult:
    """The fit from the totals of its row passes: start, Newton steps, checks, covariance, result.

    Every pass over the rows is a sum of per-row terms, so whoever can sum them (this process,
    or partitions on a cluster: :mod:`arbeidsindikator.engines`) gets :func:`fit`'s result.
    ``totals(kind, **params)`` returns the pass's arrays summed over all rows:

    * ``"sums"``: ``[[rows used, Σw, Σwy, Σ log w]]``;
    * ``"gram"`` (``beta``, ``probit``, ``colsums``): ``[A, g, acc, cnt, xy]`` of ``_k_gram``
      (X'WX or the probit negative Hessian without the constant row, X'Wy or the score, the
      ``N_ACC`` accumulators, with ``colsums`` Σw and Σwy per column);
    * ``"resid"`` (``beta``, ``probit``, ``ybar``, ``meat_pow``): ``[meat, [RSS, TSS, llf, meat
      constant]]`` of ``_k_resid``;
    * ``"cluster"`` (``beta``, ``probit``): ``[Σ_g s_g s_g' (symmetric), [G]]``.

    ``meta`` is the design's numbering (``names``, ``blocks``, ``categories``,
    ``level_columns``, ``col_block``: a :class:`Design`); ``n_rows`` all rows (for
    ``n_excluded``); ``analytic_weights``: rows carry weights (Σ log w enters the analytic llf).
    Seed 002 ch. 4 (digest §1.3–1.4); the formulas are :func:`fit`'s.
    """
    if family not in _FAMILIES:
        raise ValueError(f"family must be one of {_FAMILIES}, got {family!r}")
    if cov_type not in _COV_TYPES:
        raise ValueError(f"cov_type must be one of {_COV_TYPES}, got {cov_type!r}")
    p_all = len(meta.names)
    probit = family == "probit"
    first = None
    sum_logw = 0.0
    if probit or (weight_kind == "analytic" and analytic_weights):
        # the probit's constant-only start needs ȳ before the first pass; analytic weights Σ log w
        (sums,) = totals("sums")
        n_used, sum_w, sum_wy, sum_logw = int(sums[0]), float(sums[1]), float(sums[2]), float(sums[3])
    if not probit:  # OLS: one pass gives the normal equations and the sums
        first = totals("gram", beta=np.zeros(p_all), probit=False, colsums=False)
        acc0 = first[2]
        n_used, sum_w, sum_wy = int(acc0[ACC_ROWS]), float(acc0[ACC_W]), float(acc0[ACC_WY])
    if n_used == 0:
        raise DesignError(f"no usable rows for outcome {outcome!r} (all missing, zero weight or masked)")
    N = sum_w if weight_kind == "frequency" else float(n_used)
    ybar = sum_wy / sum_w

    def hints(A: np.ndarray) -> list[str]:
        out = []
        for b, block in enumerate(meta.blocks):
            cols = np.flatnonzero(meta.col_block == b)
            if cols.size and A[0, 0] - np.diag(A)[cols].sum() <= 1e-12 * A[0, 0]:
                out.append(
                    f"hint: block {block!r} has no used rows at its reference level "
                    f"{meta.categories[b][0]!r} (the first category)"
                )
        return out

    def keep_and_check(A: np.ndarray) -> tuple[np.ndarray, list[str]]:
        keep = np.flatnonzero(np.diag(A) > 0)
        names_k = [meta.names[j] for j in keep]
        _check_rank(A[np.ix_(keep, keep)], names_k, hints(A))
        return keep, names_k

    n_iter = 1
    converged = True
    if not probit:
        assert first is not None
        A, xy, acc = first[:3]
        A = _finish_gram(A, acc[ACC_CONST])
        keep, names_k = keep_and_check(A)
        beta_k, bread = _solve_pd(A[np.ix_(keep, keep)], xy[keep], "X'WX", names_k)
        sum_wyy = float(acc[ACC_WYY])
    else:
        if ybar <= 0.0 or ybar >= 1.0:
            raise DesignError(f"probit outcome {outcome!r} is constant ({ybar:g}) among the used rows")
        beta = np.zeros(p_all)
        beta[0] = special.ndtri(ybar)
        llf_prev = -np.inf
        step_prev = np.zeros(p_all)
        keep = np.arange(p_all)
        names_k = list(meta.names)
        converged = False
        separated: list[str] = []
        n_iter = 0
        halvings = 0
        while True:
            # column sums for the separation check on the first pass
            H, g, acc, cnt, cxy = totals("gram", beta=beta, probit=True, colsums=n_iter == 0)
            n_iter += 1
            H = _finish_gram(H, acc[ACC_CONST])
            llf_k = float(acc[ACC_LLF])
            if n_iter == 1:
                keep, names_k = keep_and_check(H)
                separated = _warn_separation(cnt, cxy, keep, meta.names)
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
                # No finite MLE: the separated coefficients drift towards ±∞ while the
                # likelihood has converged; stop (converged=False, SeparationWarning given).
                beta = beta + step
                break
            if dmax <= tol or stalled:
                # The last Newton step (< tol) is applied to the coefficients; llf and the
                # information matrix are those of the previous iterate (they differ by O(tol)).
                beta = beta + step
                converged = True
                break
            if n_iter >= max_iter:
                warnings.warn(
                    f"probit for {outcome!r} did not converge in {max_iter} iterations (max |Δβ| {dmax:.3g})",
                    RuntimeWarning,
                    stacklevel=4,
                )
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
    meat_pow = 0
    if cov_type == "HC1":
        meat_pow = 1 if weight_kind == "frequency" else 2
    rsquared = None
    scale = 1.0
    resid_pass = meat_pow > 0
    if not probit:
        # RSS and TSS from the sufficient statistics (y'Wy − β'X'Wy, y'Wy − (Σwy)²/Σw): no second
        # pass over the rows. Used only where cancellation costs at most ~1e-12 relative (both
        # above 1e-4·y'Wy); otherwise, and for HC1 (its meat needs the residuals), the residual
        # pass below computes them.
        rss = sum_wyy - float(beta_k @ xy[keep])
        tss = sum_wyy - sum_wy * sum_wy / sum_w
        resid_pass = resid_pass or min(rss, tss) <= 1e-4 * sum_wyy
    if resid_pass:
        M, o = totals("resid", beta=beta_kernel, probit=probit, ybar=ybar, meat_pow=meat_pow)
        if not probit:
            rss, tss = float(o[0]), float(o[1])
        else:
            llf = float(o[2])
    if not probit:
        rsquared = 1.0 - rss / tss if tss > 0 else float("nan")
        scale = rss / (N - p)
        llf = -0.5 * N * (math.log(2.0 * math.pi * rss / N) + 1.0)
        if weight_kind == "analytic" and analytic_weights:
            llf += 0.5 * sum_logw
    # statsmodels: t distribution only for the non-robust OLS covariance (use_t defaults to
    # False when a robust cov_type is requested); normal otherwise.
    df_inference: float | None = N - p if (not probit and cov_type == "classical") else None
    n_groups = None
    if cov_type == "classical":
        cov = bread * scale if not probit else bread
    elif cov_type == "HC1":
        meat = _finish_gram(M, o[3])[np.ix_(keep, keep)]
        cov = _nb_sandwich(bread, np.ascontiguousarray(meat))
        if not probit:
            cov *= N / (N - p)
    else:
        Mc, G = totals("cluster", beta=beta_kernel, probit=probit)
        n_groups = int(round(float(G[0])))
        meat = Mc[np.ix_(keep, keep)]
        cov = _nb_sandwich(bread, np.ascontiguousarray(meat))
        if n_groups < 2:
            raise ValueError("cluster-robust covariance needs at least 2 clusters")
        cov *= n_groups / (n_groups - 1.0) * (N - 1.0) / (N - p)
    cov = (cov + cov.T) / 2.0
    index = pd.Index(names_k, name="variable")
    params = pd.Series(beta_k, index=index, name=outcome)
    bse = pd.Series(np.sqrt(np.diag(cov)), index=index, name=outcome)
    predictor = _Predictor(
        blocks=list(meta.blocks),
        categories=meta.categories,
        level_columns=meta.level_columns,
        design_names=list(meta.names),
        beta_design=beta_design,
    )
    return FitResult(
        family=family,
        outcome=outcome,
        params=params,
        bse=bse,
        cov=pd.DataFrame(cov, index=index, columns=index),
        cov_type=cov_type,
        nobs=n_used,
        n_excluded=n_rows - n_used,
        rsquared=rsquared,
        llf=llf,
        converged=converged,
        n_iter=n_iter,
        weight_kind=weight_kind,
        sum_weights=sum_w,
        df_resid=N - p,
        df_inference=df_inference,
        n_groups=n_groups,
        scale=scale,
        dropped=tuple(meta.names[j] for j in range(p_all) if np.isnan(beta_design[j])),
        _predictor=predictor,
    )


def _warn_separation(cnt: np.ndarray, xy: np.ndarray, keep: np.ndarray, names: list[str]) -> list[str]:
    """Warn about dummies whose used rows all have the same 0/1 outcome (infinite probit MLE).

    ``cnt`` and ``xy`` are Σw and Σw·y per design column. Returns the offending names.
    """
    bad = [names[j] for j in keep if j > 0 and (xy[j] <= 0.0 or xy[j] >= cnt[j] * (1 - 1e-15))]
    if bad:
        warnings.warn(
            "probit MLE does not exist (perfect separation): every used row at these levels has the "
            f"same outcome: {', '.join(bad)}",
            SeparationWarning,
            stacklevel=5,
        )
    return bad


def _cluster_meat(
    codes: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    mask: np.ndarray,
    groups: np.ndarray | None,
    n: int,
    beta: np.ndarray,
    probit: bool,
    chunk_rows: int,
) -> tuple[np.ndarray, int]:
    """Σ_g s_g s_g' over clusters of the used rows, and the number of clusters G.

    Used rows are sorted by cluster once (skipped when clusters are already contiguous), then a
    kernel sums each cluster's sparse score vector and adds its outer product.
    """
    assert groups is not None
    garr = np.asarray(groups)
    if garr.shape != (n,):
        raise ValueError(f"groups must have shape ({n},), got {garr.shape}")
    used = ~np.isnan(y)
    if mask.shape[0]:
        used &= mask
    if w.shape[0]:
        used &= w != 0
    rows = np.flatnonzero(used)
    del used
    gid, uniques = pd.factorize(garr[rows], sort=False, use_na_sentinel=True)
    if (gid < 0).any():
        raise ValueError("groups has missing values among the used rows")
    n_groups = len(uniques)
    del uniques
    # int32 positions and ids halve the memory of the sort (n < 2**31 rows per design)
    idx_t = np.int32 if n < 2**31 - 1 else np.int64
    rows = rows.astype(idx_t)
    gid = gid.astype(idx_t)
    if not (np.diff(gid) >= 0).all():  # factorize numbers groups by first appearance
        perm = np.argsort(gid, kind="stable")
        rows = rows[perm]
        gid = gid[perm]
        del perm
    p_all = beta.shape[0]
    # parts as for the other passes, each extended to the end of its last cluster
    parts = []
    s = 0
    for _, e in _parts(rows.shape[0], chunk_rows):
        if e <= s:
            continue
        e = int(np.searchsorted(gid, gid[e - 1], side="right"))
        parts.append((s, e))
        s = e
    (M,) = _accumulate(_k_cluster, (codes, y, w, rows, gid, beta, probit), [(p_all, p_all)], parts, n)
    return np.triu(M) + np.triu(M, 1).T, n_groups
