"""Run configuration: the control panel of one build of the book.

A run configuration is a small YAML file (see ``configs/default.yml``). Every chapter receives
only the path of that file as its papermill parameter; all values are validated here so that a
wrong value fails early with a message naming the key, the value and what was expected.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml

from arbeidsindikator.windows import Window

from arbeidsindikator.spec import SPELL_GAP_MONTHS

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO_ROOT / "configs" / "default.yml"

DataSource = Literal["synthetic", "extracts", "panel"]


class ConfigError(ValueError):
    """A run configuration is missing a key or holds a value outside what is allowed."""


def _month(value: Any, key: str) -> pd.Period:
    try:
        return pd.Period(str(value), freq="M")
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{key}: expected a month as 'YYYY-MM', got {value!r}") from exc


@dataclass(frozen=True)
class RunConfig:
    """Validated run configuration. Build with :func:`load_config`."""

    path: Path
    name: str
    source: DataSource
    data_path: Path | None
    n_persons: int
    seed: int
    start: pd.Period
    end: pd.Period
    duration_categories: int = 20
    gap_months: int = SPELL_GAP_MONTHS
    include_hours_at_t: bool = True
    min_cell_count: int = 10
    seasonal_windows_short: tuple[Window, ...] = ()
    seasonal_windows_long: tuple[Window, ...] = ()
    covid_window: Window | None = None
    bootstrap_replicates: int = 200
    bootstrap_seed: int = 1
    cache_dir: Path = field(default=REPO_ROOT / "_build" / "cache")
    raw: dict = field(default_factory=dict, repr=False, compare=False)
    #: why the period and the seasonal windows are what they are (windows.py; shown in the book)
    provenance: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def months(self) -> pd.PeriodIndex:
        return pd.period_range(self.start, self.end, freq="M")

    @property
    def is_synthetic(self) -> bool:
        return self.source == "synthetic"

    def fingerprint(self) -> str:
        """Hash of every value that changes the numbers (not the file's name, path or output folders)."""
        # the effective fields as well as the file's text: a configuration changed in code
        # (dataclasses.replace, e.g. the spell-gap alternative) must not share a cache entry
        effective = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("path", "name", "cache_dir", "raw", "provenance")}
        payload = json.dumps(
            {"raw": {k: v for k, v in self.raw.items() if k not in ("name", "output")}, "effective": effective},
            sort_keys=True, default=str,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def as_table(self) -> pd.DataFrame:
        """Parameters as a two-column table for the run stamp in the book."""
        rows = {
            "configuration": self.path.name,
            "data source": self.source if self.source != "synthetic" else "synthetic (generated)",
            "data path": str(self.data_path) if self.data_path else "—",
            "period": f"{self.start}–{self.end}",
            "seasonal reference (3-month outcomes)": ", ".join(str(w) for w in self.seasonal_windows_short),
            "seasonal reference (12-month outcomes)": ", ".join(str(w) for w in self.seasonal_windows_long),
            "seed": self.seed,
            "persons generated": self.n_persons if self.is_synthetic else "—",
            "duration categories": self.duration_categories,
            "spell gap (months)": self.gap_months,
            "minimum cell count": self.min_cell_count,
        }
        return pd.DataFrame({"parameter": list(rows), "value": [str(v) for v in rows.values()]})


def _windows(value: Any, key: str) -> tuple[Window, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{key}: expected a list of [start, end] month pairs, got {value!r}")
    out = []
    for i, pair in enumerate(value):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ConfigError(f"{key}[{i}]: expected [start, end], got {pair!r}")
        w = Window(_month(pair[0], f"{key}[{i}][0]"), _month(pair[1], f"{key}[{i}][1]"))
        if w.end < w.start:
            raise ConfigError(f"{key}[{i}]: end {w.end} is before start {w.start}")
        out.append(w)
    return tuple(out)


def _get(d: dict, dotted: str, default: Any = ...) -> Any:
    cur: Any = d
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            if default is ...:
                raise ConfigError(f"missing key '{dotted}'")
            return default
        cur = cur[part]
    return cur


def _int(d: dict, dotted: str, default: Any = ..., lo: int | None = None, hi: int | None = None) -> int:
    v = _get(d, dotted, default)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ConfigError(f"{dotted}: expected an integer, got {v!r}")
    if lo is not None and v < lo or hi is not None and v > hi:
        raise ConfigError(f"{dotted}: expected a value in [{lo}, {hi}], got {v}")
    return v


KNOWN_TOP_KEYS = {"name", "data", "period", "model", "indicator", "bootstrap", "output", "profiling"}


def load_config(path: str | Path | None = None) -> RunConfig:
    """Read and validate a run configuration (YAML). ``None`` means the synthetic default."""
    path = Path(path) if path else DEFAULT_CONFIG
    if not path.is_absolute() and not path.exists():
        path = REPO_ROOT / path
    if not path.exists():
        raise ConfigError(f"configuration file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at top level")
    unknown = set(raw) - KNOWN_TOP_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown top-level keys {sorted(unknown)}; allowed: {sorted(KNOWN_TOP_KEYS)}")

    source = _get(raw, "data.source")
    if source not in ("synthetic", "extracts", "panel"):
        raise ConfigError(f"data.source: expected 'synthetic', 'extracts' or 'panel', got {source!r}")
    data_path = _get(raw, "data.path", None)
    if source != "synthetic":
        if not data_path:
            raise ConfigError(f"data.path: required when data.source is '{source}'")
        data_path = Path(data_path)
        if not data_path.is_absolute():
            data_path = (path.parent / data_path).resolve()
        if not data_path.exists():
            raise ConfigError(f"data.path: {data_path} does not exist")
    else:
        data_path = None

    # period and seasonal windows may follow the data (issue 15): explicit values win
    from arbeidsindikator import windows as rule

    try:
        period = rule.resolve_period(_get(raw, "period"), lambda: rule.coverage_of(source, data_path))
    except rule.WindowRuleError as exc:
        raise ConfigError(str(exc)) from exc
    start, end = period.start, period.end
    if end < start:
        raise ConfigError(f"period: end {end} is before start {start}")
    n_months = (end - start).n + 1
    if n_months < 24:
        raise ConfigError(
            f"period: {start}–{end} holds {n_months} months; seasonal adjustment needs at least 24"
        )
    dur = _int(raw, "model.duration_categories", 20)
    if dur not in (20, 61):
        raise ConfigError(f"model.duration_categories: expected 20 (appendix D) or 61 (report), got {dur}")
    covid = _get(raw, "indicator.covid_window", ["2020-03", "2022-02"])
    cache_dir = Path(_get(raw, "output.cache_dir", "_build/cache"))
    if not cache_dir.is_absolute():
        cache_dir = REPO_ROOT / cache_dir
    covid_window = _windows([covid], "indicator.covid_window")[0]
    seasonal = _get(raw, "indicator.seasonal_reference", rule.AUTO)
    seasonal = {"short": rule.AUTO, "long": rule.AUTO} if seasonal == rule.AUTO else seasonal
    if not isinstance(seasonal, dict):
        raise ConfigError(f"indicator.seasonal_reference: expected 'auto' or a mapping with short/long, got {seasonal!r}")
    provenance = {"period": period.reason}
    resolved: dict[str, tuple[Window, ...]] = {}
    for key in ("short", "long"):
        try:
            resolved[key], provenance[f"seasonal_reference.{key}"] = rule.resolve_windows(
                seasonal.get(key), key, period, covid_window, _windows)
        except rule.WindowRuleError as exc:
            raise ConfigError(f"indicator.seasonal_reference.{key}: {exc}") from exc
    include_hours = _get(raw, "model.include_hours_at_t", True)
    if not isinstance(include_hours, bool):
        raise ConfigError(f"model.include_hours_at_t: expected true/false, got {include_hours!r}")

    return RunConfig(
        path=path.resolve(),
        name=str(_get(raw, "name", path.stem)),
        source=source,
        data_path=data_path,
        n_persons=_int(raw, "data.synthetic.n_persons", 20000, lo=100, hi=5_000_000),
        seed=_int(raw, "data.synthetic.seed", 20250401, lo=0),
        start=start,
        end=end,
        duration_categories=dur,
        gap_months=_int(raw, "model.gap_months", SPELL_GAP_MONTHS, lo=1, hi=24),
        include_hours_at_t=include_hours,
        min_cell_count=_int(raw, "indicator.min_cell_count", 10, lo=1),
        seasonal_windows_short=resolved["short"],
        seasonal_windows_long=resolved["long"],
        covid_window=covid_window,
        bootstrap_replicates=_int(raw, "bootstrap.replicates", 200, lo=2),
        bootstrap_seed=_int(raw, "bootstrap.seed", 1, lo=0),
        cache_dir=cache_dir,
        raw=raw,
        provenance=provenance,
    )


def config_summary(cfg: RunConfig) -> dict[str, Any]:
    """Plain dict of the validated values (for logs and the run stamp)."""
    d = asdict(cfg)
    d.pop("raw", None)
    return {k: str(v) for k, v in d.items()}
