"""The manifest of a folder of extracts: the analysis period and each table's coverage.

``manifest.json`` is part of the data contract (data/README.md, "Manifest"): it declares the
period and, per table, the first and last month delivered, so that coverage gaps can be told
from missing rows. Months are parsed by the one strict parser, :func:`arbeidsindikator.windows.parse_month`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from arbeidsindikator.windows import parse_month

CONTRACT_VERSION = "arbeidsindikator-extracts/1"
MANIFEST_NAME = "manifest.json"
#: The optional extract of expected employment growth (shift-share; seed 002 ch. 4, appendix D).
GROWTH_TABLE = "sysselsettingsvekst"
#: Months of NAV history needed before the first analysis month (history covariate, ch. 4).
HISTORY_MONTHS = 60
#: Minimum number of analysis months (seasonal adjustment, seed 002 ch. 2).
MIN_PERIOD_MONTHS = 24


@dataclass(frozen=True)
class Manifest:
    """What a folder of extracts declares: the analysis period and each table's coverage.

    ``coverage`` maps a table to ``(first, last)`` month (``pgi``: years). ``timer``'s last month
    is the last month of observed hours: outcomes that need later months are not observable.
    """

    start: pd.Period
    end: pd.Period
    coverage: dict[str, tuple[Any, Any]]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_months(self) -> int:
        return (self.end - self.start).n + 1

    def as_json(self) -> dict[str, Any]:
        cov = {k: [str(a), str(b)] if k != "pgi" else [int(a), int(b)] for k, (a, b) in self.coverage.items()}
        return {"contract": CONTRACT_VERSION, "period": {"start": str(self.start), "end": str(self.end)},
                "coverage": cov, **self.extra}


_MONTH_COVERAGE = ("status", "timer", "lonn", "ba_region")
_OPTIONAL_MONTH_COVERAGE = (GROWTH_TABLE,)


def read_manifest(folder: Path) -> tuple[Manifest | None, list[str]]:
    """Parse ``manifest.json``; return the manifest (or None) and the violations found."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        return None, [f"- manifest: {MANIFEST_NAME} is missing in {folder}; it declares the period and coverage (data/README.md)"]
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, [f"- manifest: {MANIFEST_NAME} is not valid JSON: {exc}"]
    problems: list[str] = []

    def month(v: Any, where: str) -> pd.Period | None:
        try:
            return parse_month(v, f"manifest.{where}", error=ValueError)
        except ValueError as exc:
            problems.append(f"- {exc}")
            return None

    period = raw.get("period", {}) if isinstance(raw, dict) else {}
    start = month(period.get("start"), "period.start")
    end = month(period.get("end"), "period.end")
    cov_raw = raw.get("coverage", {}) if isinstance(raw, dict) else {}
    coverage: dict[str, tuple[Any, Any]] = {}
    for key in (*_MONTH_COVERAGE, *_OPTIONAL_MONTH_COVERAGE):
        pair = cov_raw.get(key)
        if pair is None and key in _OPTIONAL_MONTH_COVERAGE:
            continue  # declared only when the optional table is delivered
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            problems.append(f"- manifest.coverage.{key}: expected [first month, last month], got {pair!r}")
            continue
        a, b = month(pair[0], f"coverage.{key}[0]"), month(pair[1], f"coverage.{key}[1]")
        if a is not None and b is not None:
            if b < a:
                problems.append(f"- manifest.coverage.{key}: last month {b} is before first month {a}")
            coverage[key] = (a, b)
    pgi = cov_raw.get("pgi")
    if pgi is not None:
        if (not isinstance(pgi, (list, tuple)) or len(pgi) != 2 or not all(isinstance(y, int) for y in pgi)
                or pgi[1] < pgi[0]):
            problems.append(f"- manifest.coverage.pgi: expected [first year, last year], got {pgi!r}")
        else:
            coverage["pgi"] = (int(pgi[0]), int(pgi[1]))
    if start is None or end is None or problems:
        return None, problems
    if end < start:
        return None, [f"- manifest.period: end {end} is before start {start}"]
    man = Manifest(start, end, coverage, {k: v for k, v in raw.items() if k not in ("period", "coverage", "contract")})
    n = man.n_months
    if n < MIN_PERIOD_MONTHS:
        problems.append(
            f"- manifest.period: {start}–{end} holds {n} months; seasonal adjustment needs at least "
            f"{MIN_PERIOD_MONTHS} (seed 002 ch. 2)"
        )
    st = coverage["status"]
    if st[0] > start - HISTORY_MONTHS:
        problems.append(
            f"- manifest.coverage.status: starts {st[0]}, but NAV history needs {HISTORY_MONTHS} months before "
            f"the first analysis month, i.e. from {start - HISTORY_MONTHS} or earlier"
        )
    if st[1] < end:
        problems.append(f"- manifest.coverage.status: ends {st[1]}, before the period's last month {end}")
    tm = coverage["timer"]
    if tm[0] > start or tm[1] < end:
        problems.append(f"- manifest.coverage.timer: {tm[0]}–{tm[1]} must include the period {start}–{end} (hours at t)")
    rg = coverage["ba_region"]
    if rg[0] > start + 1 or rg[1] < end:
        problems.append(
            f"- manifest.coverage.ba_region: {rg[0]}–{rg[1]} must cover {start + 1}–{end} (inflow in t+1..t+h)"
        )
    return man, problems


def declared_generator(folder: Path | None) -> dict[str, Any] | None:
    """The ``generator`` entry of a folder's manifest (None if absent or unreadable).

    The synthetic generator records itself there (module, version, seed, persons) when it writes
    extracts, so a book built from such a folder says on every page that its data are synthetic
    even though it read them as extracts (data/README.md, "manifest.json").
    """
    if folder is None:
        return None
    path = Path(folder) / MANIFEST_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    gen = raw.get("generator") if isinstance(raw, dict) else None
    return gen if isinstance(gen, dict) else None


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Write ``manifest.json`` atomically."""
    path = Path(folder) / MANIFEST_NAME
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(manifest.as_json(), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
