"""The store (panel + expected values on disk, parquet row groups of whole persons) and the cube.

The cached models stage (:func:`main_models`, which writes the store's panel file) and the
cube stage (:func:`cube`); chunked readers of the store (:func:`iter_chunks`,
:func:`store_frame`). Every file is written atomically; keys as in
:mod:`arbeidsindikator.pipeline.sources`.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from arbeidsindikator.config import RunConfig
from arbeidsindikator.data.contract import OUTCOMES
from arbeidsindikator.io import atomic_write, freed_memory_returned
from arbeidsindikator.pipeline.models import MainModels, release_arrow_memory, fit_main_models_from_file
from arbeidsindikator.pipeline.sources import _MEMO, _cache_key, build_panel_file, covariate_options, panel_path

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


def _derived_flags(small: pd.DataFrame) -> pd.DataFrame:
    """The columns :func:`~arbeidsindikator.indicator.indicator.add_derived_groups` adds to ``small``
    (the :data:`_DERIVED_INPUTS` of some rows), without its string per row.

    The flags are a function of (age, care group, country group) per row, so they are computed
    on every combination of the three (integer ages and country groups, the care group's
    categories; a few thousand rows) and looked up per row: identical values, ~10× less time at
    2 M rows (``astype(str)`` of the categorical made a string per row).
    """
    from arbeidsindikator.indicator.indicator import add_derived_groups

    def plain() -> pd.DataFrame:
        return add_derived_groups(small).drop(columns=_DERIVED_INPUTS)

    alder, ins, lg = small["alder"], small["innsatsgruppe"], small["landgruppe"]
    if (len(small) == 0 or not isinstance(ins.dtype, pd.CategoricalDtype)
            or not all(isinstance(x.dtype, np.dtype) and x.dtype.kind in "iu" for x in (alder, lg))):
        return plain()
    a, g = alder.to_numpy().astype(np.int64), lg.to_numpy().astype(np.int64)  # key arithmetic in int64 (no wrap)
    c = ins.cat.codes.to_numpy().astype(np.int64) + 1  # 0 = missing
    a0, g0 = int(a.min()), int(g.min())
    na, nc, ng = int(a.max()) - a0 + 1, len(ins.cat.categories) + 1, int(g.max()) - g0 + 1
    if na * nc * ng > 1_000_000:
        return plain()
    grid = np.arange(na * nc * ng)
    table = pd.DataFrame({
        "alder": (grid // (nc * ng) + a0).astype(alder.dtype),
        "innsatsgruppe": pd.Categorical.from_codes(grid // ng % nc - 1, dtype=ins.dtype),
        "landgruppe": (grid % ng + g0).astype(lg.dtype),
    })
    flags = add_derived_groups(table).drop(columns=_DERIVED_INPUTS)
    key = ((a - a0) * nc + c) * ng + (g - g0)
    return pd.DataFrame({col: flags[col].to_numpy()[key] for col in flags.columns})


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
        from concurrent.futures import Future, ThreadPoolExecutor

        writer = None
        handles = {o: open(f, "rb") for o, f in spills.items()}
        pending: Future[None] | None = None
        try:
            # Parquet encoding (one thread, the GIL released) overlaps reading and decoding the
            # next chunk: at most one chunk waits to be written.
            with ThreadPoolExecutor(max_workers=1) as ex:
                for (lo, hi), table in zip(cuts, chunks(), strict=True):
                    # Arrow all the way: only the flags' inputs go through pandas
                    flags = _derived_flags(table.select(_DERIVED_INPUTS).to_pandas())
                    for o, fh in handles.items():
                        table = table.append_column(f"exp_{o}", pa.array(np.fromfile(fh, dtype=np.float64, count=hi - lo)))
                    for c in flags.columns:
                        table = table.append_column(c, pa.array(flags[c].to_numpy()))
                    if writer is None:
                        # expected values are continuous: dictionary encoding would be tried and dropped
                        writer = pq.ParquetWriter(p, table.schema, use_dictionary=[
                            c for c in table.column_names if c not in {f"exp_{o}" for o in spills}])
                    if pending is not None:
                        pending.result()
                    pending = ex.submit(writer.write_table, table, row_group_size=hi - lo)
                    del flags, table
                if pending is not None:
                    pending.result()
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
    release_arrow_memory()


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
            build_panel_file(cfg)
        fits, seconds, regressors, pooled = engines_run.main_models(cfg.engine, ppath, store_panel_path(cfg),
                                                                    chunk_rows(cfg), covariate_options(cfg), atomic_write)
        mm = MainModels(fits=fits, expected=None, seconds=seconds, regressors=regressors, pooled=pooled)
        atomic_write(path, lambda p: p.write_bytes(pickle.dumps(mm)))
    else:
        ppath = panel_path(cfg)
        build_panel_file(cfg)  # finds it, or streams it to disk; the stage reads the file, by column
        t0 = time.perf_counter()
        spill = Path(tempfile.mkdtemp(prefix=".expected-", dir=cfg.cache_dir))
        try:
            with freed_memory_returned():  # each phase reuses what the one before freed (io.py)
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
