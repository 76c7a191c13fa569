"""Estimation engine of the main model: OLS / LPM and probit on an all-dummy design.

Seed 002 ch. 4 (digest §1.3–1.4): atid3 and atid12 are fitted by OLS, jobb3 and jobb12 by probit
maximum likelihood (the linear probability model, LPM, is alternative 4 of digest §1.8). Every
regressor is a categorical variable entering as dummies with a reference level, so a row of the
design matrix has at most one active column per block plus the constant. This module never forms
the dense ``n × p`` matrix: the design is stored as integer column codes (:class:`Design`) and
hand-written numba kernels accumulate ``X'WX``, ``X'Wy``, the probit Newton quantities, the
sandwich "meat" and the per-cluster score sums directly from the codes, in chunks of rows, in
float64 (see ``shared/docs/performance.md``, row "hand-written sparse kernel").

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
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import numba as nb
import numpy as np
import pandas as pd
from scipy import special, stats

__all__ = [
    "CovType",
    "Design",
    "DesignError",
    "Family",
    "FitResult",
    "SeparationWarning",
    "WeightKind",
    "build_design",
    "fit",
]

Family = Literal["ols", "probit", "lpm"]
CovType = Literal["classical", "HC1", "cluster"]
WeightKind = Literal["frequency", "analytic"]

_FAMILIES = ("ols", "probit", "lpm")
_COV_TYPES = ("classical", "HC1", "cluster")
_WEIGHT_KINDS = ("frequency", "analytic")

_T = TypeVar("_T")
#: A column whose squared residual norm, relative to its own norm, falls below this after
#: projecting on the preceding columns is aliased (1 − R² < 1e-9).
_RANK_TOL = 1e-9
#: Reference level marker in :attr:`Design.codes`; levels dropped as empty get ``_UNSEEN``.
_REF = -1
_UNSEEN = -2


class DesignError(ValueError):
    """The design cannot be estimated (e.g. rank deficient); the message names the columns."""


class SeparationWarning(UserWarning):
    """A probit dummy has only 0 or only 1 outcomes: its MLE does not exist (is infinite)."""


# ----------------------------------------------------------------------------------------------
# Design
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Design:
    """Integer-coded all-dummy design matrix, built once and reused across outcomes and families.

    Attributes
    ----------
    codes : ndarray of int32 (or int16, see :func:`build_design`), shape (n_rows, n_blocks), C order
        Per row and block the column index of the active dummy in the full design (column 0 is
        the constant), ``-1`` for the reference level, ``-2`` for a level dropped as empty.
    names : list of str
        Coefficient names: ``"const"``, then ``f"{block}[{level}]"``.
    blocks : list of str
        Regressor (block) names in column order.
    categories : tuple of pandas.Index
        All categories of each block; ``categories[b][0]`` is the reference level.
    level_columns : tuple of ndarray of int32
        Per block, for every category the design column (``-1`` reference, ``-2`` dropped).
    col_block : ndarray of int64
        Block index of every column (``-1`` for the constant).
    dropped_levels : dict
        Block -> levels dropped because they had no (mask) rows.
    mask : ndarray of bool or None
        Rows eligible for estimation (levels were counted among these rows).
    """

    codes: np.ndarray
    names: list[str]
    blocks: list[str]
    categories: tuple[pd.Index, ...] = field(repr=False)
    level_columns: tuple[np.ndarray, ...] = field(repr=False)
    col_block: np.ndarray = field(repr=False)
    dropped_levels: dict[str, list[object]] = field(default_factory=dict)
    mask: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.codes.shape[0])

    @property
    def n_columns(self) -> int:
        """Number of design columns including the constant."""
        return len(self.names)


def build_design(
    X: pd.DataFrame, *, mask: np.ndarray | None = None, code_dtype: str | type[np.integer] = np.int32
) -> Design:
    """Encode categorical regressors as dummy column codes (digest §1.4: every regressor a dummy).

    Parameters
    ----------
    X : DataFrame
        One pandas ``Categorical`` column per regressor; the **first category is the reference
        level** (see :mod:`arbeidsindikator.panel.covariates`). Missing values are not allowed.
    mask : bool array, optional
        Rows eligible for estimation. Levels with no rows among these are dropped (a level with
        no rows at all is always dropped).
    code_dtype : {int32, int16}
        dtype of :attr:`Design.codes`. ``int16`` (up to 32,767 columns) halves the memory of the
        largest array (23 M rows × 18 blocks: 0.8 GB instead of 1.7 GB); results are identical.

    Returns
    -------
    Design

    Raises
    ------
    TypeError
        A column is not categorical (the message names it).
    ValueError
        A column has missing values or no categories, or ``mask`` has the wrong length.
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame of categoricals, got {type(X).__name__}")
    n = len(X)
    if mask is not None:
        mask = np.array(mask, dtype=bool, copy=True)  # the design keeps its own copy
        if mask.shape != (n,):
            raise ValueError(f"mask must have shape ({n},), got {mask.shape}")
    blocks = [str(c) for c in X.columns]
    if len(set(blocks)) != len(blocks):
        raise ValueError(f"duplicate column names in X: {blocks}")
    for col in X.columns:
        if not isinstance(X[col].dtype, pd.CategoricalDtype):
            raise TypeError(
                f"regressor column {col!r} has dtype {X[col].dtype}, expected a pandas Categorical "
                "(first category = reference level; see arbeidsindikator.panel.covariates)"
            )
    dtype = np.dtype(code_dtype)
    if dtype not in (np.dtype(np.int16), np.dtype(np.int32)):
        raise ValueError(f"code_dtype must be int16 or int32, got {dtype}")
    n_levels = sum(len(X[c].cat.categories) for c in X.columns)
    if n_levels > np.iinfo(dtype).max:
        raise ValueError(f"{n_levels} levels do not fit code_dtype {dtype}; use int32")
    codes = np.empty((n, len(blocks)), dtype=dtype)
    block_codes: list[tuple[np.ndarray, np.ndarray]] = []
    names = ["const"]
    col_block = [-1]
    categories: list[pd.Index] = []
    level_columns: list[np.ndarray] = []
    dropped: dict[str, list[object]] = {}
    for b, col in enumerate(X.columns):
        s = X[col]
        cats = s.cat.categories
        if len(cats) == 0:
            raise ValueError(f"regressor column {col!r} has no categories")
        cc = s.cat.codes.to_numpy()
        n_missing = int(np.count_nonzero(cc < 0))
        if n_missing:
            raise ValueError(f"regressor column {col!r} has {n_missing} missing values; recode them as a level")
        counts = np.bincount(cc if mask is None else cc[mask], minlength=len(cats))
        lut = np.full(len(cats), _UNSEEN, dtype=np.int32)
        lut[0] = _REF
        for j in range(1, len(cats)):
            if counts[j] > 0:
                lut[j] = len(names)
                names.append(f"{col}[{cats[j]}]")
                col_block.append(b)
            else:
                dropped.setdefault(str(col), []).append(cats[j])
        block_codes.append((cc, lut.astype(dtype)))
        categories.append(cats)
        level_columns.append(lut)
    # Fill the row-major code matrix in cache-sized row chunks: writing whole strided columns
    # over a multi-GB array was ~8 s per design at 23 M rows.
    step = 16_384
    for s0 in range(0, n, step):
        ch = codes[s0 : s0 + step]
        for b, (cc, lut) in enumerate(block_codes):
            ch[:, b] = lut[cc[s0 : s0 + step]]
    return Design(
        codes=codes,
        names=names,
        blocks=blocks,
        categories=tuple(categories),
        level_columns=tuple(level_columns),
        col_block=np.asarray(col_block, dtype=np.int64),
        dropped_levels=dropped,
        mask=mask,
    )


# ----------------------------------------------------------------------------------------------
# numba kernels. Conventions: `w` is empty when unweighted, `mask` empty when absent; a row is
# used iff (no mask or mask[i]) and y[i] is not NaN and w[i] != 0. Column index lists of a row are
# ascending (blocks occupy ascending column ranges), so pairs (a <= c) fill the upper triangle.
# Each kernel is serial, releases the GIL and adds into the accumulators it is given for rows
# [start, stop); `_accumulate` runs row parts on a thread pool and sums them in a fixed order.
# ----------------------------------------------------------------------------------------------

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@nb.njit(cache=True, inline="always")
def _row_weight(i, y, w, mask):  # type: ignore[no-untyped-def]
    if mask.shape[0] > 0 and not mask[i]:
        return 0.0
    if math.isnan(y[i]):
        return 0.0
    if w.shape[0] > 0:
        return w[i]
    return 1.0


@nb.njit(cache=True, inline="always")
def _active(codes, i, idx):  # type: ignore[no-untyped-def]
    """Fill idx with the active columns of row i (constant first); return their count."""
    idx[0] = 0
    m = 1
    for b in range(codes.shape[1]):
        c = codes[i, b]
        if c >= 0:
            idx[m] = c
            m += 1
    return m


@nb.njit(cache=True, inline="always")
def _xb(beta, idx, m):  # type: ignore[no-untyped-def]
    xb = beta[0]
    for a in range(1, m):
        xb += beta[idx[a]]
    return xb


@nb.njit(cache=True, inline="always")
def _probit_terms(u):  # type: ignore[no-untyped-def]
    """log Φ(u) and the inverse Mills ratio φ(u)/Φ(u), accurate for all u."""
    if u > 0.0:
        tail = 0.5 * math.erfc(u / _SQRT2)  # 1 − Φ(u), accurate in the upper tail
        return math.log1p(-tail), _INV_SQRT_2PI * math.exp(-0.5 * u * u) / (1.0 - tail)
    if u > -37.0:
        cdf = 0.5 * math.erfc(-u / _SQRT2)
        return math.log(cdf), _INV_SQRT_2PI * math.exp(-0.5 * u * u) / cdf
    t = -u
    t2 = 1.0 / (t * t)
    s = 1.0 - t2 * (1.0 - 3.0 * t2 * (1.0 - 5.0 * t2 * (1.0 - 7.0 * t2 * (1.0 - 9.0 * t2))))
    return -0.5 * t * t - math.log(t) - _LOG_SQRT_2PI + math.log(s), t / s


@nb.njit(cache=True, inline="always")
def _add_pairs(ak, idx, m, val):  # type: ignore[no-untyped-def]
    """ak[j, l] += val for active dummy columns j <= l.

    The constant (idx[0]) is skipped: for dummies x_j² = x_j, so its cross products equal the
    diagonal and are filled in by :func:`_finish_gram` (~10 % fewer updates per row).
    """
    for a in range(1, m):
        ia = idx[a]
        for c in range(a, m):
            ak[ia, idx[c]] += val


def _finish_gram(A: np.ndarray, const: float) -> np.ndarray:
    """Complete the constant's row of an upper-triangle Gram accumulator and symmetrize."""
    A[0, 0] = const
    A[0, 1:] = np.diag(A)[1:]
    return np.triu(A) + np.triu(A, 1).T


@nb.njit(cache=True, nogil=True)
def _k_sums(y, w, mask, out):  # type: ignore[no-untyped-def]
    """out += [rows used, Σw, Σw·y, Σ log w]."""
    for i in range(y.shape[0]):
        wi = _row_weight(i, y, w, mask)
        if wi != 0.0:
            out[0] += 1.0
            out[1] += wi
            out[2] += wi * y[i]
            out[3] += math.log(wi)


@nb.njit(cache=True, nogil=True)
def _k_normal(codes, y, w, mask, start, stop, A, xy, acc):  # type: ignore[no-untyped-def]
    """A += X'WX (upper triangle, constant row left to _finish_gram), xy += X'Wy, acc[0] += Σw."""
    idx = np.empty(codes.shape[1] + 1, dtype=np.int64)
    for i in range(start, stop):
        wi = _row_weight(i, y, w, mask)
        if wi == 0.0:
            continue
        m = _active(codes, i, idx)
        wy = wi * y[i]
        for a in range(m):
            xy[idx[a]] += wy
        _add_pairs(A, idx, m, wi)
        acc[0] += wi


@nb.njit(cache=True, nogil=True)
def _k_probit(codes, y, w, mask, beta, start, stop, H, g, acc, cnt, xy):  # type: ignore[no-untyped-def]
    """Probit Newton quantities at beta over rows [start, stop).

    H += Σ w·m(m+u)·xx' (negative Hessian; upper triangle, constant row via acc[1]),
    g += Σ w·q·m·x (score), acc[0] += Σ w·log Φ(u), with q = 2y−1, u = q·xb and m = φ(u)/Φ(u)
    (as statsmodels ``Probit``). If cnt is non-empty also cnt += Σ w·x, xy += Σ w·y·x.
    """
    idx = np.empty(codes.shape[1] + 1, dtype=np.int64)
    colsums = cnt.shape[0] > 0
    for i in range(start, stop):
        wi = _row_weight(i, y, w, mask)
        if wi == 0.0:
            continue
        m = _active(codes, i, idx)
        q = 1.0 if y[i] > 0.5 else -1.0
        u = q * _xb(beta, idx, m)
        logcdf, mills = _probit_terms(u)
        acc[0] += wi * logcdf
        sc = wi * q * mills
        wt = wi * mills * (mills + u)
        for a in range(m):
            g[idx[a]] += sc
        _add_pairs(H, idx, m, wt)
        acc[1] += wt
        if colsums:
            for a in range(m):
                cnt[idx[a]] += wi
                xy[idx[a]] += wi * y[i]


@nb.njit(cache=True, nogil=True)
def _k_resid(codes, y, w, mask, beta, probit, ybar, meat_pow, start, stop, M, acc):  # type: ignore[no-untyped-def]
    """Second pass at the final beta over rows [start, stop).

    OLS: r = y − xb; acc[0] += Σw r², acc[1] += Σw (y − ybar)². Probit: r = q·m (score per unit
    weight); acc[2] += Σw log Φ(u). meat_pow 1: M += Σ w r² xx'; 2: M += Σ w² r² xx' (upper
    triangle, constant row via acc[3]); 0: no meat.
    """
    idx = np.empty(codes.shape[1] + 1, dtype=np.int64)
    for i in range(start, stop):
        wi = _row_weight(i, y, w, mask)
        if wi == 0.0:
            continue
        m = _active(codes, i, idx)
        xb = _xb(beta, idx, m)
        if probit:
            q = 1.0 if y[i] > 0.5 else -1.0
            logcdf, mills = _probit_terms(q * xb)
            acc[2] += wi * logcdf
            r = q * mills
        else:
            r = y[i] - xb
            acc[0] += wi * r * r
            d = y[i] - ybar
            acc[1] += wi * d * d
        if meat_pow > 0:
            c2 = wi * r * r if meat_pow == 1 else wi * wi * r * r
            _add_pairs(M, idx, m, c2)
            acc[3] += c2


@nb.njit(cache=True, nogil=True)
def _k_cluster(codes, y, w, order, gs, beta, probit, start, stop, M):  # type: ignore[no-untyped-def]
    """M += Σ_g s_g s_g' (upper triangle) with s_g = Σ_{i in g} w_i r_i x_i.

    ``order`` lists the used rows sorted by cluster, ``gs`` their cluster ids (non-decreasing);
    [start, stop) must begin and end at cluster boundaries. r is the OLS residual or the probit
    score per unit weight. A cluster's score vector is sparse: only its touched columns enter
    the outer product.
    """
    p = M.shape[0]
    idx = np.empty(codes.shape[1] + 1, dtype=np.int64)
    sv = np.zeros(p)
    seen = np.zeros(p, dtype=np.bool_)
    touched = np.empty(p, dtype=np.int64)
    nt = 0
    for pos in range(start, stop):
        i = order[pos]
        m = _active(codes, i, idx)
        xb = _xb(beta, idx, m)
        if probit:
            q = 1.0 if y[i] > 0.5 else -1.0
            _, mills = _probit_terms(q * xb)
            r = q * mills
        else:
            r = y[i] - xb
        if w.shape[0] > 0:
            r *= w[i]
        for a in range(m):
            j = idx[a]
            if not seen[j]:
                seen[j] = True
                touched[nt] = j
                nt += 1
            sv[j] += r
        if pos + 1 == stop or gs[pos + 1] != gs[pos]:
            ts = np.sort(touched[:nt])
            for a in range(nt):
                ja = ts[a]
                va = sv[ja]
                for c in range(a, nt):
                    M[ja, ts[c]] += va * sv[ts[c]]
            for a in range(nt):
                sv[ts[a]] = 0.0
                seen[ts[a]] = False
            nt = 0


@nb.njit(cache=True, nogil=True)
def _k_linpred(codes, beta, start, stop, out):  # type: ignore[no-untyped-def]
    """out[i] = beta[0] + Σ beta[active] for rows [start, stop); NaN for a dropped level (−2)."""
    for i in range(start, stop):
        xb = beta[0]
        for b in range(codes.shape[1]):
            c = codes[i, b]
            if c >= 0:
                xb += beta[c]
            elif c == _UNSEEN:
                xb = np.nan
        out[i] = xb


#: Below this many rows everything runs in the calling thread: thread hand-off and, on a shared
#: machine, waiting for a busy core cost more than the work.
_PARALLEL_MIN_ROWS = 200_000
#: Row parts per pass (at most; at least 65,536 rows each, at most ``chunk_rows``). The split
#: depends only on the number of rows and ``chunk_rows``, never on the number of threads, and
#: parts are summed in order: results are identical whatever the thread count.
_TARGET_PARTS = 32


def _parts(n: int, chunk_rows: int) -> list[tuple[int, int]]:
    """Row ranges processed by one kernel call each."""
    size = min(max(int(chunk_rows), 1), max(65_536, -(-n // _TARGET_PARTS)))
    return [(s, min(s + size, n)) for s in range(0, n, size)]


def _n_threads(n_rows: int) -> int:
    """Threads for a pass: numba's setting (NUMBA_NUM_THREADS / numba.set_num_threads)."""
    return nb.get_num_threads() if n_rows >= _PARALLEL_MIN_ROWS else 1


def _map_parts(job: Callable[[tuple[int, int]], _T], parts: list[tuple[int, int]], n_rows: int) -> Iterator[_T]:
    """job(part) for every part, results in part order; on a thread pool for large inputs."""
    threads = min(_n_threads(n_rows), len(parts))
    if threads <= 1:
        yield from map(job, parts)
        return
    with ThreadPoolExecutor(max_workers=threads) as ex:
        yield from ex.map(job, parts)


def _accumulate(
    kernel: Callable[..., None],
    args: tuple[object, ...],
    shapes: list[tuple[int, ...]],
    parts: list[tuple[int, int]],
    n_rows: int,
) -> list[np.ndarray]:
    """Run ``kernel(*args, start, stop, *accumulators)`` over parts and sum the accumulators.

    Each part gets fresh float64 accumulators of ``shapes``; totals are summed in part order.
    """

    def job(part: tuple[int, int]) -> list[np.ndarray]:
        accs = [np.zeros(s) for s in shapes]
        kernel(*args, part[0], part[1], *accs)
        return accs

    total: list[np.ndarray] | None = None
    for accs in _map_parts(job, parts, n_rows):
        if total is None:
            total = accs
        else:
            for t, a in zip(total, accs, strict=True):
                t += a
    assert total is not None
    return total


# ----------------------------------------------------------------------------------------------
# Linear algebra helpers
# ----------------------------------------------------------------------------------------------


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


@nb.njit(cache=True)
def _nb_cholesky(A):  # type: ignore[no-untyped-def]
    """Lower Cholesky factor of A, and the index of the first non-positive pivot (−1 if none)."""
    p = A.shape[0]
    L = np.zeros_like(A)
    for j in range(p):
        s = A[j, j]
        for k in range(j):
            s -= L[j, k] * L[j, k]
        if not s > 0.0:
            return L, j
        d = math.sqrt(s)
        L[j, j] = d
        for i in range(j + 1, p):
            t = A[i, j]
            for k in range(j):
                t -= L[i, k] * L[j, k]
            L[i, j] = t / d
    return L, -1


@nb.njit(cache=True)
def _nb_chol_solve_inv(L, b):  # type: ignore[no-untyped-def]
    """Solve (LL')x = b and return x together with (LL')⁻¹."""
    p = L.shape[0]
    # U = L⁻¹ transposed (upper triangular), by forward substitution on the identity
    Linv = np.zeros_like(L)
    for c in range(p):
        Linv[c, c] = 1.0 / L[c, c]
        for i in range(c + 1, p):
            t = 0.0
            for k in range(c, i):
                t -= L[i, k] * Linv[k, c]
            Linv[i, c] = t / L[i, i]
    U = np.ascontiguousarray(Linv.T)
    inv = np.empty_like(L)
    for i in range(p):
        for j in range(i, p):
            t = 0.0
            for k in range(j, p):
                t += U[i, k] * U[j, k]
            inv[i, j] = t
            inv[j, i] = t
    z = np.empty(p)
    for i in range(p):
        t = b[i]
        for k in range(i):
            t -= L[i, k] * z[k]
        z[i] = t / L[i, i]
    x = np.empty(p)
    for i in range(p - 1, -1, -1):
        t = z[i]
        for k in range(i + 1, p):
            t -= L[k, i] * x[k]
        x[i] = t / L[i, i]
    return x, inv


@nb.njit(cache=True)
def _nb_sandwich(B, M):  # type: ignore[no-untyped-def]
    """B M B for symmetric p × p matrices (plain loops)."""
    p = B.shape[0]
    T = np.zeros((p, p))
    for i in range(p):
        for k in range(p):
            bik = B[i, k]
            for j in range(p):
                T[i, j] += bik * M[k, j]
    out = np.zeros((p, p))
    for i in range(p):
        for k in range(p):
            tik = T[i, k]
            for j in range(p):
                out[i, j] += tik * B[k, j]
    return out


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


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Predictor:
    """What is needed to map new data onto the fitted coefficients."""

    blocks: list[str]
    categories: tuple[pd.Index, ...]
    level_columns: tuple[np.ndarray, ...]
    design_names: list[str]
    beta_design: np.ndarray  # per design column; NaN for columns dropped in the fit


@dataclass(frozen=True, eq=False)
class FitResult:
    """Estimates of one outcome (seed 002 ch. 4; digest §1.3).

    ``nobs`` is the number of rows used; ``n_excluded`` the rows of the design not used
    (missing outcome, zero weight or outside the design mask). ``rsquared`` (centred, weighted)
    is None for probit; ``llf`` is the Gaussian log-likelihood for OLS/LPM (as statsmodels OLS /
    WLS) and the probit log-likelihood. ``n_iter`` is 1 for OLS/LPM.

    Besides the interface fields: ``weight_kind``; ``sum_weights`` (Σw over used rows);
    ``df_resid`` (N − p, N = Σw for frequency weights, rows otherwise); ``df_inference``
    (degrees of freedom of the t distribution for p-values, None = normal); ``n_groups``
    (clusters); ``scale`` (σ² for OLS/LPM, 1 for probit); ``dropped`` (design columns with no
    used rows, left out of the fit).
    """

    family: Family
    outcome: str
    params: pd.Series
    bse: pd.Series
    cov: pd.DataFrame
    cov_type: str
    nobs: int
    n_excluded: int
    rsquared: float | None
    llf: float | None
    converged: bool
    n_iter: int
    weight_kind: str = "frequency"
    sum_weights: float = float("nan")
    df_resid: float = float("nan")
    df_inference: float | None = None
    n_groups: int | None = None
    scale: float = 1.0
    dropped: tuple[str, ...] = ()
    _predictor: _Predictor | None = field(default=None, repr=False)

    def linear_predictor(
        self, X: pd.DataFrame | Design, *, chunk_rows: int = 1_000_000, unseen: Literal["raise", "nan"] = "raise"
    ) -> np.ndarray:
        """Linear predictor ``α̂ + Xβ̂`` for every row of ``X`` (float64 array).

        ``X`` is a DataFrame of categoricals with the fitted blocks (matched by level label;
        extra columns are ignored) or a :class:`Design`. A row at a level not estimated in the
        fit (absent from the estimation rows) raises ``ValueError`` naming the levels, or gets
        NaN with ``unseen="nan"``.
        """
        if unseen not in ("raise", "nan"):
            raise ValueError(f'unseen must be "raise" or "nan", got {unseen!r}')
        pr = self._predictor
        if pr is None:
            raise ValueError("this FitResult carries no predictor")
        if isinstance(X, Design):
            beta = self._beta_for_design(X)
            out = np.empty(X.n_rows)
            codes = _ro(_kernel_codes(X.codes))
            parts = _parts(X.n_rows, chunk_rows)
            for _ in _map_parts(lambda se: _k_linpred(codes, beta, se[0], se[1], out), parts, X.n_rows):
                pass
            if unseen == "raise" and np.isnan(out).any():
                self._raise_unseen_design(X, beta)
            return out
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a DataFrame or a Design, got {type(X).__name__}")
        missing = [b for b in pr.blocks if b not in X.columns]
        if missing:
            raise ValueError(f"X lacks regressor columns used in the fit: {missing}")
        luts = []
        for b, block in enumerate(pr.blocks):
            s = X[block]
            if not isinstance(s.dtype, pd.CategoricalDtype):
                raise TypeError(f"regressor column {block!r} has dtype {s.dtype}, expected a pandas Categorical")
            fitted = dict(zip(pr.categories[b], pr.level_columns[b], strict=True))
            lut = np.array([fitted.get(c, _UNSEEN) for c in s.cat.categories], dtype=np.int32)
            lut_cols = np.where(lut >= 0, lut, 0)
            not_fitted = (lut == _UNSEEN) | ((lut >= 0) & np.isnan(pr.beta_design[lut_cols]))
            cc = s.cat.codes.to_numpy()
            if (cc < 0).any():
                raise ValueError(f"regressor column {block!r} has missing values")
            if not_fitted.any():
                counts = np.bincount(cc, minlength=len(lut))
                cats = s.cat.categories
                bad = [(c, int(k)) for c, k, u in zip(cats, counts, not_fitted, strict=True) if u and k > 0]
                if bad and unseen == "raise":
                    raise ValueError(
                        f"levels of {block!r} not seen in the fit (no estimation rows), cannot predict: "
                        + ", ".join(f"{c!r} ({k} rows)" for c, k in bad)
                    )
            luts.append((cc, lut))
        n = len(X)
        out = np.empty(n)
        step = max(int(chunk_rows), 1)
        codes = np.empty((min(step, n), len(luts)), dtype=np.int32)
        for s0 in range(0, n, step):
            e0 = min(s0 + step, n)
            ch = codes[: e0 - s0]
            for b, (cc, lut) in enumerate(luts):
                ch[:, b] = lut[cc[s0:e0]]
            _k_linpred(_ro(ch), pr.beta_design, 0, e0 - s0, out[s0:e0])
        return out

    def predict(
        self, X: pd.DataFrame | Design, *, chunk_rows: int = 1_000_000, unseen: Literal["raise", "nan"] = "raise"
    ) -> np.ndarray:
        """Expected outcome per row: ``xb`` for ols/lpm, ``Φ(xb)`` for probit (digest §1.3).

        Computed for all rows of ``X``, including rows with a missing outcome; ``unseen`` as in
        :meth:`linear_predictor`.
        """
        xb = self.linear_predictor(X, chunk_rows=chunk_rows, unseen=unseen)
        if self.family == "probit":
            special.ndtr(xb, out=xb)
        return xb

    def summary_frame(self) -> pd.DataFrame:
        """Coefficient table as NAV publishes it: coefficient, std_err, t_value, p_value.

        p-values: Student t with :attr:`df_inference` degrees of freedom (classical OLS/LPM),
        standard normal otherwise (probit; robust covariances), as statsmodels' defaults.
        """
        t = self.params / self.bse
        if self.df_inference is None:
            p = 2.0 * stats.norm.sf(np.abs(t))
        else:
            p = 2.0 * stats.t.sf(np.abs(t), self.df_inference)
        return pd.DataFrame(
            {"coefficient": self.params, "std_err": self.bse, "t_value": t, "p_value": p},
            index=self.params.index,
        )

    # -- helpers -------------------------------------------------------------------------------
    def _beta_for_design(self, d: Design) -> np.ndarray:
        pr = self._predictor
        assert pr is not None
        if (
            d.names == pr.design_names
            and d.blocks == pr.blocks
            and all(a.equals(b) for a, b in zip(d.categories, pr.categories, strict=True))
            and all(np.array_equal(a, b) for a, b in zip(d.level_columns, pr.level_columns, strict=True))
        ):
            return pr.beta_design
        if d.blocks != pr.blocks:
            raise ValueError(f"design blocks {d.blocks} differ from the fitted blocks {pr.blocks}")
        for b, block in enumerate(pr.blocks):
            if d.categories[b][0] != pr.categories[b][0]:
                raise ValueError(
                    f"block {block!r}: reference level {d.categories[b][0]!r} differs from the fitted "
                    f"reference {pr.categories[b][0]!r}; predict from the DataFrame instead"
                )
        pos = {name: j for j, name in enumerate(pr.design_names)}
        beta = np.array([pr.beta_design[pos[nm]] if nm in pos else np.nan for nm in d.names])
        return beta

    def _raise_unseen_design(self, d: Design, beta: np.ndarray) -> None:
        bad = []
        for b, block in enumerate(d.blocks):
            lut = d.level_columns[b]
            for j, c in enumerate(d.categories[b]):
                col = lut[j]
                if col == _UNSEEN or (col >= 0 and np.isnan(beta[col])):
                    target = _UNSEEN if col == _UNSEEN else col
                    k = int(np.count_nonzero(d.codes[:, b] == target))
                    if k:
                        bad.append(f"{block}[{c}] ({k} rows)")
        raise ValueError("levels not seen in the fit (no estimation rows), cannot predict: " + ", ".join(bad))


# ----------------------------------------------------------------------------------------------
# fit
# ----------------------------------------------------------------------------------------------


def _as_float_vector(v: np.ndarray | pd.Series, n: int, what: str) -> np.ndarray:
    arr = v.to_numpy(dtype=np.float64, na_value=np.nan) if isinstance(v, pd.Series) else np.asarray(v, dtype=np.float64)
    arr = np.ascontiguousarray(arr)
    if arr.shape != (n,):
        raise ValueError(f"{what} must have shape ({n},), got {arr.shape}")
    return arr


def _kernel_codes(codes: np.ndarray) -> np.ndarray:
    """C-contiguous int16/int32 codes as the kernels expect (copy only if needed)."""
    if codes.dtype in (np.dtype(np.int16), np.dtype(np.int32)):
        return np.ascontiguousarray(codes)
    return np.ascontiguousarray(codes, dtype=np.int32)


def _ro(a: np.ndarray) -> np.ndarray:
    """Read-only view: kernels then see one array type whatever the caller passed (pandas
    returns read-only arrays), so numba compiles (and caches) a single specialization."""
    v = a.view()
    v.flags.writeable = False
    return v


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

    sums = np.zeros(4)
    _k_sums(yv, w, mask, sums)
    n_used, sum_w, sum_wy, sum_logw = int(sums[0]), float(sums[1]), float(sums[2]), float(sums[3])
    if n_used == 0:
        raise DesignError(f"no usable rows for outcome {outcome!r} (all missing, zero weight or masked)")
    N = sum_w if weight_kind == "frequency" else float(n_used)
    ybar = sum_wy / sum_w
    probit = family == "probit"

    def hints(A: np.ndarray) -> list[str]:
        out = []
        for b, block in enumerate(design.blocks):
            cols = np.flatnonzero(design.col_block == b)
            if cols.size and A[0, 0] - np.diag(A)[cols].sum() <= 1e-12 * A[0, 0]:
                out.append(
                    f"hint: block {block!r} has no used rows at its reference level "
                    f"{design.categories[b][0]!r} (the first category)"
                )
        return out

    def keep_and_check(A: np.ndarray) -> tuple[np.ndarray, list[str]]:
        keep = np.flatnonzero(np.diag(A) > 0)
        names_k = [design.names[j] for j in keep]
        _check_rank(A[np.ix_(keep, keep)], names_k, hints(A))
        return keep, names_k

    n_iter = 1
    converged = True
    if not probit:
        A, xy, acc = _accumulate(_k_normal, (codes, yv, w, mask), [(p_all, p_all), (p_all,), (1,)], parts, n)
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
        names_k = list(design.names)
        converged = False
        separated: list[str] = []
        n_iter = 0
        halvings = 0
        while True:
            pc = p_all if n_iter == 0 else 0  # column sums for the separation check, first pass
            H, g, acc, cnt, cxy = _accumulate(
                _k_probit, (codes, yv, w, mask, beta), [(p_all, p_all), (p_all,), (2,), (pc,), (pc,)], parts, n
            )
            n_iter += 1
            H = _finish_gram(H, acc[1])
            llf_k = float(acc[0])
            if n_iter == 1:
                keep, names_k = keep_and_check(H)
                separated = _warn_separation(cnt, cxy, keep, design.names)
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
                    stacklevel=3,
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
    if not probit or meat_pow:
        pm = p_all if meat_pow else 0
        M, o = _accumulate(
            _k_resid, (codes, yv, w, mask, beta_kernel, probit, ybar, meat_pow), [(pm, pm), (4,)], parts, n
        )
        if not probit:
            rss, tss = float(o[0]), float(o[1])
            rsquared = 1.0 - rss / tss if tss > 0 else float("nan")
            scale = rss / (N - p)
            llf = -0.5 * N * (math.log(2.0 * math.pi * rss / N) + 1.0)
            if weight_kind == "analytic" and w.shape[0]:
                llf += 0.5 * sum_logw
        else:
            llf = float(o[2])
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
        meat, n_groups = _cluster_meat(codes, yv, w, mask, groups, n, beta_kernel, probit, chunk_rows)
        meat = meat[np.ix_(keep, keep)]
        cov = _nb_sandwich(bread, np.ascontiguousarray(meat))
        if n_groups < 2:
            raise ValueError("cluster-robust covariance needs at least 2 clusters")
        cov *= n_groups / (n_groups - 1.0) * (N - 1.0) / (N - p)
    cov = (cov + cov.T) / 2.0
    index = pd.Index(names_k, name="variable")
    params = pd.Series(beta_k, index=index, name=outcome)
    bse = pd.Series(np.sqrt(np.diag(cov)), index=index, name=outcome)
    predictor = _Predictor(
        blocks=list(design.blocks),
        categories=design.categories,
        level_columns=design.level_columns,
        design_names=list(design.names),
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
        n_excluded=n - n_used,
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
        dropped=tuple(design.names[j] for j in range(p_all) if np.isnan(beta_design[j])),
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
            stacklevel=4,
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
