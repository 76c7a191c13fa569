"""The main model's design over a partitioned panel: global levels, per-partition codes.

The in-process path (``pipeline.fit_main_models``) builds the categorical regressors of
:func:`arbeidsindikator.panel.covariates.build_covariates` on the whole panel and encodes them
with :func:`arbeidsindikator.estimation.build_design`. Two things there depend on *all* rows:

* the inflow regressor ``innstromming`` is cut at quantiles of ``innstrom<h>`` over the whole
  panel (:func:`arbeidsindikator.panel.covariates.quantile_category`), and
* a level gets a design column only if some row of the panel has it.

Over partitions both are two small reductions: the distinct inflow values with their counts
(:func:`value_counts` + :func:`quantile_edges`, exactly numpy's ``np.quantile`` "linear" rule on
the concatenated values) and the rows per level (:func:`level_counts`). :class:`GlobalDesign`
holds the result; :meth:`GlobalDesign.design_for` turns one partition's level codes into an
:class:`arbeidsindikator.estimation.Design` with the *global* column numbering, so the
estimation kernels and :meth:`FitResult.predict` see the same design as in process.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from arbeidsindikator.estimation import Design
from arbeidsindikator.panel.covariates import CovariateOptions, build_covariates

__all__ = ["GlobalDesign", "covariate_codes", "level_counts", "quantile_edges", "value_counts"]

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


def require_unpooled(options: CovariateOptions) -> None:
    """Refuse the pooling of rare levels (``model.pooling``) on partitions, with a clear error.

    The rule counts distinct persons and outcome variation per level over the *whole* panel;
    applied per partition it would pool different levels in different partitions. The engines
    do not aggregate those counts yet, so a partitioned fit needs pooling switched off.
    """
    if options.pooling.active:
        raise ValueError(
            "engine.backend 'dask' does not apply the pooling of rare levels (model.pooling) yet: the rule "
            "needs whole-panel person counts per level. Set model.pooling.min_persons: 0 and "
            "model.pooling.no_variation: false, or use engine.backend: inprocess")


def covariate_codes(part: pd.DataFrame, horizon: int, options: CovariateOptions, edges: np.ndarray
                    ) -> tuple[np.ndarray, list[str], list[pd.Index]]:
    """Level codes (rows × blocks, int16; position in each block's categories) of one partition.

    The regressors are :func:`build_covariates` of the partition, except the inflow block, which
    is cut at the panel-wide ``edges`` (the partition's own quantiles would differ). Returns the
    codes, the block names and each block's categories (first = reference).
    """
    require_unpooled(options)
    X = build_covariates(part, horizon, options)
    v = part[f"innstrom{horizon}"].to_numpy(dtype=float)
    labels = inflow_labels(edges)
    X[INFLOW_BLOCK] = pd.Categorical.from_codes(np.searchsorted(edges, v, side="right"),
                                                dtype=pd.CategoricalDtype(labels))
    blocks = [str(c) for c in X.columns]
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

    @classmethod
    def from_counts(cls, blocks: list[str], categories: list[pd.Index], counts: list[np.ndarray],
                    edges: np.ndarray) -> "GlobalDesign":
        """Levels with rows get a column, in block order (``build_design`` with ``mask=None``)."""
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
                   counts=tuple(counts), edges=edges)

    def design_for(self, level_codes: np.ndarray) -> Design:
        """One partition's :class:`Design` (int16 codes) in the global column numbering."""
        codes = np.empty(level_codes.shape, dtype=np.int16)
        for b, lut in enumerate(self.level_columns):
            codes[:, b] = lut.astype(np.int16)[level_codes[:, b]]
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


def build_global(horizon: int, options: CovariateOptions, frames: list[pd.DataFrame]) -> GlobalDesign:
    """:class:`GlobalDesign` of in-memory partitions (tests, small data): the same two reductions."""
    edges = quantile_edges(*merge_counts([value_counts(f[f"innstrom{horizon}"].to_numpy()) for f in frames]),
                           options.inflow_categories)
    coded = [covariate_codes(f, horizon, options, edges) for f in frames]
    blocks, cats = check_same_blocks([(c[1], c[2]) for c in coded])
    counts = [sum(x) for x in zip(*[level_counts(c[0], cats) for c in coded], strict=True)]
    return GlobalDesign.from_counts(blocks, cats, counts, edges)
