"""The models stage: the four main models fitted from the panel file with bounded memory.

:func:`fit_main_models` is the in-memory reference; :func:`fit_main_models_from_file` the
production path (covariates built in chunks, one horizon's design at a time, expected values
spilled to disk). Pure stage functions: no caching and no source choice here (see
:mod:`arbeidsindikator.pipeline.store` for the cached stage).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from arbeidsindikator.data.contract import OUTCOMES
from arbeidsindikator.panel.covariates import CovariateOptions, build_covariates, horizon_of
from arbeidsindikator.spec import FAMILY


@dataclass
class MainModels:
    """Fitted main models (one per outcome) and, in memory only, expected values for every row.

    The build's cached models (:func:`main_models`) carry no expected values: those are columns
    ``exp_<outcome>`` of the store's panel file (:func:`store_panel_path`), read by column and
    in chunks (:func:`iter_chunks`).
    """

    fits: dict[str, Any]
    expected: pd.DataFrame | None  # columns = outcomes, aligned with the panel rows
    seconds: dict[str, float]
    regressors: pd.DataFrame | None = None  # the regressor table (chapter 3), from the h=3 covariates
    #: the rare levels the designs pooled, by horizon (rows of ``panel.covariates.pooling_table``,
    #: counted over the whole panel): chunked readers apply them with ``apply_pooling``
    pooled: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


def _fit_horizon(
    design: Any,
    horizon: int,
    outcomes: tuple[str, ...],
    outcome_values: Callable[[str], np.ndarray],
    family: dict[str, str],
    cov_type: str,
) -> Iterator[tuple[str, Any, np.ndarray, float]]:
    """Fit each outcome of ``horizon`` on ``design`` and predict every row (one outcome at a time).

    Yields ``(outcome, fit, expected values, seconds)``; the outcome column is fetched with
    ``outcome_values`` and dropped before the next one. The loop of :func:`fit_main_models` and
    :func:`fit_main_models_from_file` (one definition).
    """
    from arbeidsindikator.estimation import fit

    for outcome in [o for o in outcomes if horizon_of(o) == horizon]:
        t0 = time.perf_counter()
        y = outcome_values(outcome)
        release_arrow_memory()
        res = fit(design, y, family=family[outcome], outcome=outcome, cov_type=cov_type)  # type: ignore[arg-type]
        del y
        # a level seen only in rows whose outcome is not yet observable gets NaN (never used)
        pred = res.predict(design, unseen="nan")
        yield outcome, res, pred, time.perf_counter() - t0


def fit_main_models(
    panel: pd.DataFrame,
    options: CovariateOptions,
    outcomes: tuple[str, ...] = OUTCOMES,
    family: dict[str, str] | None = None,
    cov_type: str = "classical",
) -> MainModels:
    """Fit the main model for each outcome on all observable rows; predict every row.

    Each horizon's design is built once and dropped before the next one is built, so at most
    one design (int32 codes, ~1.5 GB at 23 M rows) is in memory.
    """
    from arbeidsindikator.estimation import build_design
    from arbeidsindikator.panel.covariates import regressor_summary

    family = family or FAMILY
    fits: dict[str, Any] = {}
    expected = pd.DataFrame(index=panel.index)
    seconds: dict[str, float] = {}
    regressors = None
    pooled: dict[int, list[dict[str, Any]]] = {}
    for h in sorted({horizon_of(o) for o in outcomes}):
        t0 = time.perf_counter()
        X = build_covariates(panel, h, options)
        pooled[h] = list(X.attrs.get("pooled", []))
        if h == 3:
            regressors = regressor_summary(X)
        design = build_design(X)
        del X
        t_design = time.perf_counter() - t0
        for outcome, res, pred, secs in _fit_horizon(design, h, outcomes, lambda o: panel[o].to_numpy(dtype=float),
                                                     family, cov_type):
            fits[outcome] = res
            expected[outcome] = pred
            seconds[outcome] = round(secs + t_design, 2)
            t_design = 0.0
        del design
    expected = expected[[o for o in outcomes]]
    return MainModels(fits={o: fits[o] for o in outcomes}, expected=expected, seconds=seconds, regressors=regressors,
                      pooled=pooled)


class _ColumnLog:
    """Stands in for a panel frame and records which columns a function reads (``df[col]``)."""

    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df
        self.index = df.index
        self.columns = df.columns
        self.used: list[str] = []

    def __getitem__(self, col: str) -> pd.Series:
        if col not in self.used:
            self.used.append(col)
        return self._df[col]

    def __len__(self) -> int:
        return len(self._df)


#: Blocks whose levels depend on the whole panel (quantile / interval classes over all rows): computed from
#: the whole column, never per chunk. Block -> (panel column template, builder).
def _whole_panel_blocks(horizon: int, options: CovariateOptions) -> dict[str, tuple[str, Callable[[pd.Series], pd.Categorical]]]:
    from arbeidsindikator.data.contract import GROWTH_COLUMN
    from arbeidsindikator.panel.covariates import growth_category, quantile_category

    # the growth classes are equal intervals over the whole panel's range (per chunk the labels
    # would be the same but the cut points not: no dtype check could catch it)
    return {"innstromming": (f"innstrom{horizon}", lambda s: quantile_category(s, options.inflow_categories)),
            GROWTH_COLUMN: (GROWTH_COLUMN, lambda s: growth_category(s, options.growth_intervals))}


def covariates_from_file(
    path: Path,
    horizon: int,
    options: CovariateOptions,
    *,
    chunk_rows: int = 2_000_000,
    base: pd.DataFrame | None = None,
    pool: bool = True,
) -> pd.DataFrame:
    """:func:`~arbeidsindikator.panel.covariates.build_covariates` of a panel parquet file, in chunks.

    Equal to ``build_covariates(pd.read_parquet(path), horizon, options)`` (a test checks it)
    without holding the panel: only the columns the covariates read are read (found by running
    ``build_covariates`` on the first rows), ``chunk_rows`` rows at a time; blocks whose levels
    depend on the whole panel (the inflow quantile classes) are computed from their whole column.
    Memory: the result (one int8 code per row and block) plus one chunk.

    ``base``: the covariates of the same file for another horizon. Its blocks that do not depend
    on the horizon (checked on the first rows) are reused instead of read again; only the rest
    is built.

    The pooling of rare levels (``options.pooling``) counts persons and outcomes over the whole
    panel, so it is never applied per chunk: the blocks are built unpooled and pooled once at the
    end (:func:`_pool_from_file`); ``pool=False`` returns them unpooled (and ``base`` must be
    unpooled).
    """
    import dataclasses

    import pyarrow.parquet as pq

    from arbeidsindikator.panel.covariates import NO_POOLING, build_covariates

    pool_opts, options = options, dataclasses.replace(options, pooling=NO_POOLING)

    pf = pq.ParquetFile(path)
    n = pf.metadata.num_rows
    head = next(pf.iter_batches(batch_size=min(max(n, 1), 10_000))).to_pandas() if n else pd.read_parquet(path)
    log = _ColumnLog(head)
    sample = build_covariates(log, horizon, options)  # type: ignore[arg-type]
    whole = {b: v for b, v in _whole_panel_blocks(horizon, options).items() if b in sample.columns}
    reuse: set[str] = set()
    if base is not None:
        if len(base) != n:
            raise ValueError(f"base covariates have {len(base)} rows, {path} has {n}")
        other = [h for h in (3, 12) if h != horizon]
        alt = build_covariates(head, other[0], options) if other else sample
        reuse = {b for b in sample.columns if b not in whole and b in base.columns and b in alt.columns
                 and sample[b].dtype == base[b].dtype and sample[b].equals(alt[b])}
    whole_cols = {v[0] for v in whole.values()}
    todo = [b for b in sample.columns if b not in whole and b not in reuse]
    columns = [c for c in log.used if c not in whole_cols] + sorted(whole_cols)
    dtypes = {b: sample[b].dtype for b in sample.columns}
    codes = {b: np.empty(n, dtype=sample[b].cat.codes.dtype) for b in todo}

    def build(lo: int, batch: Any) -> int:
        """One chunk's blocks into rows [lo, lo + len) of ``codes``."""
        part = build_covariates(batch.to_pandas(), horizon, options)
        hi = lo + len(part)
        if len(part) != batch.num_rows:  # every row of the chunk must get its codes (no silent gaps)
            raise ValueError(f"covariates of rows {lo}..{lo + batch.num_rows} of {path}: {len(part)} rows built from {batch.num_rows}")
        for b, arr in codes.items():
            if part[b].dtype != dtypes[b]:
                raise ValueError(f"covariate block {b!r} has chunk-dependent levels; it cannot be built in chunks")
            arr[lo:hi] = part[b].cat.codes.to_numpy()
        return hi

    # chunks on two threads (numpy releases the GIL in the per-row work); each writes its own
    # rows, so the result does not depend on the order they finish in; at most 3 chunks in memory
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    lo = 0
    with ThreadPoolExecutor(max_workers=2) as ex:
        pending: deque[Future[int]] = deque()
        for batch in (pf.iter_batches(batch_size=max(int(chunk_rows), 1), columns=columns) if todo else ()):
            pending.append(ex.submit(build, lo, batch))
            lo += batch.num_rows
            del batch
            while len(pending) > 2:
                pending.popleft().result()
        while pending:
            pending.popleft().result()
    if todo and lo != n:
        raise ValueError(f"read {lo} rows from {path}, the file has {n}")
    cols: dict[str, pd.Categorical] = {}
    for b in sample.columns:
        if b in reuse:
            assert base is not None
            cols[b] = base[b].array  # type: ignore[assignment]
        elif b in whole:
            col, make = whole[b]
            cols[b] = make(pd.read_parquet(path, columns=[col])[col])
        else:
            cols[b] = pd.Categorical.from_codes(codes.pop(b), dtype=dtypes[b])
    # copy=False: the reused blocks stay the base's arrays (pandas copies a dict's arrays by
    # default: +0.35 GB for the 12-month covariates at 24.8 M rows)
    X = pd.DataFrame(cols, copy=False)
    return _pool_from_file(X, path, horizon, pool_opts) if pool else X


def _pool_from_file(X: pd.DataFrame, path: Path, horizon: int, options: CovariateOptions,
                    rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """``X`` (unpooled covariates of the panel file) with the rare levels pooled over the whole panel.

    Reads only the columns the rule counts on (person, month, the horizon's outcomes); equal to
    the pooling :func:`build_covariates` does on the whole panel in memory. ``rows``: those
    columns already read (:func:`_pooling_rows`), or some of them (the rest is read here).
    """
    import pyarrow.parquet as pq

    from arbeidsindikator.panel.covariates import pool_rare_levels

    if not options.pooling.active:
        return X
    have = set(pq.read_schema(path).names)
    cols = [c for c in ["person_id", "month", *[o for o in OUTCOMES if horizon_of(o) == horizon]] if c in have]
    panel = rows if rows is not None else pd.DataFrame(index=pd.RangeIndex(len(X)))
    missing = [c for c in cols if c not in panel.columns]
    if missing:
        panel = panel.assign(**dict(pd.read_parquet(path, columns=missing).items()))
    X, pooled = pool_rare_levels(X, panel[cols], horizon, options.pooling)
    X.attrs["pooled"] = pooled.to_dict("records")
    return X


def _pooling_rows(path: Path, options: CovariateOptions) -> pd.DataFrame | None:
    """The columns every horizon's pooling counts on (person, month), read once; None without pooling."""
    import pyarrow.parquet as pq

    if not options.pooling.active:
        return None
    have = set(pq.read_schema(path).names)
    return pd.read_parquet(path, columns=[c for c in ("person_id", "month") if c in have])


def read_column(path: Path, column: str) -> np.ndarray:
    """One column of a parquet file as a float64 array (NaN for missing).

    Read row group by row group into the result, so only one row group's Arrow copy is held
    beside it (a whole-column read held both: +0.2 GB at 24.8 M rows, in the models stage).
    """
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    out = np.empty(pf.metadata.num_rows, dtype=np.float64)
    lo = 0
    for i in range(pf.num_row_groups):
        col = pf.read_row_group(i, columns=[column]).column(column)
        out[lo:lo + len(col)] = col.to_numpy()
        lo += len(col)
    if lo != len(out):
        raise ValueError(f"read {lo} rows of {column!r} from {path}, the file has {len(out)}")
    return out


def compact_design(X: pd.DataFrame) -> Any:
    """``build_design(X)`` with int16 codes when the levels fit (half the memory of int32)."""
    from arbeidsindikator.estimation import build_design
    from arbeidsindikator.estimation.design import compact_code_dtype

    return build_design(X, code_dtype=compact_code_dtype(X))


def release_arrow_memory() -> None:
    """Hand memory Arrow's allocator keeps cached after a read back to the system."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def fit_main_models_from_file(
    path: Path,
    options: CovariateOptions,
    spill_dir: Path,
    outcomes: tuple[str, ...] = OUTCOMES,
    family: dict[str, str] | None = None,
    cov_type: str = "classical",
    chunk_rows: int = 2_000_000,
) -> tuple[MainModels, dict[str, Path]]:
    """:func:`fit_main_models` on a panel parquet file with bounded memory (the models stage).

    Never holds the panel: the covariates are built in chunks (:func:`covariates_from_file`),
    one horizon's design at a time (int16 codes when the levels fit), one outcome column at a
    time; each outcome's expected values are written to ``spill_dir/exp_<outcome>.f8`` (raw
    float64, one per panel row) instead of being kept. Returns the models (``expected`` None)
    and the spill files. Results equal :func:`fit_main_models` on the same panel.
    """
    from arbeidsindikator.estimation.design import rebuild_design
    from arbeidsindikator.panel.covariates import regressor_summary

    family = family or FAMILY
    fits: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    spills: dict[str, Path] = {}
    pooled: dict[int, list[dict[str, Any]]] = {}
    regressors = None
    spill_dir.mkdir(parents=True, exist_ok=True)
    horizons = sorted({horizon_of(o) for o in outcomes})
    # Every horizon's covariates up front: the 12-month ones share the horizon-free blocks of the
    # 3-month ones (same arrays), so only the inflow block is read and built again.
    t0 = time.perf_counter()
    unpooled: dict[int, pd.DataFrame] = {}
    base: pd.DataFrame | None = None
    for h in horizons:
        unpooled[h] = base = covariates_from_file(path, h, options, chunk_rows=chunk_rows, base=base, pool=False)
    del base
    release_arrow_memory()
    rows = _pooling_rows(path, options)  # person and month, read once for every horizon's pooling
    Xs: dict[int, pd.DataFrame] = {}
    for h in horizons:
        Xs[h] = _pool_from_file(unpooled.pop(h), path, h, options, rows=rows)  # counted over the whole panel
        pooled[h] = list(Xs[h].attrs.get("pooled", []))
    del rows
    release_arrow_memory()
    # blocks whose pooled codes equal the previous horizon's: the next design keeps their columns
    same: dict[int, set[str]] = {}
    for prev, h in zip(horizons, horizons[1:]):
        a, b = Xs[prev], Xs[h]
        same[h] = {c for c in b.columns if c in a.columns and a[c].dtype == b[c].dtype
                   and np.array_equal(a[c].array.codes, b[c].array.codes)}  # views (.cat.codes copies)
    t_cov = time.perf_counter() - t0
    design = None
    for h in horizons:
        t0 = time.perf_counter()
        X = Xs.pop(h)
        if h == 3:
            regressors = regressor_summary(X)
        if design is None:
            design = compact_design(X)
        else:  # the previous horizon's design with the changed blocks refilled (in place)
            design = rebuild_design(design, X, same[h])
        for nxt in Xs:  # the later horizons need only their own blocks
            Xs[nxt] = Xs[nxt].drop(columns=[c for c in same.get(nxt, ()) if c in Xs[nxt].columns])
        del X
        t_design = time.perf_counter() - t0 + t_cov
        t_cov = 0.0
        seconds[f"design_h{h}"] = round(t_design, 2)
        for outcome, res, pred, secs in _fit_horizon(design, h, outcomes, lambda o: read_column(path, o), family, cov_type):
            t0 = time.perf_counter()
            fits[outcome] = res
            spills[outcome] = spill_dir / f"exp_{outcome}.f8"
            pred.tofile(spills[outcome])
            del pred
            seconds[outcome] = round(secs + time.perf_counter() - t0, 2)
    del design
    return (MainModels(fits={o: fits[o] for o in outcomes}, expected=None, seconds=seconds, regressors=regressors,
                       pooled=pooled), {o: spills[o] for o in outcomes})
