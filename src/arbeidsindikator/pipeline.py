"""From a run configuration to the analysis panel, the fitted main models and expected values.

Every chapter calls these functions; results are cached on disk under ``cfg.cache_dir`` keyed
by the configuration's fingerprint and the code's fingerprint, so chapters never regenerate
data or refit models needlessly. Cache files are written atomically (temp file + rename).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from .config import RunConfig
from .contract import OUTCOMES, validate_panel
from .covariates import CovariateOptions, build_covariates, horizon_of

PACKAGE_DIR = Path(__file__).resolve().parent
FAMILY = {"atid3": "ols", "atid12": "ols", "jobb3": "probit", "jobb12": "probit"}


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Hash of the package's source files: a code change invalidates cached results."""
    h = hashlib.sha256()
    for p in sorted(PACKAGE_DIR.glob("*.py")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def data_fingerprint(df: pd.DataFrame) -> str:
    """Content hash of a frame (row order and column names included)."""
    h = hashlib.sha256()
    h.update(",".join(df.columns).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def atomic_write(path: Path, writer: Callable[[Path], Any]) -> None:
    """Write via a temporary file in the same folder, then rename: no half-written outputs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        writer(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@dataclass
class PanelData:
    """The validated analysis panel plus what the book reports about where it came from."""

    panel: pd.DataFrame
    fingerprint: str
    report: dict[str, Any] = field(default_factory=dict)
    truth: dict[str, pd.Series] = field(default_factory=dict)


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
        from .panel import panel_from_config

        panel, report = panel_from_config(cfg)
        truth: dict[str, Any] = {}
        if cfg.source == "synthetic" and report.get("truth"):
            from .synthetic_extracts import load_truth

            truth = load_truth(report["truth"])
        return panel, report, truth
    assert cfg.data_path is not None
    reader = pd.read_csv if cfg.data_path.suffix == ".csv" else pd.read_parquet
    return reader(cfg.data_path), {"file": str(cfg.data_path)}, {}


_MEMO: dict[str, Any] = {}


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
        report = dict(report, seconds=round(time.perf_counter() - t0, 1))
        meta = {"report": report, "truth": truth, "fingerprint": data_fingerprint(panel)}
        atomic_write(path, lambda p: panel.to_parquet(p, index=False))
        atomic_write(meta_path, lambda p: p.write_bytes(pickle.dumps(meta)))
        if verbose:
            print(f"panel: {len(panel):,} rows built in {report['seconds']} s")
    out = PanelData(panel=panel, fingerprint=meta["fingerprint"], report=meta["report"], truth=meta["truth"])
    _MEMO[("panel", key)] = out
    return out


def covariate_options(cfg: RunConfig) -> CovariateOptions:
    return CovariateOptions(duration_categories=cfg.duration_categories, include_hours_at_t=cfg.include_hours_at_t)


@dataclass
class MainModels:
    """Fitted main models (one per outcome) and expected values for every panel row."""

    fits: dict[str, Any]
    expected: pd.DataFrame  # columns = outcomes, aligned with the panel rows
    seconds: dict[str, float]


def fit_main_models(
    panel: pd.DataFrame,
    options: CovariateOptions,
    outcomes: tuple[str, ...] = OUTCOMES,
    family: dict[str, str] | None = None,
    cov_type: str = "classical",
) -> MainModels:
    """Fit the main model for each outcome on all observable rows; predict every row."""
    from .models import build_design, fit

    family = family or FAMILY
    fits: dict[str, Any] = {}
    expected = pd.DataFrame(index=panel.index)
    seconds: dict[str, float] = {}
    designs: dict[int, Any] = {}
    for outcome in outcomes:
        t0 = time.perf_counter()
        h = horizon_of(outcome)
        if h not in designs:
            designs[h] = build_design(build_covariates(panel, h, options))
        res = fit(designs[h], panel[outcome].to_numpy(dtype=float), family=family[outcome], outcome=outcome)  # type: ignore[arg-type]
        fits[outcome] = res
        # a level seen only in rows whose outcome is not yet observable gets NaN (never used)
        expected[outcome] = res.predict(designs[h], unseen="nan")
        seconds[outcome] = round(time.perf_counter() - t0, 2)
    return MainModels(fits=fits, expected=expected, seconds=seconds)


def main_models(cfg: RunConfig) -> MainModels:
    """The four main models for a configuration (cached by data + specification + code)."""
    key = _cache_key(cfg)
    if ("models", key) in _MEMO:
        return _MEMO[("models", key)]
    path = cfg.cache_dir / f"models-{key}.pkl"
    if path.exists():
        mm = pickle.loads(path.read_bytes())
    else:
        mm = fit_main_models(load_panel(cfg).panel, covariate_options(cfg))
        atomic_write(path, lambda p: p.write_bytes(pickle.dumps(mm)))
    _MEMO[("models", key)] = mm
    return mm


def panel_with_expected(cfg: RunConfig) -> pd.DataFrame:
    """The panel with expected values ``exp_<outcome>`` and the derived breakdowns (memoised)."""
    from .indicator import add_derived_groups

    key = _cache_key(cfg)
    if ("with_expected", key) not in _MEMO:
        pdata = load_panel(cfg)
        mm = main_models(cfg)
        df = pdata.panel.assign(**{f"exp_{o}": mm.expected[o].to_numpy() for o in mm.expected.columns})
        _MEMO[("with_expected", key)] = add_derived_groups(df)
    return _MEMO[("with_expected", key)]


def prepare(cfg: RunConfig) -> dict[str, float]:
    """Build the panel and fit the main models once, before the chapters run (timed)."""
    t0 = time.perf_counter()
    load_panel(cfg)
    t1 = time.perf_counter()
    main_models(cfg)
    t2 = time.perf_counter()
    return {"panel_s": round(t1 - t0, 1), "models_s": round(t2 - t1, 1)}


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

    Seasonal adjustment uses the configured reference windows for the outcome's horizon
    (digest §1.5). Groups whose reference months do not cover all twelve calendar months
    cannot be adjusted and are returned unadjusted with ``adjusted = False``. ``subset`` names
    a boolean column (e.g. ``ungdomsgaranti``) restricting the rows first.
    """
    from . import indicator, seasonal

    df = panel_with_expected(cfg)
    if subset is not None:
        df = df[df[subset].astype(bool)]
    table = indicator.monthly(df, outcome, by)
    if not adjust:
        return table.assign(adjusted=False)
    windows = seasonal.windows_for(cfg, outcome)
    groups = [] if by is None else ([by] if isinstance(by, str) else list(by))
    return seasonal.adjust_table(table, windows, group_levels=groups)


def national(cfg: RunConfig) -> dict[str, pd.DataFrame]:
    """Seasonally adjusted national indicator series for all four outcomes (figures 6–9)."""
    return {o: indicator_series(cfg, o) for o in OUTCOMES}
