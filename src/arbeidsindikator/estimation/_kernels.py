"""numba kernels of the estimation engine: sums over the integer-coded design, in row parts.

The fast path, separate from the API (:mod:`arbeidsindikator.estimation.fitting`). Conventions: `w`
is empty when unweighted, `mask` empty when absent; a row is used iff (no mask or mask[i]) and
y[i] is not NaN and w[i] != 0. Column index lists of a row are ascending (blocks occupy ascending
column ranges), so pairs (a <= c) fill the upper triangle. Each kernel is serial, releases the GIL
and adds into the accumulators it is given for rows [start, stop); :func:`_accumulate` runs row
parts on a thread pool and sums them in a fixed order, so results do not depend on the number of
threads. Small dense algebra (Cholesky, inverse, sandwich) is here too, in numba rather than LAPACK
(see :func:`arbeidsindikator.estimation.fitting._solve_pd`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numba as nb
import numpy as np

#: Reference level marker in the design codes; levels dropped as empty get it (defined here, the
#: lowest layer, so that :mod:`~arbeidsindikator.estimation.design` can use these kernels).
_UNSEEN = -2

_T = TypeVar("_T")

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


#: Slots of the ``acc`` accumulator of :func:`_k_gram`.
ACC_CONST, ACC_ROWS, ACC_W, ACC_WY, ACC_WYY, ACC_LLF = range(6)
N_ACC = 6


@nb.njit(cache=True, inline="always")
def _gram_weights(wi, yi, xb, probit, acc):  # type: ignore[no-untyped-def]
    """A used row's Gram weight ``a`` and vector weight ``s`` (see :func:`_k_gram`); row sums into acc."""
    if probit:
        q = 1.0 if yi > 0.5 else -1.0
        u = q * xb
        logcdf, mills = _probit_terms(u)
        acc[ACC_LLF] += wi * logcdf
        av = wi * mills * (mills + u)
        sv = wi * q * mills
    else:
        av = wi
        sv = wi * yi
    acc[ACC_CONST] += av
    acc[ACC_ROWS] += 1.0
    acc[ACC_W] += wi
    acc[ACC_WY] += wi * yi
    acc[ACC_WYY] += wi * yi * yi
    return av, sv


@nb.njit(cache=True, nogil=True)
def _k_gram(codes, y, w, mask, beta, probit, start, stop, A, g, acc, cnt, xy):  # type: ignore[no-untyped-def]
    """One pass of the normal equations (OLS/LPM) or of the probit Newton step, rows [start, stop).

    The one accumulation loop of both families: per used row a weight ``a`` for the Gram matrix
    and a weight ``s`` for the vector, ``A += Σ a·xx'`` (upper triangle; the constant's row is
    completed by :func:`_finish_gram` from ``acc[ACC_CONST] = Σ a``) and ``g += Σ s·x``.

    * OLS (``probit`` False): ``a = w``, ``s = w·y`` — ``A = X'WX``, ``g = X'Wy``.
    * probit at ``beta``: ``a = w·m(m+u)`` (negative Hessian), ``s = w·q·m`` (score), with
      ``q = 2y−1``, ``u = q·xb``, ``m = φ(u)/Φ(u)`` (as statsmodels ``Probit``);
      ``acc[ACC_LLF] += Σ w·log Φ(u)``.

    Both: ``acc[ACC_ROWS]`` rows used, ``acc[ACC_W]`` Σw, ``acc[ACC_WY]`` Σw·y, ``acc[ACC_WYY]``
    Σw·y². If ``cnt`` is non-empty also ``cnt += Σ w·x`` and ``xy += Σ w·y·x`` (column sums for
    the separation check).
    """
    idx = np.empty(codes.shape[1] + 1, dtype=np.int64)
    colsums = cnt.shape[0] > 0
    for i in range(start, stop):
        wi = _row_weight(i, y, w, mask)
        if wi == 0.0:
            continue
        m = _active(codes, i, idx)
        yi = y[i]
        av, sv = _gram_weights(wi, yi, _xb(beta, idx, m) if probit else 0.0, probit, acc)
        for a in range(m):
            g[idx[a]] += sv
        _add_pairs(A, idx, m, av)
        if colsums:
            for a in range(m):
                cnt[idx[a]] += wi
                xy[idx[a]] += wi * yi


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
def _k_fill_codes(ccs, lut, start, stop, out):  # type: ignore[no-untyped-def]
    """out[i, b] = lut[b, ccs[b][i]] for rows [start, stop): the design's codes from the category codes.

    Row-major in cache-sized row blocks (every block of a row written together), one pass.
    """
    step = 4096
    for s0 in range(start, stop, step):
        s1 = min(stop, s0 + step)
        for b in range(out.shape[1]):
            cc = ccs[b]
            for i in range(s0, s1):
                out[i, b] = lut[b, cc[i]]


@nb.njit(cache=True, nogil=True)
def _k_level_counts(ccs, mask, start, stop, counts):  # type: ignore[no-untyped-def]
    """counts[b, k] += rows in [start, stop) (mask rows only, if given) with category code k in block b."""
    for b in range(counts.shape[0]):
        cc = ccs[b]
        if mask.shape[0] > 0:
            for i in range(start, stop):
                if mask[i]:
                    counts[b, cc[i]] += 1.0
        else:
            for i in range(start, stop):
                counts[b, cc[i]] += 1.0


def level_counts(block_codes: list[np.ndarray], n_levels: int, mask: np.ndarray | None) -> np.ndarray:
    """Rows per block and category code (among ``mask`` rows): ``np.bincount`` of every block at once.

    Codes must lie in ``[0, n_levels)``. Counts are exact (float64 sums of ones, < 2**53 rows).
    """
    n = block_codes[0].shape[0] if block_codes else 0
    if n == 0:
        return np.zeros((len(block_codes), n_levels), dtype=np.int64)
    dt = np.result_type(*[c.dtype for c in block_codes])
    ccs = tuple(np.ascontiguousarray(c, dtype=dt) for c in block_codes)
    m = np.empty(0, dtype=bool) if mask is None else np.ascontiguousarray(mask, dtype=bool)
    (counts,) = _accumulate(_k_level_counts, (ccs, m), [(len(ccs), n_levels)], _parts(n, 1 << 30), n)
    return counts.astype(np.int64)


def fill_codes(block_codes: list[np.ndarray], lut: np.ndarray, out: np.ndarray) -> None:
    """Fill the design's code matrix ``out`` (rows × blocks) with ``lut[b, block_codes[b]]``.

    ``block_codes``: per block the non-negative category codes (one array per block); ``lut``
    (blocks × most levels) maps a category code to its design column. Row parts on the
    engine's thread pool (:func:`_map_parts`); the result does not depend on the threads.
    """
    n = out.shape[0]
    if n == 0 or out.shape[1] == 0:
        return
    dt = np.result_type(*[c.dtype for c in block_codes])
    ccs = tuple(np.ascontiguousarray(c, dtype=dt) for c in block_codes)
    lut = np.ascontiguousarray(lut, dtype=out.dtype)

    def job(part: tuple[int, int]) -> None:
        _k_fill_codes(ccs, lut, part[0], part[1], out)

    for _ in _map_parts(job, _parts(n, 1 << 30), n):
        pass


@nb.njit(cache=True, nogil=True)
def _k_fill_block(cc, lut, b, start, stop, out):  # type: ignore[no-untyped-def]
    """out[i, b] = lut[cc[i]] for rows [start, stop): one block's column of the design's codes."""
    for i in range(start, stop):
        out[i, b] = lut[cc[i]]


@nb.njit(cache=True, nogil=True)
def _k_shift_block(b, shift, start, stop, out):  # type: ignore[no-untyped-def]
    """out[i, b] += shift where out[i, b] is a design column (>= 0), rows [start, stop)."""
    for i in range(start, stop):
        if out[i, b] >= 0:
            out[i, b] += shift


def fill_block(cc: np.ndarray, lut: np.ndarray, out: np.ndarray, b: int) -> None:
    """Column ``b`` of the design's code matrix ``out`` := ``lut[cc]`` (row parts on the thread pool)."""
    n = out.shape[0]
    cc = np.ascontiguousarray(cc)
    lut = np.ascontiguousarray(lut, dtype=out.dtype)

    def job(part: tuple[int, int]) -> None:
        _k_fill_block(cc, lut, b, part[0], part[1], out)

    for _ in _map_parts(job, _parts(n, 1 << 30), n):
        pass


def shift_block(out: np.ndarray, b: int, shift: int) -> None:
    """Add ``shift`` to the design columns (codes >= 0) of block ``b`` of ``out``."""
    n = out.shape[0]

    def job(part: tuple[int, int]) -> None:
        _k_shift_block(b, out.dtype.type(shift), part[0], part[1], out)

    for _ in _map_parts(job, _parts(n, 1 << 30), n):
        pass


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
def _nb_matmul(A, B):  # type: ignore[no-untyped-def]
    """A B for p × p matrices (plain loops)."""
    p = A.shape[0]
    out = np.zeros((p, p))
    for i in range(p):
        for k in range(p):
            aik = A[i, k]
            for j in range(p):
                out[i, j] += aik * B[k, j]
    return out


@nb.njit(cache=True)
def _nb_sandwich(B, M):  # type: ignore[no-untyped-def]
    """B M B for symmetric p × p matrices."""
    return _nb_matmul(_nb_matmul(B, M), B)


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
