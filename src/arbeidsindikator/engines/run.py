"""What the pipeline's model and cube stages call when ``engine.backend`` is not ``inprocess``.

:func:`main_models` fits the four main models on the configured backend from the panel's
parquet file and writes the store's panel file (panel + ``exp_<outcome>`` + flags, one row group
per partition of whole persons, as the in-process store); :func:`cube` builds the indicator
cube and the chapters' summaries from the store. Backends:

* ``dask``: models, predictions and cube on a Dask cluster (:class:`.dask_backend.DaskEngine`);
  a local cluster is started once per process and closed at exit.
* ``duckdb``: the cube's cells as SQL (:mod:`.sql`) run by DuckDB; the models (probit needs
  the normal CDF, which portable SQL lacks) and the summaries run in process.
"""

from __future__ import annotations

import atexit
import os
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from arbeidsindikator.config import EngineConfig
from arbeidsindikator.data.contract import OUTCOMES
from arbeidsindikator.engines.partitions import Partition, plan_partitions
from arbeidsindikator.panel.covariates import CovariateOptions

__all__ = ["cube", "main_models"]

_ENGINES: dict[tuple, Any] = {}


def _close_all() -> None:
    for eng in list(_ENGINES.values()):
        try:
            eng.__exit__(None, None, None)
        except Exception:  # noqa: BLE001 - closing at exit: nothing left to report to
            pass
    _ENGINES.clear()


atexit.register(_close_all)


def dask_engine(ec: EngineConfig) -> Any:
    """The process's Dask engine for this configuration (started on first use)."""
    from arbeidsindikator.engines.dask_backend import DaskEngine

    key = (ec.scheduler, ec.workers, ec.threads_per_worker, ec.memory_limit, str(ec.work_dir))
    if key not in _ENGINES:
        _ENGINES[key] = DaskEngine(scheduler=ec.scheduler, workers=ec.workers, threads_per_worker=ec.threads_per_worker,
                                   memory_limit=ec.memory_limit, work_dir=ec.work_dir).__enter__()
    return _ENGINES[key]


def merge_parts(files: Sequence[str], dest: Path, write: Callable[[Path, Callable[[Path], None]], None]) -> None:
    """Part files → one parquet file, one row group per part (streamed: one part in memory)."""
    import pyarrow.parquet as pq

    def go(p: Path) -> None:
        writer = None
        try:
            for f in files:
                t = pq.read_table(f)
                if writer is None:
                    writer = pq.ParquetWriter(p, t.schema)
                elif t.schema != writer.schema:
                    t = t.cast(writer.schema)
                writer.write_table(t, row_group_size=max(t.num_rows, 1))
        finally:
            if writer is not None:
                writer.close()

    write(dest, go)
    for f in files:
        os.remove(f)


def main_models(ec: EngineConfig, panel_path: Path, store_path: Path, chunk_rows: int, options: CovariateOptions,
                write: Callable[[Path, Callable[[Path], None]], None], outcomes: Sequence[str] = OUTCOMES,
                ) -> tuple[dict[str, Any], dict[str, float], pd.DataFrame, dict[int, list[dict[str, Any]]]]:
    """Fits, seconds, the regressor table and the pooled levels by horizon; writes the store's panel file.

    The store's panel file is written at ``store_path``; the pooled levels are the rows of
    ``panel.covariates.pooling_table`` (as ``MainModels.pooled`` in process).

    ``write`` is the atomic writer (:func:`arbeidsindikator.io.atomic_write`). Only the dask
    backend fits models outside the process (the caller runs the in-process path otherwise).
    """
    if ec.backend != "dask":
        raise ValueError(f"engine.backend {ec.backend!r} fits the models in process")
    t0 = time.perf_counter()
    parts = plan_partitions(panel_path, ec.partition_rows or chunk_rows)
    eng = dask_engine(ec)
    fits, designs, seconds = eng.fit_models(parts, options, outcomes)
    t1 = time.perf_counter()
    tmp = store_path.parent / (store_path.name + ".parts")
    files = eng.predict_to(parts, fits, designs, tmp)
    merge_parts([f for f, _ in files], store_path, write)
    try:
        tmp.rmdir()
    except OSError:
        pass
    seconds = dict(seconds, fit_predict_total=round(t1 - t0, 1), write_store=round(time.perf_counter() - t1, 1))
    regressors = designs[3].regressor_summary() if 3 in designs else None
    return fits, seconds, regressors, {h: list(g.pooled) for h, g in designs.items()}  # type: ignore[return-value]


def cube(ec: EngineConfig, store_path: Path, levels: Any, columns: Sequence[str],
         in_process_build: Callable[[], tuple[pd.DataFrame, dict[str, pd.DataFrame]]],
         summaries_only: Callable[[], dict[str, pd.DataFrame]]) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Cube cells and summaries on the configured backend (same columns and order as in process)."""
    if ec.backend == "dask":
        import pyarrow.parquet as pq

        md = pq.ParquetFile(store_path).metadata
        parts, lo = [], 0
        for i in range(md.num_row_groups):  # one partition per row group: whole persons, as stored
            n = md.row_group(i).num_rows
            parts.append(Partition(str(store_path), lo, lo + n))
            lo += n
        return dask_engine(ec).cube(parts, levels, columns)
    if ec.backend == "duckdb":
        from arbeidsindikator.engines.sql import sql_cube

        return sql_cube(str(store_path), levels, threads=ec.threads_per_worker * ec.workers), summaries_only()
    return in_process_build()
