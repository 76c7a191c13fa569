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
from typing import Any, Callable

import numpy as np
import pandas as pd

from arbeidsindikator.config import RunConfig
from arbeidsindikator.data.contract import OUTCOMES, validate_panel
from arbeidsindikator.io import atomic_write, code_fingerprint, data_fingerprint
from arbeidsindikator.panel.covariates import CovariateOptions, build_covariates, horizon_of
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
    from arbeidsindikator.estimation import build_design, fit

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
    from arbeidsindikator.indicator.indicator import add_derived_groups

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
    from arbeidsindikator.indicator import indicator
    from arbeidsindikator.indicator import seasonal

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
