"""Run configuration: the control panel of one build of the book.

A run configuration is a small YAML file (see ``configs/default.yml``). Every chapter receives
only the path of that file as its papermill parameter; all values are validated here so that a
wrong value fails early with a message naming the key, the value and what was expected.

Checked when the file is loaded (issue 12): duplicate keys in the YAML; unknown keys at every
level, with the nearest valid key suggested (a typo must not silently fall back to a default);
months given as 'YYYY-MM' text (``period.start: 2017`` is rejected, not read as January; one
parser, :func:`arbeidsindikator.windows.parse_month`);
a COVID window inside the period; seasonal reference windows inside the period and clear of
the COVID window; and the ``profiling`` section (:class:`ProfilingConfig`) with the rest.

The accepted keys are declared once in :data:`SCHEMA`, so a new key is one entry there.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, Mapping

import pandas as pd
import yaml

from arbeidsindikator.spec import OUTCOMES, SPELL_GAP_MONTHS
from arbeidsindikator.windows import Window, parse_month

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO_ROOT / "configs" / "default.yml"

DataSource = Literal["synthetic", "extracts", "panel"]


class ConfigError(ValueError):
    """A run configuration is missing a key or holds a value outside what is allowed."""


# --------------------------------------------------------------------------------------------
# The accepted keys (one declaration; unknown keys are rejected with a suggestion)
# --------------------------------------------------------------------------------------------

#: Keys of the ``profiling`` section that set :class:`arbeidsindikator.profiling.evaluation.ProfilingParams`
#: fields, with the kind of value each takes. Their defaults live in ``ProfilingParams`` only.
PROFILING_PARAM_KINDS: dict[str, str] = {
    "periods": "windows", "age_min": "int", "age_max": "int", "horizon": "int",
    "stable_above_g": "float", "stable_min_months": "int", "stable_late_first": "int",
    "stable_late_last": "int", "stable_late_min": "int", "without_below_g": "float",
    "without_min_months": "int", "history_months": "int", "history_above_g": "float",
    "wages_observed_from": "month?", "wages_observed_until": "month?",
    "work_rule": "str", "merge_margin_days": "int", "min_work_months": "int", "age_tag_min": "int",
    "age_tag_max": "int", "age_tag_max_later": "int", "age_tag_change": "str", "nus2_tag_from": "str?",
    "noe_age_min": "int", "noe_age_max": "int", "noe_age_max_later": "int", "noe_age_change": "str",
    "missing_decision_is_standard": "bool", "months_since_bands": "ints", "n24_bands": "ints",
    "volume_b": "float", "variant_b_rule": "choice:same_without_as_today|fixed_volume", "typical_month": "int", "bootstrap_replicates": "int", "bootstrap_seed": "int",
    "calibration_bins": "int", "volume_grid": "floats",
}

#: Every accepted key, nested as in the YAML file (``None`` marks a leaf).
#: ``bootstrap.refit_outcomes`` when not given (see :attr:`RunConfig.refit_outcomes`).
DEFAULT_REFIT_OUTCOMES: tuple[str, ...] = ("atid3", "atid12")


SCHEMA: dict[str, Any] = {
    "name": None,
    "data": {"source": None, "path": None, "synthetic": {"n_persons": None, "seed": None}},
    "period": {"start": None, "end": None, "length_months": None},
    "model": {"duration_categories": None, "gap_months": None, "include_hours_at_t": None, "growth": None,
              "pooling": {"min_persons": None, "no_variation": None}},
    "indicator": {"min_cell_count": None, "covid_window": None,
                  "seasonal_reference": {"short": None, "long": None}},
    "bootstrap": {"replicates": None, "seed": None, "max_refit_rows": None, "refit_outcomes": None},
    "output": {"cache_dir": None, "archive_dir": None, "previous_publication": None, "chunk_rows": None},
    "profiling": {"scale": None, "seed": None, "per_month": None, **{k: None for k in PROFILING_PARAM_KINDS}},
    "engine": {"backend": None, "scheduler": None, "workers": None, "threads_per_worker": None,
               "memory_limit": None, "partition_rows": None, "work_dir": None},
}
KNOWN_TOP_KEYS = set(SCHEMA)


def _check_keys(raw: Mapping[str, Any], schema: Mapping[str, Any], prefix: str, problems: list[str]) -> None:
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        if key not in schema:
            near = difflib.get_close_matches(str(key), [str(k) for k in schema], n=1, cutoff=0.6)
            hint = f"; did you mean '{prefix}{near[0]}'?" if near else ""
            problems.append(f"{dotted}: unknown key{hint} (allowed here: {', '.join(sorted(schema))})")
        elif isinstance(schema[key], dict):
            if value is None or value == "auto":  # a section left to the documented rule (windows.py)
                continue
            if not isinstance(value, dict):
                problems.append(f"{dotted}: expected a section (mapping), got {value!r}")
            else:
                _check_keys(value, schema[key], dotted + ".", problems)


def _checked_section(raw: Any, name: str) -> Mapping[str, Any]:
    """One top-level section checked on its own: a mapping whose keys are all in ``SCHEMA[name]``.

    The ``profiling`` and ``engine`` sections are validated this way (also when read outside
    :func:`load_config`); every unknown key is named with a suggestion, all in one error.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{name}: expected a section (mapping), got {raw!r}")
    problems: list[str] = []
    _check_keys(raw, SCHEMA[name], f"{name}.", problems)
    if problems:
        raise ConfigError("\n".join(problems))
    return raw


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (YAML would keep the last silently)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ConfigError(
                f"duplicate key {key!r} (lines {seen[key] + 1} and {key_node.start_mark.line + 1}); "
                "YAML would silently keep the last one")
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file, rejecting duplicate keys."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 (SafeLoader subclass)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc


# --------------------------------------------------------------------------------------------
# Typed sections
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfilingConfig:
    """The ``profiling`` section (seed 003), validated with the rest of the configuration.

    ``scale``, ``seed`` and ``per_month`` steer the synthetic registrations (``seed`` None: the
    data seed). ``params`` holds the validated overrides of the evaluation's parameters
    (:data:`PROFILING_PARAM_KINDS`); every other parameter keeps the default of ``ProfilingParams``.
    """

    scale: float = 0.25
    seed: int | None = None
    per_month: int = 9000
    params: tuple[tuple[str, Any], ...] = ()

    def overrides(self) -> dict[str, Any]:
        """Keyword arguments for ``ProfilingParams``."""
        return dict(self.params)


def _leaf(section: Mapping[str, Any], key: str, prefix: str, kind: str, lo: float | None = None,
          hi: float | None = None) -> Any:
    v = section[key]
    where = f"{prefix}.{key}"
    if kind.endswith("?"):
        if v is None:
            return None
        kind = kind[:-1]
    if kind == "int":
        if isinstance(v, bool) or not isinstance(v, int):
            raise ConfigError(f"{where}: expected an integer, got {v!r}")
    elif kind == "float":
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {v!r}")
        v = float(v)
    elif kind == "bool":
        if not isinstance(v, bool):
            raise ConfigError(f"{where}: expected true/false, got {v!r}")
    elif kind == "str":
        if not isinstance(v, str):
            raise ConfigError(f"{where}: expected text, got {v!r}")
    elif kind.startswith("choice:"):
        choices = kind[len("choice:"):].split("|")
        if v not in choices:
            raise ConfigError(f"{where}: expected one of {', '.join(choices)}, got {v!r}")
    elif kind == "month":
        parse_month(v, where, error=ConfigError)
    elif kind in ("ints", "floats"):
        ok = int if kind == "ints" else (int, float)
        if not isinstance(v, list) or not v or any(isinstance(x, bool) or not isinstance(x, ok) for x in v):
            raise ConfigError(f"{where}: expected a list of {'integers' if kind == 'ints' else 'numbers'}, got {v!r}")
        v = tuple(v if kind == "ints" else (float(x) for x in v))
    elif kind == "windows":
        v = tuple((str(w.start), str(w.end)) for w in _windows(v, where))
    else:  # pragma: no cover
        raise AssertionError(kind)
    if lo is not None and v < lo or hi is not None and v > hi:
        raise ConfigError(f"{where}: expected a value in [{lo}, {hi}], got {v}")
    return v


def profiling_section(raw: Mapping[str, Any] | None) -> ProfilingConfig:
    """Validate the ``profiling`` mapping of a configuration (unknown keys named, with a suggestion)."""
    raw = _checked_section(raw or {}, "profiling")
    default = ProfilingConfig()
    scale = _leaf(raw, "scale", "profiling", "float", lo=0.001, hi=100.0) if "scale" in raw else default.scale
    seed = _leaf(raw, "seed", "profiling", "int", lo=0) if "seed" in raw else default.seed
    per_month = _leaf(raw, "per_month", "profiling", "int", lo=1) if "per_month" in raw else default.per_month
    params = tuple((k, _leaf(raw, k, "profiling", PROFILING_PARAM_KINDS[k])) for k in PROFILING_PARAM_KINDS if k in raw)
    kw = dict(params)
    if kw.get("age_min", 0) > kw.get("age_max", 200):
        raise ConfigError(f"profiling: age_min {kw['age_min']} is above age_max {kw['age_max']}")
    return ProfilingConfig(scale=scale, seed=seed, per_month=per_month, params=params)


ENGINE_BACKENDS = ("inprocess", "dask", "duckdb")
_BYTES_RE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$")


@dataclass(frozen=True)
class EngineConfig:
    """The ``engine`` section: where the model and cube stages run (issue 11, :mod:`arbeidsindikator.engines`).

    ``backend``: ``inprocess`` (default: the estimation engine in the build's process),
    ``dask`` (a ``dask.distributed`` cluster: ``scheduler`` address, or a local cluster of
    ``workers`` processes with ``threads_per_worker`` threads and ``memory_limit`` each) or
    ``duckdb`` (the cube as SQL, run by DuckDB; models in process). ``partition_rows``: rows per
    partition (default: ``output.chunk_rows``); ``work_dir``: folder for the coded design
    between passes (default: a temporary folder; on a multi-node cluster one every worker sees).
    The backend changes where sums are taken, not the numbers (equal to 1e-10; tests/engines),
    so the section is not part of the data fingerprint.
    """

    backend: str = "inprocess"
    scheduler: str | None = None
    workers: int = 2
    threads_per_worker: int = 1
    memory_limit: str = "4GB"
    partition_rows: int | None = None
    work_dir: Path | None = None


def engine_section(raw: Any) -> EngineConfig:
    """Validate the ``engine`` mapping (clear errors naming key, value and what is allowed)."""
    if raw is None:
        return EngineConfig()
    raw = _checked_section(raw, "engine")
    backend = raw.get("backend", "inprocess")
    if backend not in ENGINE_BACKENDS:
        near = difflib.get_close_matches(str(backend), ENGINE_BACKENDS, n=1, cutoff=0.5)
        hint = f"; did you mean '{near[0]}'?" if near else ""
        raise ConfigError(f"engine.backend: expected one of {', '.join(ENGINE_BACKENDS)}, got {backend!r}{hint}")
    scheduler = raw.get("scheduler")
    if scheduler is not None:
        if not isinstance(scheduler, str) or not re.match(r"^([a-z]+://)?[\w.\-\[\]:]+:\d+$", scheduler.strip()):
            raise ConfigError(f"engine.scheduler: expected a scheduler address such as 'tcp://10.0.0.5:8786' or null, got {scheduler!r}")
        if backend != "dask":
            raise ConfigError(f"engine.scheduler: only the dask backend uses a scheduler (engine.backend is {backend!r})")
    ints = {}
    for key, default in (("workers", 2), ("threads_per_worker", 1)):
        v = raw.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 1024:
            raise ConfigError(f"engine.{key}: expected an integer in [1, 1024], got {v!r}")
        ints[key] = v
    mem = raw.get("memory_limit", "4GB")
    if isinstance(mem, bool) or not (isinstance(mem, int) and mem > 0 or isinstance(mem, str) and (_BYTES_RE.match(mem) or mem == "auto")):
        raise ConfigError(f"engine.memory_limit: expected a size per worker such as '4GB', '512MiB', a number of bytes or 'auto', got {mem!r}")
    prow = raw.get("partition_rows")
    if prow is not None and (isinstance(prow, bool) or not isinstance(prow, int) or prow < 1):
        raise ConfigError(f"engine.partition_rows: expected a positive integer or null, got {prow!r}")
    work_dir = raw.get("work_dir")
    if work_dir is not None and not isinstance(work_dir, str):
        raise ConfigError(f"engine.work_dir: expected a folder path or null, got {work_dir!r}")
    if backend in ("dask", "duckdb"):
        import importlib.util

        need = ("dask", "distributed") if backend == "dask" else ("duckdb",)
        missing = [m for m in need if importlib.util.find_spec(m) is None]
        if missing:
            raise ConfigError(f"engine.backend: {backend!r} needs the package(s) {', '.join(missing)} "
                              "(pip install -r requirements.txt)")
    return EngineConfig(backend=backend, scheduler=scheduler.strip() if scheduler else None, workers=ints["workers"],
                        threads_per_worker=ints["threads_per_worker"], memory_limit=str(mem),
                        partition_rows=prow, work_dir=Path(work_dir) if work_dir else None)


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
    #: pooling of rare levels (panel.covariates.PoolingRule): fewer persons than this, or no
    #: variation in the probit outcome, merges a level into its neighbour (0 / false: off)
    pool_min_persons: int = 10
    pool_no_variation: bool = True
    #: expected employment growth in the commuting region as a regressor (table 4's model; needs
    #: the optional extract sysselsettingsvekst)
    include_growth: bool = False
    min_cell_count: int = 10
    seasonal_windows_short: tuple[Window, ...] = ()
    seasonal_windows_long: tuple[Window, ...] = ()
    covid_window: Window | None = None
    bootstrap_replicates: int = 200
    bootstrap_seed: int = 1
    #: outcomes whose refit bootstrap (appendix C: refit per replicate) the book runs; the analytic
    #: and multiplier intervals cover all four. Default the two OLS outcomes: a probit refit costs
    #: ~10x an OLS one (Newton steps), and all four would take the default book over 5 minutes
    refit_outcomes: tuple[str, ...] = DEFAULT_REFIT_OUTCOMES
    profiling: ProfilingConfig = field(default_factory=ProfilingConfig)
    cache_dir: Path = field(default=REPO_ROOT / "_build" / "cache")
    engine: EngineConfig = field(default_factory=EngineConfig, compare=False)
    raw: dict = field(default_factory=dict, repr=False, compare=False)
    #: why the period and the seasonal windows are what they are (windows.py; shown in the book)
    provenance: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def months(self) -> pd.PeriodIndex:
        return pd.period_range(self.start, self.end, freq="M")

    @property
    def is_synthetic(self) -> bool:
        return self.source == "synthetic"

    @property
    def profiling_seed(self) -> int:
        """Seed of the synthetic registrations: ``profiling.seed``, else the data seed."""
        return self.profiling.seed if self.profiling.seed is not None else self.seed

    def fingerprint(self) -> str:
        """Hash of every value that changes the numbers (not the file's name, path or output folders)."""
        # the effective fields as well as the file's text: a configuration changed in code
        # (dataclasses.replace, e.g. the spell-gap alternative) must not share a cache entry
        effective = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("path", "name", "cache_dir", "raw", "provenance", "engine")}
        payload = json.dumps(
            {"raw": {k: v for k, v in self.raw.items() if k not in ("name", "output", "engine")}, "effective": effective},
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
            "pooling of rare levels": (f"fewer than {self.pool_min_persons} persons"
                                       + (" or no variation in the probit outcome" if self.pool_no_variation else "")
                                       if self.pool_min_persons else
                                       ("no variation in the probit outcome" if self.pool_no_variation else "off")),
            "expected employment growth (shift-share)": "in the model" if self.include_growth else "not in the model",
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
        w = Window(parse_month(pair[0], f"{key}[{i}][0]", error=ConfigError),
                   parse_month(pair[1], f"{key}[{i}][1]", error=ConfigError))
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


def _outcome_list(d: dict, dotted: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A list of outcome names (subset of spec.OUTCOMES, no repeats), in spec order."""
    v = _get(d, dotted, list(default))
    if isinstance(v, str) or not isinstance(v, (list, tuple)):
        raise ConfigError(f"{dotted}: expected a list of outcomes from {list(OUTCOMES)}, got {v!r}")
    bad = [x for x in v if x not in OUTCOMES]
    if bad:
        raise ConfigError(f"{dotted}: unknown outcome(s) {bad}; expected names from {list(OUTCOMES)}")
    if len(set(v)) != len(v):
        raise ConfigError(f"{dotted}: an outcome is listed twice in {list(v)}")
    return tuple(o for o in OUTCOMES if o in v)


def _int(d: dict, dotted: str, default: Any = ..., lo: int | None = None, hi: int | None = None) -> int:
    v = _get(d, dotted, default)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ConfigError(f"{dotted}: expected an integer, got {v!r}")
    if lo is not None and v < lo or hi is not None and v > hi:
        raise ConfigError(f"{dotted}: expected a value in [{lo}, {hi}], got {v}")
    return v


def check_windows(start: pd.Period, end: pd.Period, covid: Window | None,
                  seasonal: Mapping[str, tuple[Window, ...]]) -> list[str]:
    """Problems with the COVID and seasonal reference windows relative to the period and each other."""
    problems = []
    period = Window(start, end)
    if covid is not None and (covid.start < start or covid.end > end):
        problems.append(f"indicator.covid_window: {covid} is not inside the period {period}")
    for name, windows in seasonal.items():
        for i, w in enumerate(windows):
            key = f"indicator.seasonal_reference.{name}[{i}]"
            if w.start < start or w.end > end:
                problems.append(f"{key}: {w} is not inside the period {period}")
            if covid is not None and w.overlaps(covid):
                problems.append(f"{key}: {w} overlaps the COVID window {covid} (seasonal factors "
                                "must be estimated outside it)")
    return problems


def load_config(path: str | Path | None = None) -> RunConfig:
    """Read and validate a run configuration (YAML). ``None`` means the synthetic default."""
    path = Path(path) if path else DEFAULT_CONFIG
    if not path.is_absolute() and not path.exists():
        path = REPO_ROOT / path
    if not path.exists():
        raise ConfigError(f"configuration file not found: {path}")
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at top level")
    problems: list[str] = []
    _check_keys(raw, SCHEMA, "", problems)
    if problems:
        raise ConfigError(f"{path}: " + ("\n  ".join(problems) if len(problems) > 1 else problems[0]))

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
    covid = _windows([_get(raw, "indicator.covid_window", ["2020-03", "2022-02"])], "indicator.covid_window")[0]
    cache_dir = Path(_get(raw, "output.cache_dir", "_build/cache"))
    if not cache_dir.is_absolute():
        cache_dir = REPO_ROOT / cache_dir
    covid_window = covid
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
    include_growth = _get(raw, "model.growth", False)
    if not isinstance(include_growth, bool):
        raise ConfigError(f"model.growth: expected true/false, got {include_growth!r}")
    pool_nv = _get(raw, "model.pooling.no_variation", True)
    if not isinstance(pool_nv, bool):
        raise ConfigError(f"model.pooling.no_variation: expected true/false, got {pool_nv!r}")
    problems = check_windows(start, end, covid_window, resolved)
    if problems:
        raise ConfigError(f"{path}: " + "\n  ".join(problems))

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
        pool_min_persons=_int(raw, "model.pooling.min_persons", 10, lo=0),
        pool_no_variation=pool_nv,
        include_growth=include_growth,
        min_cell_count=_int(raw, "indicator.min_cell_count", 10, lo=1),
        seasonal_windows_short=resolved["short"],
        seasonal_windows_long=resolved["long"],
        covid_window=covid_window,
        bootstrap_replicates=_int(raw, "bootstrap.replicates", 200, lo=2),
        bootstrap_seed=_int(raw, "bootstrap.seed", 1, lo=0),
        refit_outcomes=_outcome_list(raw, "bootstrap.refit_outcomes", DEFAULT_REFIT_OUTCOMES),
        profiling=profiling_section(raw.get("profiling")),
        cache_dir=cache_dir,
        engine=engine_section(raw.get("engine")),
        raw=raw,
        provenance=provenance,
    )


def config_summary(cfg: RunConfig) -> dict[str, Any]:
    """Plain dict of the validated values (for logs and the run stamp)."""
    d = asdict(cfg)
    d.pop("raw", None)
    return {k: str(v) for k, v in d.items()}
