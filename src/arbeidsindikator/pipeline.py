"""From a run configuration to the analysis panel, the fitted main models and expected values.

Every chapter calls these functions; results are cached on disk under ``cfg.cache_dir`` keyed
by the configuration's fingerprint and the code's fingerprint, so chapters never regenerate
data or refit models needlessly. Cache files are written atomically (temp file + rename).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import os
import pickle
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from arbeidsindikator.config import RunConfig
from arbeidsindikator.data.contract import OUTCOMES, validate_panel
from arbeidsindikator.io import atomic_write, code_fingerprint, data_fingerprint
from arbeidsindikator.panel.covariates import CovariateOptions, PoolingRule, build_covariates, horizon_of
from arbeidsindikator.spec import FAMILY
from arbeidsindikator.data.extracts import validate_extracts
from arbeidsindikator.panel.build import PanelOptions, build_panel
from arbeidsindikator.synthetic import generator as se
from arbeidsindikator.synthetic.generator import load_truth
from arbeidsindikator.synthetic.registrations import generate_registrations
from arbeidsindikator.profiling.contract import ProfilingData, validate_profiling_data
from arbeidsindikator.profiling.evaluation import load_g_table, params_from_config


@dataclass
class PanelData:
    """The validated analysis panel plus what the book reports about where it came from."""

    panel: pd.DataFrame
    fingerprint: str
    report: dict[str, Any] = field(default_factory=dict)
    truth: dict[str, pd.Series] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# From a run configuration
# ---------------------------------------------------------------------------------------------

_COMPLETE = "_COMPLETE.json"


def _extracts_complete(folder: Path, generator_fp: str) -> bool:
    marker = folder / _COMPLETE
    if not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text()).get("generator") == generator_fp
    except json.JSONDecodeError:
        return False


def panel_from_config(cfg: RunConfig, *, verbose: bool = False) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The analysis panel for a run configuration, and a small report.

    ``cfg.source == "synthetic"``: raw extracts are generated (seeded) into
    ``cfg.cache_dir / f"extracts-{cfg.fingerprint()}"`` unless a complete set made by the same
    generator code is already there, then validated and built. ``"extracts"``: the folder
    ``cfg.data_path`` is validated and built. Validation fails before anything is computed or
    written (:class:`~arbeidsindikator.data.extracts.ExtractError`). The caller validates the panel
    against the panel contract (``contract.validate_panel``). The report holds the exclusion counts, the extracts' content
    fingerprint, row and person counts and, for synthetic data, where the planted truth is.
    """
    t0 = time.perf_counter()
    truth_dir: str | None = None
    if cfg.source == "synthetic":
        folder = Path(cfg.cache_dir) / f"extracts-{cfg.fingerprint()}"
        gfp = se.generator_fingerprint()
        if not _extracts_complete(folder, gfp):
            if folder.exists():
                shutil.rmtree(folder)
            se.generate_extracts(folder, n_persons=cfg.n_persons, seed=cfg.seed, start=cfg.start, end=cfg.end,
                                 verbose=verbose)
        truth_dir = str(folder / "truth")
    elif cfg.source == "extracts":
        folder = Path(cfg.data_path)
    else:
        raise ValueError(f"panel_from_config builds from raw extracts; data.source {cfg.source!r} is read elsewhere")
    t1 = time.perf_counter()
    ex = validate_extracts(folder)
    t2 = time.perf_counter()
    try:
        panel, report = build_panel(ex, cfg.start, cfg.end, PanelOptions(gap_months=cfg.gap_months), verbose=verbose)
        fp = ex.fingerprint()
        summary = ex.summary
    finally:
        ex.close()
    report.update({
        "source": cfg.source,
        "extracts": str(folder),
        "extracts_fingerprint": fp,
        "extract_rows": {k: v["rows"] for k, v in summary.items()},
        "truth": truth_dir,
        "seconds_by_stage": {"generate": round(t1 - t0, 1), "validate": round(t2 - t1, 1),
                             "build": round(time.perf_counter() - t2, 1)},
    })
    return panel, report


def input_fingerprint(cfg: RunConfig) -> str:
    """Cheap fingerprint of the input files (name, size, modification time), like make's.

    Part of every cache key, so replacing an extract in the same folder invalidates the cache.
    Synthetic data are fully determined by the configuration: empty fingerprint.
    """
    if cfg.data_path is None:
        return "synthetic"
    files = [cfg.data_path] if cfg.data_path.is_file() else sorted(p for p in cfg.data_path.rglob("*") if p.is_file())
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(cfg.data_path.parent)}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:12]


def _cache_key(cfg: RunConfig) -> str:
    return f"{cfg.fingerprint()}-{input_fingerprint(cfg)}-{code_fingerprint()}"


def _build_panel(cfg: RunConfig) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any]]:
    """Raw extracts (generated, or the analyst's folder) → validated → analysis panel.

    ``synthetic``: the calibrated generator writes raw extracts into the cache folder first, so
    the synthetic build runs exactly the code path real extracts take. ``panel``: one file that
    already holds the analysis panel (validated against the panel contract by the caller).
    """
    if cfg.source in ("synthetic", "extracts"):
        panel, report = panel_from_config(cfg)
        truth: dict[str, Any] = {}
        if cfg.source == "synthetic" and report.get("truth"):
            truth = load_truth(report["truth"])
        return panel, report, truth
    assert cfg.data_path is not None
    reader = pd.read_csv if cfg.data_path.suffix == ".csv" else pd.read_parquet
    return reader(cfg.data_path), {"file": str(cfg.data_path)}, {}


_MEMO: dict[str, Any] = {}


def _write_parquet_in_parts(df: pd.DataFrame, path: Path, rows: int = 2_000_000) -> None:
    """``df.to_parquet`` one slice at a time: the Arrow copy is bounded by ``rows``, not the frame."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if len(df) <= rows:
        df.to_parquet(path, index=False)
        return
    writer = None
    try:
        for lo in range(0, len(df), rows):
            t = pa.Table.from_pandas(df.iloc[lo:lo + rows], preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, t.schema)
            writer.write_table(t)
    finally:
        if writer is not None:
            writer.close()


def panel_path(cfg: RunConfig) -> Path:
    """The cached analysis panel (parquet) of a configuration, written by :func:`load_panel`."""
    return cfg.cache_dir / f"panel-{_cache_key(cfg)}.parquet"


def load_panel(cfg: RunConfig, *, verbose: bool = False) -> PanelData:
    """The analysis panel for a configuration: validated, restricted to the period, cached."""
    key = _cache_key(cfg)
    if ("panel", key) in _MEMO:
        return _MEMO[("panel", key)]
    path = cfg.cache_dir / f"panel-{key}.parquet"
    meta_path = cfg.cache_dir / f"panel-{key}.pkl"
    if path.exists() and meta_path.exists():
        panel = pd.read_parquet(path)
        meta = pickle.loads(meta_path.read_bytes())
    else:
        t0 = time.perf_counter()
        raw, report, truth = _build_panel(cfg)
        panel = validate_panel(raw, period=(cfg.start, cfg.end))
        del raw  # the validated copy is the one kept (two copies of a 23 M-row panel are ~7 GB)
        report = dict(report, seconds=round(time.perf_counter() - t0, 1))
        meta = {"report": report, "truth": truth, "fingerprint": data_fingerprint(panel)}
        atomic_write(path, lambda p: _write_parquet_in_parts(panel, p))
        atomic_write(meta_path, lambda p: p.write_bytes(pickle.dumps(meta)))
        if verbose:
            print(f"panel: {len(panel):,} rows built in {report['seconds']} s")
    out = PanelData(panel=panel, fingerprint=meta["fingerprint"], report=meta["report"], truth=meta["truth"])
    _MEMO[("panel", key)] = out
    return out


def covariate_options(cfg: RunConfig) -> CovariateOptions:
    return CovariateOptions(duration_categories=cfg.duration_categories, include_hours_at_t=cfg.include_hours_at_t,
                            pooling=PoolingRule(cfg.pool_min_persons, cfg.pool_no_variation),
                            include_growth=cfg.include_growth)


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
    from arbeidsindikator.estimation import build_design, fit
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
        for outcome in [o for o in outcomes if horizon_of(o) == h]:
            t0 = time.perf_counter()
            res = fit(design, panel[outcome].to_numpy(dtype=float), family=family[outcome], outcome=outcome,  # type: ignore[arg-type]
                      cov_type=cov_type)  # type: ignore[arg-type]
            fits[outcome] = res
            # a level seen only in rows whose outcome is not yet observable gets NaN (never used)
            expected[outcome] = res.predict(design, unseen="nan")
            seconds[outcome] = round(time.perf_counter() - t0 + t_design, 2)
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


#: Blocks whose levels depend on the whole panel (quantile classes over all rows): computed from
#: the whole column, never per chunk. Block -> (panel column template, builder).
def _whole_panel_blocks(horizon: int, options: CovariateOptions) -> dict[str, tuple[str, Callable[[pd.Series], pd.Categorical]]]:
    from arbeidsindikator.panel.covariates import quantile_category

    return {"innstromming": (f"innstrom{horizon}", lambda s: quantile_category(s, options.inflow_categories))}


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
    lo = 0
    for batch in (pf.iter_batches(batch_size=max(int(chunk_rows), 1), columns=columns) if todo else ()):
        part = build_covariates(batch.to_pandas(), horizon, options)
        hi = lo + len(part)
        for b, arr in codes.items():
            if part[b].dtype != dtypes[b]:
                raise ValueError(f"covariate block {b!r} has chunk-dependent levels; it cannot be built in chunks")
            arr[lo:hi] = part[b].cat.codes.to_numpy()
        lo = hi
        del part, batch
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
    X = pd.DataFrame(cols)
    return _pool_from_file(X, path, horizon, pool_opts) if pool else X


def _pool_from_file(X: pd.DataFrame, path: Path, horizon: int, options: CovariateOptions) -> pd.DataFrame:
    """``X`` (unpooled covariates of the panel file) with the rare levels pooled over the whole panel.

    Reads only the columns the rule counts on (person, month, the horizon's outcomes); equal to
    the pooling :func:`build_covariates` does on the whole panel in memory.
    """
    import pyarrow.parquet as pq

    from arbeidsindikator.panel.covariates import pool_rare_levels

    if not options.pooling.active:
        return X
    have = set(pq.read_schema(path).names)
    cols = [c for c in ["person_id", "month", *[o for o in OUTCOMES if horizon_of(o) == horizon]] if c in have]
    panel = pd.read_parquet(path, columns=cols)
    X, pooled = pool_rare_levels(X, panel, horizon, options.pooling)
    X.attrs["pooled"] = pooled.to_dict("records")
    return X


def _read_column(path: Path, column: str) -> np.ndarray:
    """One column of a parquet file as a float64 array (NaN for missing)."""
    import pyarrow.parquet as pq

    col = pq.read_table(path, columns=[column]).column(column)
    return col.to_numpy().astype(np.float64, copy=False)


def _spill_codes(X: pd.DataFrame, folder: Path) -> dict[str, pd.CategoricalDtype]:
    """Write a frame of categoricals as raw code files (``<block>.npy``); return the dtypes."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, b in enumerate(X.columns):
        np.save(folder / f"{i}.npy", X[b].cat.codes.to_numpy())
    return {b: X[b].dtype for b in X.columns}


def _load_codes(folder: Path, dtypes: dict[str, pd.CategoricalDtype]) -> pd.DataFrame:
    """The frame :func:`_spill_codes` wrote."""
    return pd.DataFrame({b: pd.Categorical.from_codes(np.load(folder / f"{i}.npy"), dtype=dt)
                         for i, (b, dt) in enumerate(dtypes.items())})


def _release_arrow_memory() -> None:
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
    from arbeidsindikator.estimation import build_design, fit
    from arbeidsindikator.panel.covariates import regressor_summary

    family = family or FAMILY
    fits: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    spills: dict[str, Path] = {}
    pooled: dict[int, list[dict[str, Any]]] = {}
    regressors = None
    spill_dir.mkdir(parents=True, exist_ok=True)
    base: pd.DataFrame | None = None
    horizons = sorted({horizon_of(o) for o in outcomes})
    for h in horizons:
        t0 = time.perf_counter()
        X = covariates_from_file(path, h, options, chunk_rows=chunk_rows, base=base, pool=False)
        base = None
        _release_arrow_memory()
        if h != horizons[-1]:  # the next horizon reuses its horizon-free blocks (unpooled): on disk meanwhile
            base_dtypes = _spill_codes(X, spill_dir / "covariates")
        X = _pool_from_file(X, path, h, options)  # pooling counts over the whole panel, per horizon
        pooled[h] = list(X.attrs.get("pooled", []))
        if h == 3:
            regressors = regressor_summary(X)
        n_levels = sum(len(X[c].cat.categories) for c in X.columns)
        design = build_design(X, code_dtype=np.int16 if n_levels < np.iinfo(np.int16).max else np.int32)
        del X
        t_design = time.perf_counter() - t0
        seconds[f"design_h{h}"] = round(t_design, 2)
        for outcome in [o for o in outcomes if horizon_of(o) == h]:
            t0 = time.perf_counter()
            y = _read_column(path, outcome)
            _release_arrow_memory()
            res = fit(design, y, family=family[outcome], outcome=outcome, cov_type=cov_type)  # type: ignore[arg-type]
            del y
            fits[outcome] = res
            # a level seen only in rows whose outcome is not yet observable gets NaN (never used)
            pred = res.predict(design, unseen="nan")
            spills[outcome] = spill_dir / f"exp_{outcome}.f8"
            pred.tofile(spills[outcome])
            del pred
            seconds[outcome] = round(time.perf_counter() - t0, 2)
        del design
        if h != horizons[-1]:
            base = _load_codes(spill_dir / "covariates", base_dtypes)
    return (MainModels(fits={o: fits[o] for o in outcomes}, expected=None, seconds=seconds, regressors=regressors,
                       pooled=pooled), {o: spills[o] for o in outcomes})


# ---------------------------------------------------------------------------------------------
# The store: panel + expected values on disk (parquet, row groups of whole persons), the cube
# ---------------------------------------------------------------------------------------------

DEFAULT_CHUNK_ROWS = 2_000_000
CHUNK_ENV = "ARBEIDSINDIKATOR_CHUNK_ROWS"


def chunk_rows(cfg: RunConfig) -> int:
    """Person-months per chunk of every chunked stage: ``output.chunk_rows`` (default 2 000 000).

    The environment variable ``ARBEIDSINDIKATOR_CHUNK_ROWS`` overrides it (tests force small
    chunks through a whole book build with it; chapter kernels inherit it).
    """
    env = os.environ.get(CHUNK_ENV)
    if env:
        return max(1, int(env))
    raw = (getattr(cfg, "raw", None) or {}).get("output", {}) or {}
    return max(1, int(raw.get("chunk_rows", DEFAULT_CHUNK_ROWS)))


def store_dir(cfg: RunConfig) -> Path:
    """Folder of this configuration's stage outputs (panel + expected, cube, summaries, models)."""
    backend = cfg.engine.backend if hasattr(cfg, "engine") else "inprocess"  # engines: sums taken elsewhere
    return Path(cfg.cache_dir) / f"store-{_cache_key(cfg)}-c{chunk_rows(cfg)}{'' if backend == 'inprocess' else '-' + backend}"


def store_panel_path(cfg: RunConfig) -> Path:
    """The panel with ``exp_<outcome>`` and the flags ``ungdomsgaranti``, ``landgruppe3`` (parquet).

    Row groups hold whole persons (at most :func:`chunk_rows` rows unless one person has more);
    read it by column and row group (:func:`iter_chunks`), or whole with :func:`panel_with_expected`.
    """
    return store_dir(cfg) / "panel.parquet"


def _person_cuts(person: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Row ranges of at most ``size`` rows that never split a person (rows sorted by person)."""
    n = len(person)
    if n == 0:
        return []
    starts = np.flatnonzero(np.r_[True, person[1:] != person[:-1]])
    cuts = [0]
    while cuts[-1] < n:
        target = cuts[-1] + size
        if target >= n:
            cuts.append(n)
            break
        j = int(np.searchsorted(starts, target, side="right")) - 1
        nxt = int(starts[j]) if starts[j] > cuts[-1] else int(starts[min(j + 1, len(starts) - 1)])
        cuts.append(nxt if nxt > cuts[-1] else n)
    return list(zip(cuts[:-1], cuts[1:]))


def _write_store_panel(panel: pd.DataFrame, expected: pd.DataFrame, path: Path, size: int) -> None:
    """Panel + expected + flags as parquet, one row group per chunk of whole persons (atomic)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from arbeidsindikator.indicator.indicator import add_derived_groups

    pid = panel["person_id"].to_numpy()
    if len(pid) > 1 and not (pid[1:] >= pid[:-1]).all():
        raise ValueError("the panel must be sorted by person_id to be stored in chunks of whole persons")

    def write(p: Path) -> None:
        writer = None
        try:
            for lo, hi in _person_cuts(pid, size):
                part = panel.iloc[lo:hi]
                part = part.assign(**{f"exp_{o}": expected[o].to_numpy()[lo:hi] for o in expected.columns})
                part = add_derived_groups(part)
                table = pa.Table.from_pandas(part, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(p, table.schema)
                writer.write_table(table, row_group_size=hi - lo)
            if writer is None:  # empty panel: still a valid file
                part = add_derived_groups(panel.assign(**{f"exp_{o}": expected[o].to_numpy() for o in expected.columns}))
                pq.write_table(pa.Table.from_pandas(part, preserve_index=False), p)
        finally:
            if writer is not None:
                writer.close()

    atomic_write(path, write)


#: Panel columns :func:`~arbeidsindikator.indicator.indicator.add_derived_groups` reads.
_DERIVED_INPUTS = ["alder", "innsatsgruppe", "landgruppe"]


def _write_store_from_file(panel_path: Path, spills: dict[str, Path], path: Path, size: int) -> None:
    """The store's panel file from the panel parquet and the spilled expected values (atomic).

    The same file as :func:`_write_store_panel` on the panel in memory, streamed: the panel is
    read in record batches and cut into chunks of whole persons (at most ``size`` rows unless one
    person has more); memory is about one chunk.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from arbeidsindikator.indicator.indicator import add_derived_groups

    pf = pq.ParquetFile(panel_path)
    pid = pq.read_table(panel_path, columns=["person_id"]).column("person_id").to_numpy()
    if len(pid) > 1 and not (pid[1:] >= pid[:-1]).all():
        raise ValueError("the panel must be sorted by person_id to be stored in chunks of whole persons")
    cuts = _person_cuts(pid, size)
    del pid
    n = pf.metadata.num_rows
    for o, f in spills.items():
        if f.stat().st_size != 8 * n:
            raise ValueError(f"{f}: {f.stat().st_size // 8} expected values for {o!r}, the panel has {n} rows")

    def chunks() -> Iterator[pa.Table]:
        buf: list[pa.RecordBatch] = []
        have = 0
        batches = pf.iter_batches(batch_size=min(max(size, 1), 262_144))
        for lo, hi in cuts:
            while have < hi - lo:
                b = next(batches)
                buf.append(b)
                have += b.num_rows
            t = pa.Table.from_batches(buf)
            yield t.slice(0, hi - lo)
            rest = t.slice(hi - lo)
            buf, have = rest.to_batches(), rest.num_rows

    def write(p: Path) -> None:
        writer = None
        handles = {o: open(f, "rb") for o, f in spills.items()}
        try:
            for (lo, hi), table in zip(cuts, chunks(), strict=True):
                # Arrow all the way: only the flags' inputs go through pandas
                small = table.select(_DERIVED_INPUTS).to_pandas()
                flags = add_derived_groups(small).drop(columns=_DERIVED_INPUTS)
                for o, fh in handles.items():
                    table = table.append_column(f"exp_{o}", pa.array(np.fromfile(fh, dtype=np.float64, count=hi - lo)))
                for c in flags.columns:
                    table = table.append_column(c, pa.array(flags[c].to_numpy()))
                if writer is None:
                    writer = pq.ParquetWriter(p, table.schema)
                writer.write_table(table, row_group_size=hi - lo)
                del small, flags, table
            if writer is None:  # empty panel: still a valid file
                part = pd.read_parquet(panel_path)
                part = add_derived_groups(part.assign(**{f"exp_{o}": np.zeros(0) for o in spills}))
                pq.write_table(pa.Table.from_pandas(part, preserve_index=False), p)
        finally:
            for fh in handles.values():
                fh.close()
            if writer is not None:
                writer.close()

    atomic_write(path, write)
    _release_arrow_memory()


def iter_chunks(cfg: RunConfig, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """The store's panel (+ expected, flags) as DataFrames of whole persons, one row group each.

    ``columns`` restricts what is read (pyarrow reads only those column chunks). At most one
    chunk (:func:`chunk_rows` person-months) is in memory at a time.
    """
    import pyarrow.parquet as pq

    path = store_panel_path(cfg)
    if not path.exists():
        main_models(cfg)
    pf = pq.ParquetFile(path)
    for i in range(pf.num_row_groups):
        yield pf.read_row_group(i, columns=columns).to_pandas()


def panel_with_expected(cfg: RunConfig) -> pd.DataFrame:
    """The whole panel with ``exp_<outcome>`` and the derived breakdowns, in memory (memoised).

    For small panels, tests and analyses that need every row; at production scale use
    :func:`iter_chunks` or the cube (:func:`cube`).
    """
    key = str(store_dir(cfg))
    if ("with_expected", key) not in _MEMO:
        path = store_panel_path(cfg)
        if not path.exists():
            main_models(cfg)
        _MEMO[("with_expected", key)] = pd.read_parquet(path)
    return _MEMO[("with_expected", key)]


def store_frame(cfg: RunConfig, columns: list[str], *, memo: bool = True) -> pd.DataFrame:
    """Some columns of the store's panel (+ expected, flags) for every row, in memory.

    For analyses that refit on all rows (alternatives): only the named columns are read. With
    ``memo`` the last frame read is kept (one at a time) for the next call with the same columns.
    """
    key = ("store_frame", str(store_dir(cfg)), tuple(columns))
    if key in _MEMO:
        return _MEMO[key]
    for k in [k for k in _MEMO if isinstance(k, tuple) and k and k[0] == "store_frame"]:
        del _MEMO[k]
    path = store_panel_path(cfg)
    if not path.exists():
        main_models(cfg)
    df = pd.read_parquet(path, columns=list(dict.fromkeys(columns)))
    if memo:
        _MEMO[key] = df
    return df


def forget(cfg: RunConfig) -> None:
    """Drop every memoised object of a configuration (e.g. an alternative's panel, used once)."""
    keys = {_cache_key(cfg), str(store_dir(cfg))}
    for k in [k for k in _MEMO if isinstance(k, tuple) and len(k) > 1 and k[1] in keys]:
        del _MEMO[k]


def main_models(cfg: RunConfig) -> MainModels:
    """The four main models for a configuration (cached by data + specification + code).

    Fitting also writes the store's panel file with the expected values; the cached object
    holds the fits and the regressor table only (``expected`` is None).
    """
    key = str(store_dir(cfg))
    if ("models", key) in _MEMO:
        return _MEMO[("models", key)]
    path = store_dir(cfg) / "models.pkl"
    if path.exists() and store_panel_path(cfg).exists():
        mm = pickle.loads(path.read_bytes())
    elif cfg.engine.backend == "dask":  # the models on a Dask cluster, from the panel's parquet file
        from arbeidsindikator.engines import run as engines_run

        ppath = panel_path(cfg)
        if not ppath.exists():
            load_panel(cfg)
            _MEMO.pop(("panel", _cache_key(cfg)), None)
        fits, seconds, regressors = engines_run.main_models(cfg.engine, ppath, store_panel_path(cfg), chunk_rows(cfg),
                                                            covariate_options(cfg), atomic_write)
        mm = MainModels(fits=fits, expected=None, seconds=seconds, regressors=regressors)
        atomic_write(path, lambda p: p.write_bytes(pickle.dumps(mm)))
    else:
        ppath = panel_path(cfg)
        if not ppath.exists() or not (cfg.cache_dir / f"panel-{_cache_key(cfg)}.pkl").exists():
            load_panel(cfg)
            _MEMO.pop(("panel", _cache_key(cfg)), None)  # the stage reads the file, by column
        t0 = time.perf_counter()
        spill = Path(tempfile.mkdtemp(prefix=".expected-", dir=cfg.cache_dir))
        try:
            full, spills = fit_main_models_from_file(ppath, covariate_options(cfg), spill, chunk_rows=chunk_rows(cfg))
            t1 = time.perf_counter()
            _write_store_from_file(ppath, spills, store_panel_path(cfg), chunk_rows(cfg))
        finally:
            shutil.rmtree(spill, ignore_errors=True)
        seconds = dict(full.seconds, fit_predict_total=round(t1 - t0, 1), write_store=round(time.perf_counter() - t1, 1))
        mm = MainModels(fits=full.fits, expected=None, seconds=seconds, regressors=full.regressors, pooled=full.pooled)
        del full
        atomic_write(path, lambda p: p.write_bytes(pickle.dumps(mm)))
    _MEMO[("models", key)] = mm
    return mm


def panel_meta(cfg: RunConfig) -> PanelData:
    """Fingerprint, build report and planted truth of the panel, without loading its rows."""
    key = _cache_key(cfg)
    if ("panel", key) in _MEMO:
        return _MEMO[("panel", key)]
    meta_path = cfg.cache_dir / f"panel-{key}.pkl"
    if not meta_path.exists():
        load_panel(cfg)
        _MEMO.pop(("panel", key), None)
    meta = pickle.loads(meta_path.read_bytes())
    return PanelData(panel=pd.DataFrame(), fingerprint=meta["fingerprint"], report=meta["report"], truth=meta["truth"])


_CUBE_COLUMNS = ["person_id", "month", "fylke", "nav_kontor", "hovedgruppe", "innsatsgruppe", "tiltak",
                 "ungdomsgaranti", "landgruppe3", "timer_t", "alder", "barn", "kvinne", "gift", "landgruppe",
                 "ufor", "nav_historikk", "nav_varighet", *OUTCOMES, *[f"exp_{o}" for o in OUTCOMES]]


@dataclass
class Cube:
    """The indicator cube, its levels and the chapters' other small summaries (see indicator.cube)."""

    cells: pd.DataFrame
    levels: Any
    summaries: dict[str, pd.DataFrame]
    seconds: float = float("nan")


def cube(cfg: RunConfig) -> Cube:
    """The indicator cube and summaries for a configuration: built once from the store in chunks."""
    import pyarrow.parquet as pq

    from arbeidsindikator.indicator import cube as cb

    key = str(store_dir(cfg))
    if ("cube", key) in _MEMO:
        return _MEMO[("cube", key)]
    d = store_dir(cfg)
    cells_p, levels_p, summ_p = d / "cube.parquet", d / "cube_levels.json", d / "summaries.pkl"
    if not (cells_p.exists() and levels_p.exists() and summ_p.exists()):
        main_models(cfg)
        t0 = time.perf_counter()
        # levels from the stored categorical dtypes (pyarrow keeps every category, in order)
        pf = pq.ParquetFile(store_panel_path(cfg))
        head = pf.read_row_group(0, columns=list(cb.GROUP_COLUMNS[1:])).to_pandas() if pf.num_row_groups else pd.read_parquet(store_panel_path(cfg))
        months = pd.DatetimeIndex(cfg.months.to_timestamp())
        levels = cb.levels_of(head, months)
        from arbeidsindikator.engines import run as engines_run

        cells, summaries = engines_run.cube(
            cfg.engine, store_panel_path(cfg), levels, _CUBE_COLUMNS,
            lambda: cb.build(iter_chunks(cfg, _CUBE_COLUMNS), levels),
            lambda: cb.combine_summaries([cb.chunk_summaries(c, levels) for c in iter_chunks(cfg, _CUBE_COLUMNS)]))
        secs = round(time.perf_counter() - t0, 1)
        atomic_write(cells_p, lambda p: cells.to_parquet(p, index=False))
        atomic_write(summ_p, lambda p: p.write_bytes(pickle.dumps({"summaries": summaries, "seconds": secs})))
        atomic_write(levels_p, lambda p: p.write_text(json.dumps(levels.to_json(), ensure_ascii=False), encoding="utf-8"))
    cells = pd.read_parquet(cells_p)
    for c in ("outcome", "org_unit", "breakdown", "group"):  # fast selection (strings are arrow-backed)
        cells[c] = cells[c].astype("category")
    levels = cb.Levels.from_json(json.loads(levels_p.read_text(encoding="utf-8")))
    s = pickle.loads(summ_p.read_bytes())
    out = Cube(cells=cells, levels=levels, summaries=s["summaries"], seconds=s["seconds"])
    _MEMO[("cube", key)] = out
    return out


def _progress(msg: str) -> None:
    """Stage markers on stderr for benchmarks/bench_book.py (only if ARBEIDSINDIKATOR_PROGRESS is set)."""
    if os.environ.get("ARBEIDSINDIKATOR_PROGRESS"):
        import sys

        print(f"@@ {msg}", file=sys.stderr, flush=True)


def _stage_child(target: str, cfg: RunConfig, queue: Any) -> None:
    try:
        queue.put(("ok", globals()[target](cfg)))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent
        queue.put(("error", exc))


def _in_child(target: str, cfg: RunConfig) -> Any:
    """``target(cfg)`` (a function of this module) in a spawned child process; its result."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    proc = ctx.Process(target=_stage_child, args=(target, cfg, q))
    proc.start()
    import queue as _queue

    try:
        while True:
            try:
                status, value = q.get(timeout=2.0)
                break
            except _queue.Empty:
                if not proc.is_alive():  # killed (e.g. out of memory) before it could report
                    raise RuntimeError(f"stage {target} ended with exit code {proc.exitcode} and no result") from None
    finally:
        proc.join()
    if status == "error":
        raise value
    return value


def _panel_stage(cfg: RunConfig) -> float:
    """Build (or find) the cached panel file; the rows are not kept. Seconds taken."""
    t0 = time.perf_counter()
    if not (panel_path(cfg).exists() and (cfg.cache_dir / f"panel-{_cache_key(cfg)}.pkl").exists()):
        load_panel(cfg)
        _MEMO.pop(("panel", _cache_key(cfg)), None)
    return time.perf_counter() - t0


def prepare(cfg: RunConfig, *, in_subprocess: bool = True) -> dict[str, float]:
    """Build the panel, fit the main models (writing the store) and build the cube (timed).

    By default the stages run in child processes: the panel build (several GB at production
    scale) in one, the models and the cube in the next, so each stage's memory goes back to the
    system when it ends instead of staying resident in the build process (or under the next
    stage). The models stage reads the panel file by column and in chunks. Results are on disk
    (the caches) either way.
    """
    if not in_subprocess:
        return _prepare_here(cfg)
    done = (store_dir(cfg) / "cube.parquet").exists() and (store_dir(cfg) / "models.pkl").exists()
    t0 = time.perf_counter()
    if not done:
        _progress("stage panel")
        _in_child("_panel_stage", cfg)
    t1 = time.perf_counter()
    out = _in_child("_prepare_here", cfg)
    out["panel_s"] = round(t1 - t0 + out["panel_s"], 1)
    return out


def _prepare_here(cfg: RunConfig) -> dict[str, float]:
    """Build the panel, fit the main models (writing the store) and build the cube (timed).

    The panel's rows are never held by the later stages: they read the panel file and the store.
    """
    t0 = time.perf_counter()
    done = (store_dir(cfg) / "cube.parquet").exists() and (store_dir(cfg) / "models.pkl").exists()
    if not done:
        _progress("stage panel")
        _panel_stage(cfg)
    t1 = time.perf_counter()
    _progress("stage models")
    mm = main_models(cfg)
    t2 = time.perf_counter()
    _progress("stage cube")
    import gc

    gc.collect()
    cube(cfg)
    t3 = time.perf_counter()
    _progress("stage chapters")
    return {"panel_s": round(t1 - t0, 1), "models_s": round(t2 - t1, 1), "cube_s": round(t3 - t2, 1),
            **{f"{k}_s": v for k, v in mm.seconds.items()}}


def weighted_mean(x: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum(x * w) / np.sum(w))


def indicator_series(
    cfg: RunConfig,
    outcome: str,
    by: str | list[str] | None = None,
    adjust: bool = True,
    subset: str | None = None,
) -> pd.DataFrame:
    """Monthly indicator table for an outcome (optionally by groups), seasonally adjusted per series.

    Read from the indicator cube (:func:`cube`), never from the person-months. Seasonal
    adjustment uses the configured reference windows for the outcome's horizon (digest §1.5).
    Groups whose reference months do not cover all twelve calendar months cannot be adjusted
    and are returned unadjusted with ``adjusted = False``. ``subset`` names a flag column
    (``ungdomsgaranti``, ``landgruppe3``) restricting the rows first.
    """
    from arbeidsindikator.indicator import cube as cb
    from arbeidsindikator.indicator import seasonal

    c = cube(cfg)
    table = cb.monthly_table(c.cells, c.levels, outcome, by, subset=subset)
    return adjust_series(cfg, table, outcome, by, adjust)


def adjust_series(cfg: RunConfig, table: pd.DataFrame, outcome: str, by: str | list[str] | None, adjust: bool = True) -> pd.DataFrame:
    """Seasonal adjustment of a monthly indicator table with the configured windows."""
    from arbeidsindikator.indicator import seasonal

    if not adjust:
        return table.assign(adjusted=False)
    windows = seasonal.windows_for(cfg, outcome)
    groups = [] if by is None else ([by] if isinstance(by, str) else list(by))
    return seasonal.adjust_table(table, windows, group_levels=groups)


def indicator_series_in_memory(
    cfg: RunConfig, outcome: str, by: str | list[str] | None = None, adjust: bool = True, subset: str | None = None
) -> pd.DataFrame:
    """:func:`indicator_series` computed from the whole panel in memory (the reference path)."""
    from arbeidsindikator.indicator import indicator

    df = panel_with_expected(cfg)
    if subset is not None:
        df = df[df[subset].astype(bool)]
    return adjust_series(cfg, indicator.monthly(df, outcome, by), outcome, by, adjust)


def national(cfg: RunConfig) -> dict[str, pd.DataFrame]:
    """Seasonally adjusted national indicator series for all four outcomes (figures 6–9)."""
    return {o: indicator_series(cfg, o) for o in OUTCOMES}


# --- profiling data (seed 003): the source choice, like the panel's ---------------------------

def load_profiling_data(cfg: Any) -> ProfilingData:
    """The validated input tables for a run configuration.

    Synthetic: :func:`arbeidsindikator.synthetic.registrations.generate_registrations` with
    ``profiling.scale`` (default 0.25), ``profiling.seed`` (default: data.synthetic.seed) and the
    configured periods. Extracts: ``<data.path>/profiling/{registrations,spells,wages}.parquet``
    (or ``.csv``); G from ``data/reference/G.csv`` or the built-in table.
    """
    p = params_from_config(cfg)
    if getattr(cfg, "is_synthetic", True):
        s = generate_registrations(scale=cfg.profiling.scale, seed=cfg.profiling_seed,
                                   periods=p.periods, per_month=cfg.profiling.per_month)
        data = s.data
    else:
        folder = Path(cfg.data_path) / "profiling"

        def read(name: str) -> pd.DataFrame:
            for ext, reader in ((".parquet", pd.read_parquet), (".csv", pd.read_csv)):
                if (folder / f"{name}{ext}").exists():
                    return reader(folder / f"{name}{ext}")
            raise FileNotFoundError(f"{folder}/{name}.parquet (or .csv) not found")

        data = ProfilingData(read("registrations"), read("spells"), read("wages"), load_g_table())
    return validate_profiling_data(data)
