"""From a run configuration to the analysis panel, the fitted main models, the store and the cube.

Every chapter calls these functions; results are cached on disk under ``cfg.cache_dir`` keyed
by the configuration's fingerprint and the code's fingerprint, so chapters never regenerate
data or refit models needlessly. Cache files are written atomically (temp file + rename).

The stages live in three modules, in the order data travel:

- :mod:`~arbeidsindikator.pipeline.sources`: the source choice (the only one in the package)
  and the panel stage (raw extracts → validated → analysis panel, cached);
- :mod:`~arbeidsindikator.pipeline.models`: the main models fitted from the panel file in
  chunks (pure stage functions);
- :mod:`~arbeidsindikator.pipeline.store`: the cached models stage writing the store (panel +
  expected values) and the cube stage, with the store's chunked readers.

This module runs the stages (:func:`prepare`, each in a child process) and serves the
indicator series read from the cube.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import pandas as pd

from arbeidsindikator.config import RunConfig
from arbeidsindikator.data.contract import OUTCOMES
from arbeidsindikator.pipeline.models import (
    MainModels,
    covariates_from_file,
    fit_main_models,
    fit_main_models_from_file,
)
from arbeidsindikator.pipeline.sources import (
    PanelData,
    _MEMO,
    _cache_key,
    build_panel_file,
    covariate_options,
    input_fingerprint,
    load_panel,
    load_profiling_data,
    panel_from_config,
    panel_meta,
    panel_path,
)
from arbeidsindikator.pipeline.store import (
    CHUNK_ENV,
    DEFAULT_CHUNK_ROWS,
    Cube,
    chunk_rows,
    cube,
    forget,
    iter_chunks,
    main_models,
    panel_with_expected,
    store_dir,
    store_frame,
    store_panel_path,
)

__all__ = [
    "CHUNK_ENV", "DEFAULT_CHUNK_ROWS", "Cube", "MainModels", "PanelData", "adjust_series", "build_panel_file", "chunk_rows",
    "covariate_options", "covariates_from_file", "cube", "fit_main_models", "fit_main_models_from_file",
    "forget", "indicator_series", "indicator_series_in_memory", "input_fingerprint", "iter_chunks",
    "load_panel", "load_profiling_data", "main_models", "national", "panel_from_config", "panel_meta",
    "panel_path", "panel_with_expected", "prepare", "store_dir", "store_frame", "store_panel_path",
    "weighted_mean",
]


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
    from arbeidsindikator.io import freed_memory_returned

    t0 = time.perf_counter()
    with freed_memory_returned():  # its chunks' memory goes back as each is written (io.py)
        build_panel_file(cfg)  # streamed to disk chunk by chunk; the rows are never all in memory
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
