"""The main model's design over a partitioned panel: global levels, per-partition codes.

The in-process path (``pipeline.fit_main_models``) builds the categorical regressors of
:func:`arbeidsindikator.panel.covariates.build_covariates` on the whole panel and encodes them
with :func:`arbeidsindikator.estimation.build_design`. Two things there depend on *all* rows:

* the inflow regressor ``innstromming`` is cut at quantiles of ``innstrom<h>`` over the whole
  panel (:func:`arbeidsindikator.panel.covariates.quantile_category`), and
* a level gets a design column only if some row of the panel has it, and
* with ``model.pooling`` on, rare levels are merged by counts over the whole panel
  (:func:`arbeidsindikator.panel.covariates.pool_rare_levels`).

Over partitions the first two are two small reductions: the distinct inflow values with their counts
(:func:`value_counts` + :func:`quantile_edges`, exactly numpy's ``np.quantile`` "linear" rule on
the concatenated values) and the rows per level (:func:`level_counts`). :class:`GlobalDesign`
holds the result; :meth:`GlobalDesign.design_for` turns one partition's level codes into an
:class:`arbeidsindikator.estimation.Design` with the *global* column numbering, so the
estimation kernels and :meth:`FitResult.predict` see the same design as in process. Pooling:
:func:`pooling_counts` (per partition, additive), :func:`small_pairs` and :func:`level_persons`
(distinct persons, counted over the union of the partitions' answers) feed
:func:`decide_pooling`, which runs the rule's one implementation
(:func:`arbeidsindikator.panel.covariates.pool_block`); the maps it returns are applied in
:meth:`GlobalDesign.design_for`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from arbeidsindikator.estimation import Design
from arbeidsindikator.panel.covariates import (
    NO_POOLING,
    CovariateOptions,
    PoolingRule,
    build_covariates,
    pool_block,
    pooling_records_table,
    used_rows,
)
from arbeidsindikator.spec import FAMILY, HORIZONS, OUTCOMES

__all__ = ["GlobalDesign", "covariate_codes", "decide_pooling", "level_counts", "pooling_counts", "quantile_edges",
           "value_counts"]

#: Marker of the reference level / of a level with no rows (as estimation.design).
_REF = -1
_UNSEEN = -2
#: The regressor block cut at panel-wide quantiles (see panel.covariates.build_covariates).
INFLOW_BLOCK = "innstromming"


def value_counts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of ``x`` (sorted) and how many rows hold each; NaN is refused."""
    v = np.asarray(x, dtype=np.float64)
    if np.isnan(v).any():
        raise ValueError(f"{int(np.isnan(v).sum())} missing inflow values: the quantile cut needs every row")
    u, c = np.unique(v, return_counts=True)
    return u, c.astype(np.int64)


def merge_counts(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Add :func:`value_counts` of several partitions."""
    u = np.concatenate([p[0] for p in parts])
    c = np.concatenate([p[1] for p in parts])
    uu, inv = np.unique(u, return_inverse=True)
    return uu, np.bincount(inv, weights=c, minlength=len(uu)).astype(np.int64)


def quantile_edges(values: np.ndarray, counts: np.ndarray, n_categories: int) -> np.ndarray:
    """The cut points of ``quantile_category`` from distinct values and their counts.

    Equal, bit for bit, to ``np.unique(np.quantile(v, np.linspace(0, 1, n + 1)[1:-1]))`` on the
    concatenated values ``v``: numpy's "linear" rule (Hyndman & Fan 7) takes the order
    statistics at ``floor((N−1)q)`` and the next one and interpolates with numpy's own lerp.
    """
    from numpy.lib import _function_base_impl as fb

    q = np.linspace(0, 1, n_categories + 1)[1:-1]
    n = int(counts.sum())
    if n == 0:
        raise ValueError("no rows: cannot cut the inflow at quantiles")
    cum = np.cumsum(counts)
    vi = np.asanyarray(fb._QuantileMethods["linear"]["get_virtual_index"](n, q))
    prev = np.floor(vi)
    nxt = prev + 1
    above = vi >= n - 1
    prev[above] = n - 1
    nxt[above] = n - 1
    below = vi < 0
    prev[below] = 0
    nxt[below] = 0
    prev_i = prev.astype(np.intp)
    nxt_i = nxt.astype(np.intp)

    def order_stat(k: np.ndarray) -> np.ndarray:
        return values[np.searchsorted(cum, k, side="right")]

    gamma = np.asanyarray(vi - prev_i, dtype=vi.dtype)
    out = fb._lerp(order_stat(prev_i), order_stat(nxt_i), gamma)
    return np.unique(np.asarray(out, dtype=np.float64))


def inflow_labels(edges: np.ndarray) -> list[str]:
    """Level labels of the inflow block for these cut points (as quantile_category)."""
    return [f"q{i + 1:02d}" for i in range(len(edges) + 1)]


def _fits_int16(n: int, what: str) -> None:
    """Refuse ``n`` codes that int16 cannot hold (numpy would wrap them into wrong columns)."""
    if n > np.iinfo(np.int16).max:
        raise ValueError(f"{n} {what}: the partition codes are int16 (at most {np.iinfo(np.int16).max})")


def covariate_codes(part: pd.DataFrame, horizon: int, options: CovariateOptions, edges: np.ndarray
                    ) -> tuple[np.ndarray, list[str], list[pd.Index]]:
    """Level codes (rows × blocks, int16; position in each block's categories) of one partition.

    The regressors are :func:`build_covariates` of the partition, except the inflow block, which
    is cut at the panel-wide ``edges`` (the partition's own quantiles would differ), and nothing
    is pooled (the rare levels are pooled over the whole panel: :func:`pooling_counts`,
    :func:`decide_pooling`, applied by :meth:`GlobalDesign.design_for`). Returns the codes, the
    block names and each block's categories (first = reference).
    """
    X = build_covariates(part, horizon, dataclasses.replace(options, pooling=NO_POOLING))  # pooled globally
    v = part[f"innstrom{horizon}"].to_numpy(dtype=float)
    labels = inflow_labels(edges)
    X[INFLOW_BLOCK] = pd.Categorical.from_codes(np.searchsorted(edges, v, side="right"),
                                                dtype=pd.CategoricalDtype(labels))
    blocks = [str(c) for c in X.columns]
    _fits_int16(max((len(X[c].cat.categories) for c in X.columns), default=0), "levels in a regressor block")
    codes = np.empty((len(X), len(blocks)), dtype=np.int16)
    cats = []
    for b, col in enumerate(X.columns):
        cc = X[col].cat.codes.to_numpy()
        if (cc < 0).any():
            raise ValueError(f"regressor column {col!r} has {int((cc < 0).sum())} missing values; recode them as a level")
        codes[:, b] = cc
        cats.append(X[col].cat.categories)
    return codes, blocks, cats


def level_counts(codes: np.ndarray, cats: list[pd.Index]) -> list[np.ndarray]:
    """Rows per level of each block (summed over partitions to decide the design columns)."""
    return [np.bincount(codes[:, b], minlength=len(c)).astype(np.int64) for b, c in enumerate(cats)]


@dataclass(frozen=True)
class GlobalDesign:
    """Column numbering of the design over all partitions (as ``build_design`` on the whole panel)."""

    blocks: list[str]
    categories: tuple[pd.Index, ...]
    level_columns: tuple[np.ndarray, ...]
    names: list[str]
    col_block: np.ndarray
    dropped_levels: dict[str, list[object]]
    counts: tuple[np.ndarray, ...]
    edges: np.ndarray
    #: per block, the level each original level's rows carry after pooling (None: nothing pooled)
    pool_maps: tuple[np.ndarray, ...] | None = None
    #: the pooling table's records (``MainModels.pooled`` of the horizon)
    pooled: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_counts(cls, blocks: list[str], categories: list[pd.Index], counts: list[np.ndarray],
                    edges: np.ndarray, pool_maps: list[np.ndarray] | None = None,
                    pooled: list[dict[str, Any]] | None = None) -> "GlobalDesign":
        """Levels with rows get a column, in block order (``build_design`` with ``mask=None``).

        ``counts`` are rows per original level; with ``pool_maps`` (:func:`decide_pooling`) a
        merged level's rows count for its target and the merged level gets no column, as
        ``build_design`` on the pooled covariates.
        """
        if pool_maps is not None:
            counts = [np.bincount(m, weights=c, minlength=len(c)).astype(np.int64)
                      for m, c in zip(pool_maps, counts, strict=True)]
        names = ["const"]
        col_block = [-1]
        luts = []
        dropped: dict[str, list[object]] = {}
        for b, (block, cats) in enumerate(zip(blocks, categories, strict=True)):
            if len(cats) == 0:
                raise ValueError(f"regressor column {block!r} has no categories")
            lut = np.full(len(cats), _UNSEEN, dtype=np.int32)
            lut[0] = _REF
            for j in range(1, len(cats)):
                if counts[b][j] > 0:
                    lut[j] = len(names)
                    names.append(f"{block}[{cats[j]}]")
                    col_block.append(b)
                else:
                    dropped.setdefault(block, []).append(cats[j])
            luts.append(lut)
        return cls(blocks=list(blocks), categories=tuple(categories), level_columns=tuple(luts), names=names,
                   col_block=np.asarray(col_block, dtype=np.int64), dropped_levels=dropped,
                   counts=tuple(counts), edges=edges,
                   pool_maps=None if pool_maps is None else tuple(np.asarray(m, dtype=np.int64) for m in pool_maps),
                   pooled=tuple(pooled or ()))

    def design_for(self, level_codes: np.ndarray) -> Design:
        """One partition's :class:`Design` (int16 codes of the unpooled levels) in the global column numbering."""
        _fits_int16(len(self.names), "design columns")
        codes = np.empty(level_codes.shape, dtype=np.int16)
        for b, lut in enumerate(self.level_columns):
            lut16 = lut.astype(np.int16)
            if self.pool_maps is not None:
                lut16 = lut16[self.pool_maps[b]]  # original level → pooled level → column
            codes[:, b] = lut16[level_codes[:, b]]
        return Design(codes=codes, names=list(self.names), blocks=list(self.blocks), categories=self.categories,
                      level_columns=self.level_columns, col_block=self.col_block,
                      dropped_levels=self.dropped_levels, mask=None)

    def regressor_summary(self) -> pd.DataFrame:
        """``panel.covariates.regressor_summary`` of the whole panel, from the level counts."""
        rows = []
        for block, cats, cnt in zip(self.blocks, self.categories, self.counts, strict=True):
            total = int(cnt.sum())
            rows.append({
                "regressor": block,
                "levels in data": int((cnt > 0).sum()),
                "reference level": str(cats[0]),
                "share at reference": float(cnt[0] / total) if total else float("nan"),
                "most frequent level": str(cats[int(np.argmax(cnt))]),
            })
        return pd.DataFrame(rows)


def check_same_blocks(parts: list[tuple[list[str], list[pd.Index]]]) -> tuple[list[str], list[pd.Index]]:
    """All partitions must have the same blocks and categories (the covariate rules fix them)."""
    blocks, cats = parts[0]
    for i, (b, c) in enumerate(parts[1:], start=1):
        if b != blocks:
            raise ValueError(f"partition {i} has regressor blocks {b}, partition 0 has {blocks}")
        for name, x, y in zip(b, c, cats, strict=True):
            if not x.equals(y):
                raise ValueError(f"partition {i}: levels of {name!r} differ from partition 0's "
                                 f"({list(x)[:5]}... vs {list(y)[:5]}...)")
    return blocks, cats


# --- pooling of rare levels over partitions ------------------------------------------------------

def pooling_outcomes(columns: Any, horizon: int) -> tuple[list[str], list[str]]:
    """The outcomes of ``horizon`` the rule reads (used rows) and its probit ones (no-variation test)."""
    outs = [o for o in OUTCOMES if HORIZONS[o] == horizon and o in columns]
    return outs, [o for o in outs if FAMILY[o] == "probit"]


@dataclass
class PoolingCounts:
    """One partition's totals for the pooling rule (:func:`pooling_counts`); they add over partitions."""

    n0: list[np.ndarray]  # used rows per level, per block
    s0: list[list[np.ndarray]]  # ones of each probit outcome per level among the used rows, per block
    months: np.ndarray | None  # distinct months (None: no month column, rows count instead)
    n_rows: int


def pooling_counts(part: pd.DataFrame, codes: np.ndarray, cats: list[pd.Index], horizon: int, rule: PoolingRule
                   ) -> tuple[PoolingCounts, np.ndarray]:
    """The rule's additive totals of one partition and its used-rows mask (see ``pool_rare_levels``)."""
    used = used_rows(part, horizon)
    _, probits = pooling_outcomes(part.columns, horizon)
    ys = [part[o].to_numpy(dtype=float)[used] > 0.5 for o in probits] if rule.no_variation else []
    n0, s0 = [], []
    for b, c in enumerate(cats):
        cu = codes[used, b].astype(np.int64)
        n0.append(np.bincount(cu, minlength=len(c)).astype(np.int64))
        s0.append([np.bincount(cu[y], minlength=len(c)).astype(np.int64) for y in ys])
    months = pd.unique(part["month"].dropna().to_numpy()) if "month" in part.columns else None
    return PoolingCounts(n0=n0, s0=s0, months=None if months is None else np.sort(months), n_rows=len(part)), used


def small_pairs(codes: np.ndarray, used: np.ndarray, person: np.ndarray, small: list[np.ndarray]
                ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per block, the distinct (level, person) pairs of the used rows at the levels marked ``small``."""
    out = []
    for b, sm in enumerate(small):
        rows = used & sm[codes[:, b]]
        pairs = pd.DataFrame({"c": codes[rows, b].astype(np.int64), "p": person[rows]}).drop_duplicates()
        out.append((pairs["c"].to_numpy(), pairs["p"].to_numpy()))
    return out


def level_persons(codes: np.ndarray, used: np.ndarray, person: np.ndarray, block: int, levels: np.ndarray
                  ) -> np.ndarray:
    """Distinct persons of the used rows whose (original) level of ``block`` is in ``levels`` (bool per level)."""
    return np.unique(person[used & levels[codes[:, block]]])


def decide_pooling(blocks: list[str], cats: list[pd.Index], row_counts: list[np.ndarray], counts: list[PoolingCounts],
                   horizon: int, rule: PoolingRule, probits: list[str],
                   pairs_of: Callable[[list[np.ndarray]], list[list[tuple[np.ndarray, np.ndarray]]]],
                   persons_of: Callable[[int, np.ndarray], list[np.ndarray]],
                   ) -> tuple[list[np.ndarray], list[dict[str, Any]]]:
    """The whole panel's pooling (``panel.covariates.pool_rare_levels``) from partition totals.

    ``row_counts``: rows per level (all rows, summed); ``counts``: each partition's
    :class:`PoolingCounts`; ``pairs_of(small)`` runs :func:`small_pairs` on every partition and
    ``persons_of(block, levels)`` :func:`level_persons` (persons are counted as distinct over the
    union of the partitions' answers, so a person in several partitions counts once). Returns
    per block the map original level → pooled level, and the pooling table's records.
    """
    if not rule.active:
        return [np.arange(len(c)) for c in cats], []
    if all(c.months is not None for c in counts):
        n_months = int(np.unique(np.concatenate([c.months for c in counts])).size)
    else:
        n_months = sum(c.n_rows for c in counts)
    small_rows = rule.min_persons * n_months
    n0 = [np.sum([c.n0[b] for c in counts], axis=0).astype(float) for b in range(len(blocks))]
    s0 = [[np.sum([c.s0[b][k] for c in counts], axis=0).astype(float) for k in range(len(counts[0].s0[b]))]
          for b in range(len(blocks))]
    small = [x < small_rows for x in n0]
    per_part = pairs_of(small)
    maps, records = [], []
    for b, block in enumerate(blocks):
        sc = np.concatenate([pp[b][0] for pp in per_part]).astype(np.int64)
        sp = np.concatenate([pp[b][1] for pp in per_part])
        has_rows = row_counts[b] > 0

        def persons(levels: np.ndarray, _b: int = b) -> int:
            return int(np.unique(np.concatenate(persons_of(_b, levels))).size)

        live, recs = pool_block(block, [str(c) for c in cats[b]], has_rows, n0[b], s0[b], sc, sp, small_rows, persons,
                                rule, horizon, probits)
        maps.append(live)
        records.extend(recs)
    return maps, pooling_records_table(records).to_dict("records")


def build_global(horizon: int, options: CovariateOptions, frames: list[pd.DataFrame]) -> GlobalDesign:
    """:class:`GlobalDesign` of in-memory partitions (tests, small data): the same reductions, pooling included."""
    edges = quantile_edges(*merge_counts([value_counts(f[f"innstrom{horizon}"].to_numpy()) for f in frames]),
                           options.inflow_categories)
    coded = [covariate_codes(f, horizon, options, edges) for f in frames]
    blocks, cats = check_same_blocks([(c[1], c[2]) for c in coded])
    counts = [sum(x) for x in zip(*[level_counts(c[0], cats) for c in coded], strict=True)]
    pool_maps, pooled = None, None
    if options.pooling.active:
        pc = [pooling_counts(f, c[0], cats, horizon, options.pooling) for f, c in zip(frames, coded, strict=True)]
        person = [f["person_id"].to_numpy() for f in frames]
        pool_maps, pooled = decide_pooling(
            blocks, cats, counts, [p[0] for p in pc], horizon, options.pooling,
            pooling_outcomes(frames[0].columns, horizon)[1],
            lambda small: [small_pairs(c[0], p[1], pid, small) for c, p, pid in zip(coded, pc, person, strict=True)],
            lambda b, lv: [level_persons(c[0], p[1], pid, b, lv) for c, p, pid in zip(coded, pc, person, strict=True)])
    return GlobalDesign.from_counts(blocks, cats, counts, edges, pool_maps, pooled)
