"""The source choice and the panel stage: run configuration → raw extracts → validated panel.

The only place that picks the data source (synthetic generator, a folder of extracts, one panel
file) for the indicator and for the profiling evaluation. The panel is cached on disk under
``cfg.cache_dir``, keyed by the configuration's, the inputs' and the code's fingerprints
(:func:`_cache_key`); every cache file is written atomically (temp file + rename).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from arbeidsindikator.config import RunConfig
from arbeidsindikator.data.contract import PANEL_COLUMNS, ContractError, validate_panel
from arbeidsindikator.data.extracts import validate_extracts
from arbeidsindikator.io import atomic_write, code_fingerprint, data_fingerprint
from arbeidsindikator.panel.build import PanelOptions, build_panel, spill_panel
from arbeidsindikator.panel.covariates import CovariateOptions, PoolingRule
from arbeidsindikator.profiling.contract import ProfilingData, validate_profiling_data
from arbeidsindikator.synthetic import generator as se
from arbeidsindikator.synthetic.generator import load_truth


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


def _extracts_folder(cfg: RunConfig, *, verbose: bool = False) -> tuple[Path, str | None]:
    """The folder of raw extracts of a configuration (generated first if synthetic); the truth's folder."""
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
    return folder, truth_dir


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
    folder, truth_dir = _extracts_folder(cfg, verbose=verbose)
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
    """The cached analysis panel (parquet) of a configuration, written by :func:`build_panel_file`."""
    return cfg.cache_dir / f"panel-{_cache_key(cfg)}.parquet"


def panel_meta_path(cfg: RunConfig) -> Path:
    """The panel's meta (build report, planted truth, fingerprint; pickle) beside :func:`panel_path`."""
    return panel_path(cfg).with_suffix(".pkl")


def _stream_panel_file(cfg: RunConfig, path: Path, *, verbose: bool = False,
                       chunk_persons: int = PanelOptions.chunk_persons) -> dict[str, Any]:
    """Raw extracts → the panel parquet at ``path``, one person chunk at a time; the panel's meta.

    :func:`~arbeidsindikator.panel.build.spill_panel` spills each chunk's columns to a temporary
    folder in the cache; each chunk's frame is then validated against the panel contract and
    appended to the file. The whole-panel checks hold without the whole frame: the period is
    checked on every chunk, and (person, month) is unique because every chunk is unique and the
    chunks are disjoint, ascending person ranges (checked). Categorical columns get the levels
    that occur in the whole panel, sorted, as ``validate_panel`` gives the whole frame, so the file
    is the one the in-memory build wrote (same rows, order, dtypes and fingerprint). Never more
    than one chunk (``PanelOptions.chunk_persons`` persons) is held in pandas.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    folder, truth_dir = _extracts_folder(cfg, verbose=verbose)
    t1 = time.perf_counter()
    ex = validate_extracts(folder)
    t2 = time.perf_counter()
    cfg.cache_dir.mkdir(parents=True, exist_ok=True)
    spill = Path(tempfile.mkdtemp(prefix=".panel-", dir=cfg.cache_dir))
    h = hashlib.sha256()
    try:
        try:
            opt = PanelOptions(gap_months=cfg.gap_months, chunk_persons=chunk_persons)
            sp = spill_panel(ex, spill, cfg.start, cfg.end, opt, verbose=verbose)
            fp, summary = ex.fingerprint(), ex.summary
        finally:
            ex.close()
        if not sp.chunks:
            raise ContractError("panel: the table is empty")
        categorical = [c.name for c in PANEL_COLUMNS if c.dtype == "category"]

        def write(p: Path) -> None:
            writer = None
            last = None
            try:
                for frame in sp.frames():
                    out = validate_panel(frame, period=(cfg.start, cfg.end))
                    del frame
                    pid = out["person_id"].to_numpy()
                    if last is not None and pid[0] <= last:
                        raise ContractError(f"panel: person chunks overlap or are out of order (person_id {pid[0]} "
                                            f"after {last}); (person_id, month) could repeat")
                    last = pid[-1]
                    for name in categorical:
                        out[name] = out[name].cat.set_categories(sorted(sp.levels[name]))
                    if writer is None:
                        h.update(",".join(out.columns).encode())
                    h.update(pd.util.hash_pandas_object(out, index=False).to_numpy().tobytes())
                    table = pa.Table.from_pandas(out, preserve_index=False)
                    del out
                    if writer is None:
                        writer = pq.ParquetWriter(p, table.schema)
                    writer.write_table(table)
                    del table
            finally:
                if writer is not None:
                    writer.close()

        atomic_write(path, write)
    finally:
        shutil.rmtree(spill, ignore_errors=True)
    report = dict(sp.report)
    report.update({
        "source": cfg.source, "extracts": str(folder), "extracts_fingerprint": fp,
        "extract_rows": {k: v["rows"] for k, v in summary.items()}, "truth": truth_dir,
        "seconds_by_stage": {"generate": round(t1 - t0, 1), "validate": round(t2 - t1, 1),
                             "build": round(time.perf_counter() - t2, 1)},
        "seconds": round(time.perf_counter() - t0, 1),
    })
    truth: dict[str, Any] = load_truth(truth_dir) if cfg.source == "synthetic" and truth_dir else {}
    if verbose:
        print(f"panel: {report['rows']['panel']:,} rows built in {report['seconds']} s")
    return {"report": report, "truth": truth, "fingerprint": h.hexdigest()[:16]}


def build_panel_file(cfg: RunConfig, *, verbose: bool = False, chunk_persons: int = PanelOptions.chunk_persons) -> Path:
    """Build (or find) the cached panel parquet of a configuration and its meta; the file's path.

    Raw extracts (synthetic or a folder) are built chunk by chunk (:func:`_stream_panel_file`),
    so the whole panel is never in memory (``chunk_persons`` persons at a time; the file does not
    depend on it); a ready panel file (``data.source: panel``) is read and validated whole.
    """
    path, meta_path = panel_path(cfg), panel_meta_path(cfg)
    if path.exists() and meta_path.exists():
        return path
    if cfg.source in ("synthetic", "extracts"):
        meta = _stream_panel_file(cfg, path, verbose=verbose, chunk_persons=chunk_persons)
    else:
        t0 = time.perf_counter()
        raw, report, truth = _build_panel(cfg)
        panel = validate_panel(raw, period=(cfg.start, cfg.end))
        del raw
        meta = {"report": dict(report, seconds=round(time.perf_counter() - t0, 1)), "truth": truth,
                "fingerprint": data_fingerprint(panel)}
        atomic_write(path, lambda p: _write_parquet_in_parts(panel, p))
        del panel
    atomic_write(meta_path, lambda p: p.write_bytes(pickle.dumps(meta)))
    return path


def load_panel(cfg: RunConfig, *, verbose: bool = False) -> PanelData:
    """The analysis panel for a configuration: validated, restricted to the period, cached.

    The rows are read from the panel file that :func:`build_panel_file` writes (or finds).
    """
    key = _cache_key(cfg)
    if ("panel", key) in _MEMO:
        return _MEMO[("panel", key)]
    path = build_panel_file(cfg, verbose=verbose)
    panel = pd.read_parquet(path)
    meta = pickle.loads(panel_meta_path(cfg).read_bytes())
    out = PanelData(panel=panel, fingerprint=meta["fingerprint"], report=meta["report"], truth=meta["truth"])
    _MEMO[("panel", key)] = out
    return out


def covariate_options(cfg: RunConfig) -> CovariateOptions:
    return CovariateOptions(duration_categories=cfg.duration_categories, include_hours_at_t=cfg.include_hours_at_t,
                            pooling=PoolingRule(cfg.pool_min_persons, cfg.pool_no_variation),
                            include_growth=cfg.include_growth)


def panel_meta(cfg: RunConfig) -> PanelData:
    """Fingerprint, build report and planted truth of the panel, without loading its rows."""
    key = _cache_key(cfg)
    if ("panel", key) in _MEMO:
        return _MEMO[("panel", key)]
    meta_path = panel_meta_path(cfg)
    if not meta_path.exists():
        build_panel_file(cfg)
    meta = pickle.loads(meta_path.read_bytes())
    return PanelData(panel=pd.DataFrame(), fingerprint=meta["fingerprint"], report=meta["report"], truth=meta["truth"])


# --- profiling data (seed 003): the source choice, like the panel's ---------------------------

def load_profiling_data(cfg: Any) -> ProfilingData:
    """The validated input tables for a run configuration.

    Synthetic: :func:`arbeidsindikator.synthetic.registrations.generate_registrations` with
    ``profiling.scale`` (default 0.25), ``profiling.seed`` (default: data.synthetic.seed) and the
    configured periods. Extracts: ``<data.path>/profiling/{registrations,spells,wages}.parquet``
    (or ``.csv``); G from ``data/reference/G.csv`` or the built-in table.
    """
    # imported here: the evaluation pulls statsmodels and scipy.stats (~0.1 GB resident), which
    # the panel and models stages, importing this module, never use
    from arbeidsindikator.profiling.evaluation import load_g_table, params_from_config
    from arbeidsindikator.synthetic.registrations import generate_registrations

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
