"""The rule that moves the period and the seasonal reference windows with the data (issue 15).

NAV republishes every quarter: the newest monthly stocks are added, the oldest may be dropped and
the model is re-estimated on the whole window (seed 002 ch. 2 and 4). A run configuration may
therefore leave the period and the seasonal reference windows to this rule instead of editing
them by hand; values written in the configuration always win.

**Period.** ``period.end: auto`` is the last month the extracts cover (``manifest.json``: the
declared period's end; a panel file: its newest month). ``period.start: auto`` is the first month
they cover or, with ``period.length_months: N``, the month ``N − 1`` months before the end (the
oldest months are dropped, as NAV does).

**Seasonal reference windows** (digest §1.5) for an outcome with horizon ``h`` months
(3 for atid3/jobb3, 12 for atid12/jobb12), given the COVID window ``[c0, c1]`` of stocks and the
last month of observed hours ``H`` (the period's end unless the extracts observe hours later):

* *before COVID*: the months ``t ≥ start`` whose whole outcome window ``t+1 … t+h`` lies before
  ``c0`` (``t ≤ c0 − h − 1``), cut to whole years counted from the period's start, so that each
  calendar month enters the older window equally often; left out if less than one year remains;
* *after COVID*: from ``c1 + 1 + gap`` (``gap`` = ``POST_COVID_GAP_MONTHS`` = 1: the report leaves
  the first month after the COVID window, March 2022, out) to the last month whose outcome is
  observable, ``H − h``. This window grows by one quarter at every publication.

The report does not state its rule. This one is the simplest we found that gives exactly the
report's windows for its period 2017-12–2024-06 (short: 2017-12–2019-11 and 2022-04–2024-03;
long: 2017-12–2018-11 and 2022-04–2023-06; tested), and it says in words why each window is what
it is, so the book can print it.

**Months** are parsed in one place, :func:`parse_month` (text ``'YYYY-MM'`` only; a bare year, a
date or month 13 raises an error naming the key and the value): the configuration, this rule and
the manifest's coverage all call it.

Layer 0, beside :mod:`arbeidsindikator.config` (which imports it; it reads ``manifest.json`` as
plain JSON and imports only :mod:`arbeidsindikator.spec`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from arbeidsindikator.spec import HORIZONS


@dataclass(frozen=True)
class Window:
    """A closed range of measurement months [start, end]."""

    start: pd.Period
    end: pd.Period

    def contains(self, months: pd.PeriodIndex | pd.Series) -> Any:
        return (months >= self.start) & (months <= self.end)

    def overlaps(self, other: "Window") -> bool:
        return self.start <= other.end and other.start <= self.end

    def __str__(self) -> str:
        return f"{self.start}–{self.end}"

#: Horizon of each set of reference windows (config keys ``short`` and ``long``).
WINDOW_HORIZON: dict[str, int] = {"short": 3, "long": 12}
#: Months after the COVID window before the post-COVID reference window starts (report: 1).
POST_COVID_GAP_MONTHS = 1
AUTO = "auto"


class WindowRuleError(ValueError):
    """The rule cannot derive a period or reference windows (the message says why)."""


@dataclass(frozen=True)
class Coverage:
    """Months a data source covers: first and last analysis month, last month of observed hours."""

    start: pd.Period
    end: pd.Period
    hours_last: pd.Period | None
    source: str  # where it was read, for the book's explanation


@dataclass(frozen=True)
class Period:
    """The resolved analysis period and why it is what it is."""

    start: pd.Period
    end: pd.Period
    hours_last: pd.Period | None
    reason: str


class MonthError(ValueError):
    """A month is not written as ``'YYYY-MM'`` (the message names the key and the value)."""


_MONTH_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def parse_month(value: Any, key: str, *, error: type[Exception] = MonthError, auto: bool = False,
                example: str = "2017-12") -> pd.Period:
    """The one month parser of the configuration, the window rule and the manifest's coverage.

    Accepts text ``'YYYY-MM'`` (surrounding blanks ignored, month 01–12) or a monthly
    :class:`pandas.Period`; anything else (a bare year such as ``2017``, a date, month 13, a
    number) raises ``error`` with a message naming ``key`` and the value. ``auto`` says in the
    message that ``'auto'`` is also accepted there (the caller handles it before parsing).
    """
    if isinstance(value, pd.Period) and value.freqstr == "M":
        return value
    if isinstance(value, str) and _MONTH_RE.fullmatch(value.strip()):
        return pd.Period(value.strip(), freq="M")
    notes = ["or 'auto'"] if auto else []
    if isinstance(value, int) and not isinstance(value, bool):
        notes.append("a bare year is ambiguous")
    notes.append(f"write the month quoted, e.g. '{example}'")
    raise error(f"{key}: expected a month as 'YYYY-MM', got {value!r} ({'; '.join(notes)})")


def coverage_of(source: str, data_path: Path | None) -> Coverage | None:
    """The coverage of a configuration's data, or None for synthetic data (nothing to read).

    Extracts: ``manifest.json`` (period and ``coverage.timer``). Panel file: the ``month`` column.
    Reads only metadata or one column; validates nothing else (the data contract does that).
    """
    if source == "synthetic" or data_path is None:
        return None
    data_path = Path(data_path)
    if source == "extracts":
        man = data_path / "manifest.json"
        try:
            raw = json.loads(man.read_text(encoding="utf-8"))
            start = parse_month(raw["period"]["start"], "manifest period.start")
            end = parse_month(raw["period"]["end"], "manifest period.end")
            timer = (raw.get("coverage") or {}).get("timer")
            hours_last = (parse_month(timer[1], "manifest coverage.timer[1]")
                          if isinstance(timer, list) and len(timer) == 2 else None)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise WindowRuleError(f"period: 'auto' needs the extracts' coverage, but {man} cannot be read: {exc}") from exc
        return Coverage(start, end, hours_last, f"{man.name} of {data_path}")
    if data_path.suffix == ".csv":
        months = pd.read_csv(data_path, usecols=["month"])["month"]
    else:
        months = pd.read_parquet(data_path, columns=["month"])["month"]
    per = pd.to_datetime(months).dt.to_period("M")
    return Coverage(per.min(), per.max(), None, f"the month column of {data_path.name}")


def resolve_period(period: Any, coverage: Callable[[], Coverage | None]) -> Period:
    """Apply the period rule to a configuration's ``period`` mapping.

    ``period`` holds ``start`` and ``end`` (``'YYYY-MM'`` or ``'auto'``) and optionally
    ``length_months``. ``coverage`` is called only when something is ``auto``.
    """
    if not isinstance(period, dict):
        raise WindowRuleError(f"period: expected a mapping with start and end, got {period!r}")
    s_raw, e_raw = period.get("start", AUTO), period.get("end", AUTO)
    length = period.get("length_months")
    if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length < 1):
        raise WindowRuleError(f"period.length_months: expected a positive integer, got {length!r}")
    if length is not None and s_raw != AUTO:
        raise WindowRuleError("period: give either start or length_months, not both (start must be 'auto')")
    needed = e_raw == AUTO or (s_raw == AUTO and length is None)
    cov = coverage() if needed else None
    if needed and cov is None:
        raise WindowRuleError("period: 'auto' needs data with a coverage (extracts or a panel file), "
                              "not synthetic data; give the months")
    why = []
    end = (cov.end if e_raw == AUTO  # type: ignore[union-attr]
           else parse_month(e_raw, "period.end", error=WindowRuleError, auto=True, example="2024-06"))
    why.append(f"end {end} = last month of {cov.source}" if e_raw == AUTO else f"end {end} from the configuration")
    if s_raw == AUTO and length is not None:
        start = end - (length - 1)
        if cov is not None and start < cov.start:
            raise WindowRuleError(f"period.length_months: {length} months up to {end} start {start}, "
                                  f"before the data's first month {cov.start}")
        why.append(f"start {start} = {length} months up to the end (older months dropped)")
    elif s_raw == AUTO:
        start = cov.start  # type: ignore[union-attr]
        why.append(f"start {start} = first month of {cov.source}")  # type: ignore[union-attr]
    else:
        start = parse_month(s_raw, "period.start", error=WindowRuleError, auto=True)
        why.append(f"start {start} from the configuration")
    hours_last = cov.hours_last if cov is not None else None
    return Period(start, end, hours_last, "; ".join(why))


def reference_windows(start: pd.Period, end: pd.Period, covid: Window, horizon: int,
                      hours_last: pd.Period | None = None,
                      post_gap: int = POST_COVID_GAP_MONTHS) -> tuple[tuple[Window, ...], str]:
    """Seasonal reference windows for an outcome horizon by the rule of the module docstring.

    Returns the windows and a sentence saying why. Raises :class:`WindowRuleError` when the
    windows would not hold all twelve calendar months (seasonal adjustment is then impossible).
    """
    start, end = parse_month(start, "start", error=WindowRuleError), parse_month(end, "end", error=WindowRuleError)
    last_hours = parse_month(hours_last, "hours_last", error=WindowRuleError) if hours_last is not None else end
    last_obs = min(end, last_hours - horizon)
    out: list[Window] = []
    why: list[str] = []
    pre_end = covid.start - horizon - 1
    n_pre = (pre_end - start).n + 1
    if n_pre >= 12:
        years = n_pre // 12
        w = Window(start, start + (12 * years - 1))
        out.append(w)
        why.append(f"{w}: before COVID, outcome months t+1…t+{horizon} before {covid.start}"
                   + (f" (≤ {pre_end}), cut to {years} whole year(s)" if w.end != pre_end else f" (≤ {pre_end})"))
    else:
        why.append(f"no pre-COVID window: fewer than 12 months from {start} with the outcome before {covid.start}")
    post_start = max(start, covid.end + 1 + post_gap)
    if last_obs >= post_start:
        w = Window(post_start, last_obs)
        out.append(w)
        why.append(f"{w}: after COVID, leaving out {post_gap} month(s) after the COVID window's end {covid.end}, "
                   f"to the last month whose {horizon}-month outcome is observable (hours through {last_hours})")
    else:
        why.append(f"no post-COVID window: no month from {post_start} has its outcome observed")
    covered = set()
    for w in out:
        covered |= set(pd.period_range(w.start, w.end, freq="M").month)
    if len(covered) < 12:
        raise WindowRuleError(
            f"the rule's reference windows for {horizon}-month outcomes ({'; '.join(why)}) miss calendar "
            f"month(s) {sorted(set(range(1, 13)) - covered)}; give indicator.seasonal_reference explicitly")
    return tuple(out), "; ".join(why)


def resolve_windows(value: Any, key: str, period: Period, covid: Window,
                    parse: Callable[[Any, str], tuple[Window, ...]]) -> tuple[tuple[Window, ...], str]:
    """Explicit windows (parsed by ``parse``) win; ``'auto'`` or a missing value applies the rule."""
    if value is None or value == AUTO:
        w, why = reference_windows(period.start, period.end, covid, WINDOW_HORIZON[key], period.hours_last)
        return w, f"rule: {why}"
    given = parse(value, f"indicator.seasonal_reference.{key}")
    try:
        rule, _ = reference_windows(period.start, period.end, covid, WINDOW_HORIZON[key], period.hours_last)
        note = ("the rule gives the same" if rule == given
                else f"the rule would give {', '.join(str(w) for w in rule)}")
    except WindowRuleError:
        note = "the rule gives no valid windows for this period"
    return given, f"from the configuration ({note})"


def windows_table(cfg: Any) -> pd.DataFrame:
    """Which period and reference windows a build used, and why (for the book)."""
    prov = getattr(cfg, "provenance", {}) or {}
    rows = [("period", f"{cfg.start}–{cfg.end}", prov.get("period", "from the configuration")),
            ("COVID window (stocks)", str(cfg.covid_window), "from the configuration")]
    for key, wins in (("short", cfg.seasonal_windows_short), ("long", cfg.seasonal_windows_long)):
        outcomes = ", ".join(o for o, h in HORIZONS.items() if h == WINDOW_HORIZON[key])
        rows.append((f"seasonal reference, {outcomes}", ", ".join(str(w) for w in wins),
                     prov.get(f"seasonal_reference.{key}", "from the configuration")))
    return pd.DataFrame(rows, columns=["setting", "value", "why"])
