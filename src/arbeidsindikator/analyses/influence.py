"""Person-clustered influence sums over chunks of whole persons (issue 14; issue 11 at full scale).

For group (cell) c = unit × month of a grouping the indicator is ``I_c = Σ_{i∈c} r_i / n_c``
(``r`` the residual of the main model). Its influence function, including the estimated
coefficients, clustered by person p is

    ψ_cp = a_cp − B_c S_p,   a_cp = Σ_{i∈c,i∈p} (r_i − I_c)/n_c,   S_p = Σ_{i∈p} x_i s_i,
    B_c = D_c H⁻¹,           D_c = Σ_{i∈c} d_i x_i / n_c

(``s`` the score factor: OLS the residual, probit ``φ(η)(y−Φ(η))/(Φ(1−Φ))``; ``d`` the derivative
of the expected value, 1 for OLS and ``φ(η)`` for probit — the delta method; ``H⁻¹`` the inverse
Hessian). The covariance of a unit's monthly indicators is
``Σ = AA' − (AS)B' − B(AS)' + BMB'`` with ``M = Σ_p S_p S_p'``, and a multiplier replicate is
``δ_c = Σ_p ψ_cp ξ_p = (Aξ)_c − B_c (S'ξ)``.

Everything needed is a sum over persons, and chunks never split a person, so the sums add up
chunk by chunk. Two passes: pass 1 (bincounts of outcome, residual and person counts — no
design needed) gives ``I_c`` and ``n_c``; pass 2 (numba kernels: ``S_p`` per person, then each
grouping's rows unit by unit, see :func:`_k_pass2`) adds
``D``, ``AS``, the unit blocks of ``AA'`` and ``M``, and, with replicates, the sparse-dense
products ``Aξ`` and ``S'ξ`` for a block of replicates at once. Memory is O(cells × parameters
+ cells × replicates + one chunk), never O(persons).

Observation level (clusters = rows) comes from the same pass: ``AA'`` is then diagonal
(``Σ_i a_ci²`` from the pass-1 sums), ``(AS)_c = Σ_{i∈c} a_ci s_i x_i`` and
``M = Σ_i s_i² x_i x_i'``.

Multipliers ξ are standard normal per cluster, drawn in blocks of cluster ordinals (persons in
person order, or rows in row order) from ``SeedSequence([seed, level, block])``: the same draws
whatever the chunking.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Literal, Sequence

import numba as nb
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import ndtri

from arbeidsindikator.estimation import FitResult

Level = Literal["observation", "person"]
LEVEL_CODE = {"person": 0, "observation": 1}
DRAW_BLOCK = 8192
#: grouping -> (unit column, boolean subset column)
GROUPINGS: dict[str, tuple[str | None, str | None]] = {
    "national": (None, None),
    "county": ("fylke", None),
    "office": ("nav_kontor", None),
    "service_group": ("innsatsgruppe", None),
    "programme": ("tiltak", None),
    "youth_guarantee": (None, "ungdomsgaranti"),
    "country_group_3": (None, "landgruppe3"),
}


def unit_labels(values: pd.Series | np.ndarray) -> np.ndarray:
    """The text label of a unit value (as the interval tables name units)."""
    s = pd.Series(values)
    if isinstance(s.dtype, pd.CategoricalDtype):  # label the categories, not every row
        cats = np.asarray(pd.Series(s.cat.categories).astype(str).to_numpy(), dtype=object)
        codes = s.cat.codes.to_numpy()
        return np.where(codes >= 0, cats[np.clip(codes, 0, None)], "nan") if len(cats) else s.astype(str).to_numpy()
    return s.astype(str).to_numpy()


def _unit_codes(df: pd.DataFrame, groupings: Sequence[str]) -> tuple[dict[str, np.ndarray], dict[str, pd.Index]]:
    codes: dict[str, np.ndarray] = {}
    labels: dict[str, pd.Index] = {}
    for g in groupings:
        col, subset = GROUPINGS[g]
        if col is None:
            c = np.zeros(len(df), dtype=np.int64)
            labels[g] = pd.Index(["Norge"])
        else:
            cat = pd.Categorical(unit_labels(df[col]))
            c = cat.codes.astype(np.int64)
            labels[g] = pd.Index(cat.categories)
        if subset is not None:
            c = np.where(df[subset].to_numpy(dtype=bool), c, -1)
        codes[g] = c
    return codes, labels



@dataclass
class PanelChunk:
    """Observable rows of whole persons: design codes, outcome, expected value, cluster and groups.

    ``codes`` are design column codes of the layout's ``names`` (negative: no column); ``None``
    in pass 1. ``ordinal`` numbers the clusters globally (persons in person order, or rows) and
    picks the multiplier draws; ``person`` is any code constant within a person (consecutive
    rows), used to find person boundaries.
    """

    codes: np.ndarray | None
    y: np.ndarray
    expected: np.ndarray
    person: np.ndarray
    month: np.ndarray  # index into Layout.months
    units: dict[str, np.ndarray]  # grouping -> unit code (−1: row not in the grouping)
    person_ordinal: np.ndarray
    row_ordinal: np.ndarray


@dataclass
class Layout:
    """What the chunks refer to: months, unit labels per grouping, design column names."""

    outcome: str
    family: str
    months: pd.DatetimeIndex
    units: dict[str, pd.Index]
    names: list[str]
    n_clusters: int = 0
    level: str = "person"

    @property
    def tertial_of_month(self) -> np.ndarray:
        """Tertial key (year·3 + Jan–Apr 0 / May–Aug 1 / Sep–Dec 2) of every month."""
        return self.months.year.to_numpy() * 3 + (self.months.month.to_numpy() - 1) // 4


@dataclass
class GroupSums:
    """Per grouping: group g = unit × month (``unit * T + month``); ``persons`` the distinct
    clusters per unit; ``clusters_*`` the effective number of clusters ``(Σ_p n_p)² / Σ_p n_p²``
    (n_p a cluster's rows) behind a cell, a unit's tertial (keys ``tertial_keys``) and a unit,
    for the few-clusters correction (equal to the distinct count when clusters are balanced)."""

    n: np.ndarray
    sy: np.ndarray
    syy: np.ndarray
    sr: np.ndarray
    srr: np.ndarray
    D: np.ndarray  # G × p, mean d_i x_i
    persons: np.ndarray  # distinct clusters per unit
    blocks: np.ndarray | None = None  # units × T × T: Σ_p a_gp a_hp within each unit
    AS: np.ndarray | None = None
    Axi: np.ndarray | None = None
    clusters_cell: np.ndarray | None = None
    clusters_tertial: np.ndarray | None = None  # units × tertials
    tertial_keys: np.ndarray | None = None
    clusters_unit: np.ndarray | None = None

    @property
    def indicator(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.sr / self.n


@dataclass
class Influence:
    """Accumulated influence-function pieces of one outcome at one clustering level."""

    layout: Layout
    Hinv: np.ndarray
    M: np.ndarray
    groups: dict[str, GroupSums]
    Sxi: np.ndarray | None = None
    replicates: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def B(self, g: str) -> np.ndarray:
        """D_g H⁻¹ for every group of a grouping (G × p)."""
        return self.groups[g].D @ self.Hinv


def _csr(codes: np.ndarray, p: int, values: np.ndarray | None = None) -> sparse.csr_matrix:
    """Sparse design rows (constant + one dummy per non-reference block), rows scaled by ``values``."""
    n = codes.shape[0]
    cols = np.concatenate([np.zeros((n, 1), dtype=np.int64), codes.astype(np.int64)], axis=1)
    keep = cols >= 0
    indptr = np.concatenate([[0], np.cumsum(keep.sum(axis=1))])
    data = np.ones(int(indptr[-1])) if values is None else np.repeat(values, keep.sum(axis=1))
    return sparse.csr_matrix((data, cols[keep], indptr), shape=(n, p))


def hinv(res: FitResult, names: list[str]) -> np.ndarray:
    """Inverse Hessian over the layout's columns (zero rows/columns for columns not in the fit)."""
    index = {n: k for k, n in enumerate(names)}
    pos = np.array([index[n] for n in res.params.index])
    H = np.zeros((len(names), len(names)))
    scale = res.scale if res.family != "probit" else 1.0
    H[np.ix_(pos, pos)] = res.cov.to_numpy() / scale
    return H


def row_terms(y: np.ndarray, expected: np.ndarray, family: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Residual r, score factor s and derivative d of the expected value per row."""
    r = y - expected
    if family == "probit":
        p = np.clip(expected, 1e-300, 1 - 1e-16)
        eta = ndtri(p)
        d = np.exp(-0.5 * eta**2) / np.sqrt(2 * np.pi)
        s = d * r / (p * (1 - p))
    else:
        d = np.ones_like(r)
        s = r
    return r, s, d


class Draws:
    """Standard normal multipliers per cluster ordinal, independent of how rows are chunked."""

    def __init__(self, seed: int, level: Level, replicates: int) -> None:
        self.seed, self.level, self.R = seed, LEVEL_CODE[level], replicates
        self._cache: dict[int, np.ndarray] = {}

    def block(self, b: int) -> np.ndarray:
        if b not in self._cache:
            if len(self._cache) > 2:
                self._cache.pop(min(self._cache))
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, self.level, b]))
            self._cache[b] = rng.standard_normal((DRAW_BLOCK, self.R))
        return self._cache[b]

    def rows(self, ordinals: np.ndarray) -> np.ndarray:
        """Draws (len(ordinals) × R) for ascending cluster ordinals."""
        out = np.empty((ordinals.size, self.R))
        if ordinals.size == 0:
            return out
        blk = ordinals // DRAW_BLOCK
        cuts = np.flatnonzero(np.r_[True, blk[1:] != blk[:-1], True])
        for a, b in zip(cuts[:-1], cuts[1:]):
            out[a:b] = self.block(int(blk[a]))[ordinals[a:b] % DRAW_BLOCK]
        return out


@nb.njit(cache=True, nogil=True)
def _k_scores(codes, s, starts, M):  # type: ignore[no-untyped-def]
    """Per person (rows starts[k]..starts[k+1]) the score S_p = Σ x_i s_i as a sparse vector
    (columns ``col[ptr[k]:ptr[k+1]]`` in order of first appearance, values ``val``), and
    M += S_p S_p'."""
    p = M.shape[0]
    nbk = codes.shape[1]
    P = starts.shape[0] - 1
    scratch = np.zeros(p)
    mark = np.zeros(p, dtype=np.bool_)
    nz = np.empty(p, dtype=np.int64)
    ptr = np.zeros(P + 1, dtype=np.int64)
    for k in range(P):  # distinct columns per person
        m = 1
        mark[0] = True
        nz[0] = 0
        for i in range(starts[k], starts[k + 1]):
            for q in range(nbk):
                c = codes[i, q]
                if c >= 0 and not mark[c]:
                    mark[c] = True
                    nz[m] = c
                    m += 1
        for u in range(m):
            mark[nz[u]] = False
        ptr[k + 1] = ptr[k] + m
    col = np.empty(ptr[P], dtype=np.int64)
    val = np.empty(ptr[P])
    for k in range(P):
        m = 1
        mark[0] = True
        nz[0] = 0
        for i in range(starts[k], starts[k + 1]):
            scratch[0] += s[i]
            for q in range(nbk):
                c = codes[i, q]
                if c >= 0:
                    if not mark[c]:
                        mark[c] = True
                        nz[m] = c
                        m += 1
                    scratch[c] += s[i]
        for u in range(m):
            cu = nz[u]
            su = scratch[cu]
            for v in range(m):
                M[cu, nz[v]] += su * scratch[nz[v]]
        o = ptr[k]
        for u in range(m):
            col[o + u] = nz[u]
            val[o + u] = scratch[nz[u]]
            scratch[nz[u]] = 0.0
            mark[nz[u]] = False
    return ptr, col, val


@nb.njit(cache=True, nogil=True)
def _k_obs_m(codes, s, Mo):  # type: ignore[no-untyped-def]
    """Observation level: Mo += Σ_i s_i² x_i x_i'."""
    nbk = codes.shape[1]
    rc = np.empty(nbk + 1, dtype=np.int64)
    for i in range(codes.shape[0]):
        nr = 1
        rc[0] = 0
        for q in range(nbk):
            c = codes[i, q]
            if c >= 0:
                rc[nr] = c
                nr += 1
        s2 = s[i] * s[i]
        for u in range(nr):
            for v in range(nr):
                Mo[rc[u], rc[v]] += s2


@nb.njit(cache=True, nogil=True)
def _k_pass2(codes, s, d, a, unit, month, starts, ptr, col, val, D3, AS3, ASo3, blocks):  # type: ignore[no-untyped-def]
    """Per grouping q and row i with unit u = unit[i, q] ≥ 0 in month t (arrays laid out
    unit × column × month): D3[u, :, t] += d_i x_i, ASo3[u, :, t] += a_iq s_i x_i,
    AS3[u, :, t] += a_iq S_p (S_p from :func:`_k_scores`), and the unit's month block
    += a_iq a_jq over the person's rows j in the same unit.

    The rows of each grouping are visited unit by unit (a stable counting sort), so one unit's
    sums (3 × p × T values) stay in cache instead of every unit's scattering over C × p arrays;
    within a unit the rows keep their order, so every sum adds the same terms in the same order
    as a visit in row order (identical to the bit). A person's rows in one unit are consecutive
    after the sort (chunks hold whole persons in consecutive rows)."""
    n = codes.shape[0]
    Q = unit.shape[1]
    nbk = codes.shape[1]
    U = blocks.shape[0]
    P = starts.shape[0] - 1
    pk = np.empty(n, dtype=np.int64)
    for k in range(P):
        for i in range(starts[k], starts[k + 1]):
            pk[i] = k
    cnt = np.zeros(U + 1, dtype=np.int64)
    pos = np.empty(U, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    for q in range(Q):
        cnt[:] = 0
        for i in range(n):
            if unit[i, q] >= 0:
                cnt[unit[i, q] + 1] += 1
        for u in range(U):
            cnt[u + 1] += cnt[u]
            pos[u] = cnt[u]
        m = cnt[U]
        for i in range(n):
            uq = unit[i, q]
            if uq >= 0:
                order[pos[uq]] = i
                pos[uq] += 1
        r = 0
        while r < m:
            i0 = order[r]
            uq = unit[i0, q]
            k = pk[i0]
            e = r + 1
            while e < m and pk[order[e]] == k and unit[order[e], q] == uq:
                e += 1
            for x in range(r, e):  # the person's rows in unit uq
                i = order[x]
                mi = month[i]
                ai = a[i, q]
                di = d[i]
                asi = ai * s[i]
                D3[uq, 0, mi] += di
                ASo3[uq, 0, mi] += asi
                for b in range(nbk):
                    c = codes[i, b]
                    if c >= 0:
                        D3[uq, c, mi] += di
                        ASo3[uq, c, mi] += asi
                for t in range(ptr[k], ptr[k + 1]):
                    AS3[uq, col[t], mi] += ai * val[t]
                blocks[uq, mi, mi] += ai * ai
                for y in range(x + 1, e):  # by symmetry: one product for both (t, t') and (t', t)
                    j = order[y]
                    v = ai * a[j, q]
                    mj = month[j]
                    blocks[uq, mi, mj] += v
                    blocks[uq, mj, mi] += v
            r = e


@nb.njit(cache=True, nogil=True)
def _k_a(r, unit, month, T, I, inv_n, a):  # type: ignore[no-untyped-def]
    """a[i, q] = (r_i − I_c) / n_c for the row's cell c = unit·T + month (0 outside the grouping)."""
    for i in range(unit.shape[0]):
        for q in range(unit.shape[1]):
            u = unit[i, q]
            if u >= 0:
                c = u * T + month[i]
                a[i, q] = (r[i] - I[c]) * inv_n[c]
            else:
                a[i, q] = 0.0


def _cluster_counts(keys: np.ndarray, persons: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per key (keys ≥ 0): distinct persons G and Σ_p n_p² (n_p the person's rows); rows of a
    person are consecutive."""
    G, S = np.zeros(size), np.zeros(size)
    starts = np.flatnonzero(np.r_[True, persons[1:] != persons[:-1], True]).astype(np.int64)
    _k_count(np.ascontiguousarray(keys, dtype=np.int64), starts, G, S)
    return G, S


@nb.njit(cache=True, nogil=True)
def _k_count(keys, starts, G, S):  # type: ignore[no-untyped-def]
    """Per person (rows starts[k]..starts[k+1]) and distinct key v ≥ 0 with c rows: G[v] += 1, S[v] += c².

    The person's keys are insertion-sorted in one reused buffer (a person has few rows; an
    ``np.sort`` per person allocated ~1.5 M small arrays per key column at full scale)."""
    big = 0
    for k in range(starts.shape[0] - 1):
        big = max(big, starts[k + 1] - starts[k])
    buf = np.empty(big, dtype=keys.dtype)
    for k in range(starts.shape[0] - 1):
        m = 0
        for i in range(starts[k], starts[k + 1]):
            v = keys[i]
            if v < 0:
                continue
            j = m
            while j > 0 and buf[j - 1] > v:
                buf[j] = buf[j - 1]
                j -= 1
            buf[j] = v
            m += 1
        prev = -1
        run = 0
        for t in range(m):
            v = buf[t]
            if v == prev:
                run += 1
            else:
                if prev >= 0:
                    G[prev] += 1
                    S[prev] += run * run
                prev = v
                run = 1
        if prev >= 0:
            G[prev] += 1
            S[prev] += run * run


@nb.njit(cache=True, nogil=True)
def _k_pass1(y, r, unit, month, T, tidx, NT, starts, n, sy, syy, sr, srr, Gc, Sc, Gu, Su, Gt, St):  # type: ignore[no-untyped-def]
    """Pass 1 over whole persons: per cell (unit·T + month) counts, outcome and residual sums and
    squares; per cell, unit and unit-tertial (unit·NT + tidx[month]) the distinct persons and
    Σ_p n_p² (one key column at a time in one buffer)."""
    Q = unit.shape[1]
    N = y.shape[0]
    for i in range(N):
        for q in range(Q):
            u = unit[i, q]
            if u >= 0:
                c = u * T + month[i]
                n[c] += 1.0
                sy[c] += y[i]
                syy[c] += y[i] * y[i]
                sr[c] += r[i]
                srr[c] += r[i] * r[i]
    keys = np.empty(N, dtype=np.int64)
    for q in range(Q):
        for kind in range(3):
            for i in range(N):
                u = unit[i, q]
                if u < 0:
                    keys[i] = -1
                elif kind == 0:
                    keys[i] = u * T + month[i]
                elif kind == 1:
                    keys[i] = u
                else:
                    keys[i] = u * NT + tidx[month[i]]
            if kind == 0:
                _k_count(keys, starts, Gc, Sc)
            elif kind == 1:
                _k_count(keys, starts, Gu, Su)
            else:
                _k_count(keys, starts, Gt, St)


class Accumulator:
    """Influence sums of one outcome over chunks of whole persons (see the module docstring).

    Use: ``add_cells`` every chunk (pass 1), then ``add`` every chunk (pass 2), then ``finish``.
    ``replicates``: multiplier replicates by person; ``obs_replicates``: by row (0: none).
    """

    def __init__(self, layout: Layout, res: FitResult, *, replicates: int = 0, obs_replicates: int = 0,
                 seed: int = 0, levels: tuple[Level, ...] = ("person", "observation")) -> None:
        self.layout, self.res, self.levels = layout, res, levels
        self.R, self.Ro = replicates, (obs_replicates if "observation" in levels else 0)
        self.p = len(layout.names)
        self.T = T = len(layout.months)
        self.gnames = list(layout.units)
        nu = [len(layout.units[g]) for g in self.gnames]
        self.uoff = dict(zip(self.gnames, np.r_[0, np.cumsum(nu)[:-1]].astype(np.int64)))
        self.U = int(sum(nu))
        self.C = self.U * T
        tk = layout.tertial_of_month
        self.tkeys, self.tidx = np.unique(tk, return_inverse=True)
        C, U = self.C, self.U
        self.n, self.sy, self.syy, self.sr, self.srr = (np.zeros(C) for _ in range(5))
        self.pers_cell, self.pers_unit = np.zeros(C), np.zeros(U)
        self.pers_tert = np.zeros(U * len(self.tkeys))
        self.sq_cell, self.sq_unit, self.sq_tert = np.zeros(C), np.zeros(U), np.zeros(U * len(self.tkeys))
        self.draws = Draws(seed, "person", replicates) if replicates else None
        self.draws_o = Draws(seed, "observation", self.Ro) if self.Ro else None
        self.seconds = {"pass1": 0.0, "pass2": 0.0, "multiplier": 0.0}
        self._started = False

    def _units(self, ch: PanelChunk) -> np.ndarray:
        """rows × groupings global unit codes (−1: not in the grouping)."""
        unit = np.full((ch.y.size, len(self.gnames)), -1, dtype=np.int64)
        for q, g in enumerate(self.gnames):
            u = ch.units[g]
            ok = u >= 0
            unit[ok, q] = self.uoff[g] + u[ok]
        return unit

    def add_cells(self, ch: PanelChunk) -> None:
        """Pass 1: counts, outcome and residual sums per cell; distinct persons per cell, tertial, unit."""
        if len(ch.y) == 0:  # a chunk without observed rows adds nothing (and has no first person)
            return
        t0 = time.perf_counter()
        unit = self._units(ch)
        r = ch.y - ch.expected
        starts = np.flatnonzero(np.r_[True, ch.person[1:] != ch.person[:-1], True]).astype(np.int64)
        _k_pass1(np.asarray(ch.y, dtype=float), r, unit, np.ascontiguousarray(ch.month, dtype=np.int64), self.T,
                 self.tidx.astype(np.int64), len(self.tkeys), starts, self.n, self.sy, self.syy, self.sr, self.srr,
                 self.pers_cell, self.sq_cell, self.pers_unit, self.sq_unit, self.pers_tert, self.sq_tert)
        self.seconds["pass1"] += time.perf_counter() - t0

    def _start(self) -> None:
        p, C = self.p, self.C
        with np.errstate(invalid="ignore", divide="ignore"):
            self.I = np.where(self.n > 0, self.sr / np.maximum(self.n, 1), 0.0)
        self.inv_n = np.where(self.n > 0, 1.0 / np.maximum(self.n, 1), 0.0)
        # unit × column × month (see _k_pass2); finish returns them as cells × columns
        self.D3, self.AS3, self.ASo3 = (np.zeros((self.U, p, self.T)) for _ in range(3))
        self.blocks = np.zeros((self.U, self.T, self.T))
        self.M, self.Mo = np.zeros((p, p)), np.zeros((p, p))
        self.Axi = np.zeros((C, self.R)) if self.R else None
        self.Sxi = np.zeros((p, self.R)) if self.R else None
        self.Axi_o = np.zeros((C, self.Ro)) if self.Ro else None
        self.Sxi_o = np.zeros((p, self.Ro)) if self.Ro else None
        self.Hinv = hinv(self.res, self.layout.names)
        self._started = True

    def add(self, ch: PanelChunk) -> None:
        """Pass 2: the kernel's sums, and the multiplier products for this chunk."""
        if not self._started:
            self._start()
        if len(ch.y) == 0:  # a chunk without observed rows adds nothing (and has no first person)
            return
        t0 = time.perf_counter()
        assert ch.codes is not None
        unit = self._units(ch)
        month = np.ascontiguousarray(ch.month, dtype=np.int64)
        r, s, d = row_terms(ch.y, ch.expected, self.layout.family)
        a = np.empty(unit.shape)
        _k_a(r, unit, month, self.T, self.I, self.inv_n, a)
        codes = np.ascontiguousarray(ch.codes)
        if codes.dtype not in (np.int32, np.int64):
            codes = codes.astype(np.int64)
        starts = np.flatnonzero(np.r_[True, ch.person[1:] != ch.person[:-1], True]).astype(np.int64)
        ptr, col, val = _k_scores(codes, s, starts, self.M)
        if "observation" in self.levels:
            _k_obs_m(codes, s, self.Mo)
        _k_pass2(codes, s, d, a, unit, month, starts, ptr, col, val, self.D3, self.AS3, self.ASo3, self.blocks)
        t1 = time.perf_counter()
        self.seconds["pass2"] += t1 - t0
        if self.R or self.Ro:
            ok = unit >= 0
            cc = (unit * self.T + month[:, None])[ok]
            rows_q = np.nonzero(ok)
            if self.R:
                local = np.repeat(np.arange(starts.size - 1), np.diff(starts))
                n_loc = starts.size - 1
                xi = self.draws.rows(ch.person_ordinal[starts[:-1]])  # type: ignore[union-attr]
                A = sparse.csr_matrix((a[ok], (cc, local[rows_q[0]])), shape=(self.C, n_loc))
                self.Axi += A @ xi
                S = sparse.csr_matrix((val, col, ptr), shape=(n_loc, self.p))  # the persons' S_p
                self.Sxi += S.T @ xi
            if self.Ro:
                X = _csr(codes, self.p, s)
                xo = self.draws_o.rows(ch.row_ordinal)  # type: ignore[union-attr]
                Ao = sparse.csr_matrix((a[ok], (cc, rows_q[0])), shape=(self.C, ch.y.size))
                self.Axi_o += Ao @ xo
                self.Sxi_o += X.T @ xo
            self.seconds["multiplier"] += time.perf_counter() - t1

    def finish(self) -> dict[str, Influence]:
        """One :class:`Influence` per level, with the per-grouping views of the sums."""
        if not self._started:
            self._start()
        T, NT = self.T, len(self.tkeys)
        p = self.p
        D = self.D3.transpose(0, 2, 1).reshape(self.C, p) * self.inv_n[:, None]
        AS = self.AS3.transpose(0, 2, 1).reshape(self.C, p)
        ASo = self.ASo3.transpose(0, 2, 1).reshape(self.C, p)
        nt_all = np.zeros((self.U, NT))
        np.add.at(nt_all, (slice(None), self.tidx), self.n.reshape(self.U, T))
        nu_all = self.n.reshape(self.U, T).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):  # effective clusters (Σ n_p)² / Σ n_p²
            eff_cell = np.where(self.sq_cell > 0, self.n**2 / self.sq_cell, 0.0)
            eff_tert = np.where(self.sq_tert.reshape(self.U, NT) > 0, nt_all**2 / self.sq_tert.reshape(self.U, NT), 0.0)
            eff_unit = np.where(self.sq_unit > 0, nu_all**2 / self.sq_unit, 0.0)
        out: dict[str, Influence] = {}
        for lv in self.levels:
            groups: dict[str, GroupSums] = {}
            if lv == "observation":
                diag = (self.srr - 2 * self.I * self.sr + self.n * self.I**2) * self.inv_n**2
                blocks = np.zeros_like(self.blocks)
                ii = np.arange(T)
                blocks[:, ii, ii] = diag.reshape(self.U, T)
            for g in self.gnames:
                u0, nu = int(self.uoff[g]), len(self.layout.units[g])
                sl = slice(u0 * T, (u0 + nu) * T)
                n = self.n[sl]
                if lv == "person":
                    gs = GroupSums(n=n, sy=self.sy[sl], syy=self.syy[sl], sr=self.sr[sl], srr=self.srr[sl], D=D[sl],
                                   persons=self.pers_unit[u0:u0 + nu], blocks=self.blocks[u0:u0 + nu], AS=AS[sl],
                                   Axi=self.Axi[sl] if self.R else None, clusters_cell=eff_cell[sl],
                                   clusters_tertial=eff_tert[u0:u0 + nu], tertial_keys=self.tkeys,
                                   clusters_unit=eff_unit[u0:u0 + nu])
                else:
                    nt = np.zeros((nu, NT))
                    np.add.at(nt, (slice(None), self.tidx), n.reshape(nu, T))
                    gs = GroupSums(n=n, sy=self.sy[sl], syy=self.syy[sl], sr=self.sr[sl], srr=self.srr[sl], D=D[sl],
                                   persons=n.reshape(nu, T).sum(axis=1), blocks=blocks[u0:u0 + nu], AS=ASo[sl],
                                   Axi=self.Axi_o[sl] if self.Ro else None, clusters_cell=n, clusters_tertial=nt,
                                   tertial_keys=self.tkeys, clusters_unit=n.reshape(nu, T).sum(axis=1))
                groups[g] = gs
            lay = Layout(self.layout.outcome, self.layout.family, self.layout.months, self.layout.units,
                         self.layout.names, self.layout.n_clusters, lv)
            out[lv] = Influence(layout=lay, Hinv=self.Hinv, M=self.M if lv == "person" else self.Mo, groups=groups,
                                Sxi=self.Sxi if lv == "person" else self.Sxi_o,
                                replicates=self.R if lv == "person" else self.Ro, seconds=dict(self.seconds))
        return out


def accumulate_levels(layout: Layout, res: FitResult, chunks: Callable[[], Iterable[PanelChunk]], *,
                      replicates: int = 0, obs_replicates: int = 0, seed: int = 0,
                      levels: tuple[Level, ...] = ("person", "observation")) -> dict[str, Influence]:
    """Both passes over a chunk factory (in memory or from the store)."""
    acc = Accumulator(layout, res, replicates=replicates, obs_replicates=obs_replicates, seed=seed, levels=levels)
    for ch in chunks():
        acc.add_cells(ch)
    for ch in chunks():
        acc.add(ch)
    return acc.finish()


def unit_covariance(inf: Influence, grouping: str, unit: int, blocks: np.ndarray | None = None,
                    B_all: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Covariance of a unit's monthly indicators (observed months) and those months' positions.

    ``Σ = AA' − AS'B' − BSA' + BMB'`` restricted to the unit (``B = D H⁻¹``); without any
    small-sample factor (see :func:`arbeidsindikator.analyses.uncertainty.summarise`).
    """
    gs = inf.groups[grouping]
    T = len(inf.layout.months)
    idx = unit * T + np.arange(T)
    obs = gs.n[idx] > 0
    idx = idx[obs]
    B = (gs.D[idx] @ inf.Hinv) if B_all is None else B_all[idx]
    AS = gs.AS[idx]
    blk = gs.blocks if blocks is None else blocks
    assert blk is not None and AS is not None
    aa = blk[unit][np.ix_(obs, obs)]
    C = aa - AS @ B.T - B @ AS.T + B @ inf.M @ B.T
    return (C + C.T) / 2, idx


def multiplier_deviations(inf: Influence, grouping: str) -> np.ndarray:
    """Replicate deviations δ (G × R) of every monthly group indicator."""
    gs = inf.groups[grouping]
    assert gs.Axi is not None and inf.Sxi is not None
    return gs.Axi - (gs.D @ inf.Hinv) @ inf.Sxi
