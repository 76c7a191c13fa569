"""From raw register extracts to the monthly analysis panel (seed 002 ch. 2–4; issue 3 (c)).

One row per person and measurement month t in the population: registered at the end of month t
with a §14a service group other than "varig tilpasset innsats" (seed 002 ch. 2). For each row:

* **age** in whole years and **residence time** (botid, months since immigration; empty if born
  in Norway) at t (ch. 4, table 1);
* **NAV history**: months in the population in the 60 months t-60..t-1 (ch. 4: "antall måneder
  siste fem år"; 0–60, the contract's range);
* **NAV duration**: months since the start of the current spell. A spell breaks after a gap of
  ``gap_months`` or more months outside the population (text: three; footnotes 11/13: two — a
  parameter, default 3). ``duration_counts="elapsed"`` (default, the contract's "months since the
  start") counts calendar months; ``"registered"`` counts registered months (the text's
  "antall måneder en bruker var registrert"). Spells already running in the first month of the
  status extract are *left-censored*: their duration is a lower bound (counted in the report);
* **pre-entry income**: wage income in the 12 months before the spell started, in units of G
  (each month's wage divided by the yearly G in force; 12 such months ≈ a yearly income in G),
  as "no wage income" (0) or deciles 1–10 (ch. 4 and footnote 10). Spells whose 12-month window
  starts before the wage data begin (the report: entries before 2015, when a-ordningen starts),
  and left-censored spells, use pensionable income of the year before entry, in G, instead
  ("0" = none, deciles 1–10; the year's G is the mean of its monthly amounts). Deciles are row-weighted quantiles over the panel's
  positive values;
* **hours at t**: agreed hours in month t / (52/12) (hours per week);
* **commuting-region inflow**: new unemployed / labour force of the office's region, averaged over
  t+1..t+3 and t+1..t+12 (footnote 9; 20 quantile classes are made in :mod:`covariates`).
  Where the region series ends before t+h the average uses the months available (counted);
* **expected employment growth** (optional): the commuting region's value of the extract
  ``sysselsettingsvekst`` in month t, as column ``sysselsettingsvekst``, only when the extracts
  hold that table (ch. 4, table 4; appendix D removed it from the model);
* the four **outcomes** from :func:`arbeidsindikator.panel.outcomes.outcomes_by_index`: empty when
  t+3 / t+12 lies after the last month of observed hours (``coverage.timer``), never zero-filled.

Rows are processed in chunks of persons so memory stays bounded. Every row left out is counted
with its reason in the report (``report["excluded"]``), never dropped silently.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from arbeidsindikator.data.contract import FYLKER, GROWTH_COLUMN, HOVEDGRUPPER, PANEL_COLUMN_NAMES
from arbeidsindikator.data.extracts import (
    GROWTH_TABLE,
    HISTORY_MONTHS,
    INNSATSGRUPPER_RAW,
    TILTAK,
    Extracts,
    ExtractError,
)
from arbeidsindikator.data.grunnbelop import g_per_month, month_start, month_to_index, sql_month_index
from arbeidsindikator.spec import SPELL_GAP_MONTHS
from arbeidsindikator.panel.outcomes import HORIZONS, WEEKS_PER_MONTH, outcomes_by_index

__all__ = [
    "AGE_MIN",
    "AGE_MAX",
    "PanelOptions",
    "spell_breaks",
    "spell_starts",
    "nav_duration",
    "nav_history",
    "window_sum",
    "spell_rows",
    "pre_entry_income",
    "excluded_rows",
    "decile",
    "build_panel",
    "spill_panel",
    "SpilledPanel",
    "exclusion_table",
]

#: Ages kept in the panel (the contract's range); rows outside are excluded and counted.
AGE_MIN, AGE_MAX = 16, 75
VARIG = INNSATSGRUPPER_RAW.index("varig_tilpasset")
_STRIDE = np.int64(1 << 21)  # separates persons in combined (person, month) keys; > any month index
_TILTAK_CODES = tuple(TILTAK)


@dataclass(frozen=True)
class PanelOptions:
    """Choices the source leaves open (each a documented parameter)."""

    gap_months: int = SPELL_GAP_MONTHS
    duration_counts: Literal["elapsed", "registered"] = "elapsed"
    chunk_persons: int = 250_000
    keep_aux: bool = False  # keep auxiliary columns (incomes in NOK/G, spell start) for checks

    def __post_init__(self) -> None:
        if self.gap_months < 1:
            raise ValueError(f"gap_months must be ≥ 1, got {self.gap_months}")
        if self.duration_counts not in ("elapsed", "registered"):
            raise ValueError(f"duration_counts must be 'elapsed' or 'registered', got {self.duration_counts!r}")


# ---------------------------------------------------------------------------------------------
# Spell, duration, history: vectorised over rows sorted by (person, month), one row per month
# ---------------------------------------------------------------------------------------------


def spell_breaks(gap: np.ndarray | int, gap_months: int) -> np.ndarray:
    """True where a gap of ``gap`` months outside the population ends the previous spell."""
    return np.asarray(gap) >= gap_months


def _new_person(person: np.ndarray) -> np.ndarray:
    first = np.ones(len(person), dtype=bool)
    first[1:] = person[1:] != person[:-1]
    return first


def _check_sorted(person: np.ndarray, midx: np.ndarray) -> None:
    if len(person) > 1:
        same = person[1:] == person[:-1]
        if np.any(person[1:] < person[:-1]) or np.any(same & (midx[1:] <= midx[:-1])):
            raise ValueError("rows must be sorted by (person, month) with one row per person-month")


def spell_starts(person: np.ndarray, midx: np.ndarray, gap_months: int) -> tuple[np.ndarray, np.ndarray]:
    """Start month and first-row position of the spell each row belongs to.

    ``person``/``midx`` (month index) must be sorted by person then month, one row per month in
    the population. A new spell starts at a person's first row and after a gap of
    ``gap_months`` or more months (``midx - previous - 1``).
    """
    person = np.asarray(person)
    midx = np.asarray(midx, dtype=np.int64)
    _check_sorted(person, midx)
    n = len(midx)
    new = _new_person(person)
    if n > 1:
        gap = midx[1:] - midx[:-1] - 1
        new[1:] |= spell_breaks(gap, gap_months)
    first_row = np.maximum.accumulate(np.where(new, np.arange(n), 0)) if n else np.zeros(0, np.int64)
    return midx[first_row], first_row


def nav_duration(person: np.ndarray, midx: np.ndarray, gap_months: int,
                 counts: Literal["elapsed", "registered"] = "elapsed") -> tuple[np.ndarray, np.ndarray]:
    """Months since the start of the current spell (0 = started this month) and the spell start."""
    start, first_row = spell_starts(person, midx, gap_months)
    if counts == "elapsed":
        dur = np.asarray(midx, dtype=np.int64) - start
    else:
        dur = np.arange(len(midx)) - first_row
    return dur, start


def nav_history(person: np.ndarray, midx: np.ndarray, window: int = HISTORY_MONTHS) -> np.ndarray:
    """Number of the person's rows in months t-window..t-1 (months in the population before t)."""
    person = np.asarray(person)
    midx = np.asarray(midx, dtype=np.int64)
    _check_sorted(person, midx)
    code = np.cumsum(_new_person(person)) if len(person) else np.zeros(0, np.int64)
    key = code.astype(np.int64) * _STRIDE + midx
    lo = np.searchsorted(key, key - window, side="left")
    return np.arange(len(key)) - lo


def window_sum(person: np.ndarray, midx: np.ndarray, value: np.ndarray,
               q_person: np.ndarray, q_first: np.ndarray, q_last: np.ndarray) -> np.ndarray:
    """Sum of ``value`` over the person's months ``q_first..q_last`` (inclusive), per query.

    ``person``/``midx`` need not be sorted; missing months count as 0.
    """
    return window_sums(person, midx, [value], q_person, q_first, q_last)[0]


def window_sums(person: np.ndarray, midx: np.ndarray, values: list[np.ndarray],
                q_person: np.ndarray, q_first: np.ndarray, q_last: np.ndarray) -> list[np.ndarray]:
    """:func:`window_sum` of several value columns of the same rows: one sort and one pair of
    binary searches for all of them (each sum as :func:`window_sum` computes it alone)."""
    key = np.asarray(person, dtype=np.int64) * _STRIDE + np.asarray(midx, dtype=np.int64)
    order = np.argsort(key, kind="stable")
    key = key[order]
    qp = np.asarray(q_person, dtype=np.int64) * _STRIDE
    lo = np.searchsorted(key, qp + q_first, side="left")
    hi = np.searchsorted(key, qp + q_last, side="right")
    out = []
    for value in values:
        cs = np.concatenate([[0.0], np.cumsum(np.asarray(value, dtype=np.float64)[order])])
        out.append(cs[hi] - cs[lo])
    return out


def decile(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """0 for x ≤ 0 ("no income"), else 1–10 by the nine decile edges; NaN stays NaN."""
    x = np.asarray(x, dtype=float)
    d = 1 + np.searchsorted(edges, x, side="right").astype(float)
    d = np.where(x <= 0, 0.0, np.minimum(d, 10.0))
    return np.where(np.isnan(x), np.nan, d)


def decile_edges(x: np.ndarray) -> np.ndarray:
    """Nine edges splitting the positive values of ``x`` into ten equally large groups."""
    pos = x[np.isfinite(x) & (x > 0)]
    if len(pos) == 0:
        return np.full(9, np.inf)
    return np.quantile(pos, np.linspace(0.1, 0.9, 9))


# ---------------------------------------------------------------------------------------------
# Builder
# ---------------------------------------------------------------------------------------------

_STATUS_SQL = """
SELECT s.person_id AS pid, {midx} AS midx,
       list_position({ig}, s.innsatsgruppe) - 1 AS ig,
       list_position({hg}, s.hovedgruppe) - 1 AS hg,
       k.k AS kontor, s.aap, s.sykepenger, s.dagpenger, s.overgangsstonad, s.uforetrygd,
       s.permittert, list_position({tt}, s.tiltak) - 1 AS tiltak, s.gift, s.barn, s.hoyere_utd
FROM status s JOIN _kontor k ON s.nav_kontor = k.nav_kontor
WHERE s.person_id BETWEEN ? AND ?
ORDER BY s.person_id, s.month
"""


def _sql_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


@dataclass
class _Global:
    start: int
    end: int
    status_first: int
    wage_first: int
    hours_last: int
    pgi_years: tuple[int, int] | None
    kontor: pd.DataFrame  # k, nav_kontor, fylke_code, region_code
    regions: list[str]
    rate_first: int
    rate_last: int
    rate_cs: np.ndarray  # (R, M+1) cumulative sums of inflow share over months rate_first..rate_last
    rate: np.ndarray  # (R, M)
    g_first: int
    g_month: np.ndarray  # G per month from g_first
    growth_first: int | None = None  # first month of the optional growth extract (None: absent)
    growth: np.ndarray | None = None  # (R, months) expected employment growth (shift-share)


@dataclass
class SpellRows:
    """One chunk's population rows inside the period and their spells (:func:`spell_rows`)."""

    rows: np.ndarray  # positions in the chunk's status rows
    sel: np.ndarray  # which population rows (in their order) lie inside the period
    in_window: np.ndarray  # per status row: its month lies inside the period
    duration: np.ndarray  # NAV duration, months (per row of ``rows``)
    spell_start: np.ndarray  # month index of the spell's start
    censored: np.ndarray  # the spell was already running in the status extract's first month


def spell_rows(pid: np.ndarray, midx: np.ndarray, in_pop: np.ndarray, gl: _Global, gap_months: int,
               duration_counts: Literal["elapsed", "registered"]) -> SpellRows:
    """NAV duration, spell start and left-censoring of the population rows inside the period.

    Spells run over the months in the population (months outside it, e.g. varig tilpasset
    innsats, are gaps; seed 002 ch. 4); a spell is left-censored when it starts in the status
    extract's first month. The one place of these formulas: the panel builder and the spell-gap
    rebuild (:mod:`arbeidsindikator.analyses.alternatives`) both call it.
    """
    dur, sp_start = nav_duration(pid[in_pop], midx[in_pop], gap_months, duration_counts)
    censored = sp_start <= gl.status_first
    in_window = (midx >= gl.start) & (midx <= gl.end)
    sel = in_window[in_pop]  # population rows inside the period
    return SpellRows(rows=np.flatnonzero(in_pop)[sel], sel=sel, in_window=in_window,
                     duration=dur[sel], spell_start=sp_start[sel], censored=censored[sel])


@dataclass
class PreEntryIncome:
    """Pre-entry income per row (:func:`pre_entry_income`); NaN where the other source is used."""

    lonn_g: np.ndarray  # wages of the 12 months before the spell's start, in G
    pgi_g: np.ndarray  # pensionable income of the year before entry, in G
    unknown: np.ndarray  # the PGI is needed but its year lies outside the pgi extract's coverage
    lonn_nok: np.ndarray | None = None  # the same in NOK (only with ``nok=True``)
    pgi_nok: np.ndarray | None = None


def pre_entry_income(ex: Extracts, gl: _Global, lo_id: int, hi_id: int, pid_r: np.ndarray, sp_start: np.ndarray,
                     censored: np.ndarray, *, nok: bool = False) -> PreEntryIncome:
    """Pre-entry income of rows of persons ``lo_id..hi_id`` (module docstring, seed 002 ch. 4, footnote 10).

    Wages of the 12 months before the spell's start, each month divided by the G in force; for
    left-censored spells and windows starting before the wage data, the PGI of the year before
    entry divided by that year's mean G. The one place of these formulas (the panel builder and
    the spell-gap rebuild call it); ``nok=True`` also returns the amounts in NOK.
    """
    use_pgi = censored | (sp_start - 12 < gl.wage_first)
    lonn_g = np.full(len(pid_r), np.nan)
    pgi_g = np.full(len(pid_r), np.nan)
    lonn_nok = np.full(len(pid_r), np.nan) if nok else None
    pgi_nok = np.full(len(pid_r), np.nan) if nok else None
    need_w = ~use_pgi
    if need_w.any():
        wmin = int(sp_start[need_w].min()) - 12
        w = ex.df(
            f"SELECT person_id AS pid, {sql_month_index('month')} AS midx, lonn FROM lonn "
            "WHERE person_id BETWEEN ? AND ? AND month >= ?",
            [lo_id, hi_id, pd.Timestamp(year=wmin // 12, month=wmin % 12 + 1, day=1).date()],
        )
        wm = w["midx"].to_numpy(np.int64)
        wv = w["lonn"].to_numpy(float)
        wg = wv / gl.g_month[wm - gl.g_first]
        qp, qs = pid_r[need_w], sp_start[need_w]
        sums = window_sums(w["pid"].to_numpy(np.int64), wm, [wg, wv] if lonn_nok is not None else [wg],
                           qp, qs - 12, qs - 1)
        lonn_g[need_w] = sums[0]
        if lonn_nok is not None:
            lonn_nok[need_w] = sums[1]
    unknown = np.zeros(len(pid_r), dtype=bool)
    if use_pgi.any():
        # only the rows that need the PGI (the others keep NaN): the same values per row
        sel = np.flatnonzero(use_pgi)
        year = np.where(censored[sel], gl.status_first // 12, sp_start[sel] // 12) - 1
        pg = ex.df("SELECT person_id AS pid, ar, pgi FROM pgi WHERE person_id BETWEEN ? AND ?", [lo_id, hi_id])
        key = pg["pid"].to_numpy(np.int64) * 10_000 + pg["ar"].to_numpy(np.int64)
        order = np.argsort(key)
        key, val = key[order], pg["pgi"].to_numpy(float)[order]
        q = pid_r[sel] * 10_000 + year
        pos = np.clip(np.searchsorted(key, q), 0, max(len(key) - 1, 0))
        found = (len(key) > 0) & (key[pos] == q) if len(key) else np.zeros(len(q), bool)
        amount = np.where(found, val[pos] if len(key) else 0.0, 0.0)
        # G of the income year: mean of its twelve monthly amounts (once per distinct year)
        years, inv = np.unique(year, return_inverse=True)
        ym = (years * 12)[:, None] + np.arange(12)[None, :] - gl.g_first
        g_year = gl.g_month[np.clip(ym, 0, len(gl.g_month) - 1)].mean(axis=1)[inv]
        if gl.pgi_years is None:
            covered = np.zeros(len(year), dtype=bool)
        else:
            covered = (year >= gl.pgi_years[0]) & (year <= gl.pgi_years[1])
        unknown[sel] = ~covered
        ok = covered
        if pgi_nok is not None:
            pgi_nok[sel[ok]] = amount[ok]
        pgi_g[sel[ok]] = amount[ok] / g_year[ok]
    return PreEntryIncome(lonn_g=lonn_g, pgi_g=pgi_g, unknown=unknown, lonn_nok=lonn_nok, pgi_nok=pgi_nok)


def excluded_rows(alder: np.ndarray, income_unknown: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows kept, and the two exclusions (first reason counts): age outside 16–75, pre-entry income unknown."""
    bad_age = (alder < AGE_MIN) | (alder > AGE_MAX)
    unknown = income_unknown & ~bad_age
    return ~bad_age & ~unknown, bad_age, unknown


def _globals(ex: Extracts, start: pd.Period, end: pd.Period) -> _Global:
    man = ex.manifest
    kontor = ex.df("SELECT nav_kontor, fylke, ba_region FROM kontor ORDER BY nav_kontor")
    regions = sorted(kontor["ba_region"].unique().tolist())
    kontor["k"] = np.arange(len(kontor), dtype=np.int32)
    kontor["fylke_code"] = pd.Categorical(kontor["fylke"], categories=list(FYLKER)).codes.astype(np.int8)
    kontor["region_code"] = pd.Categorical(kontor["ba_region"], categories=regions).codes.astype(np.int32)
    ex.con.register("_kontor_df", kontor[["nav_kontor", "k"]])
    ex.con.execute("CREATE OR REPLACE TEMP TABLE _kontor AS SELECT * FROM _kontor_df")
    ex.con.unregister("_kontor_df")
    a, b = man.coverage["ba_region"]
    rf, rl = month_to_index(a), month_to_index(b)
    rg = ex.df(
        f"SELECT ba_region, {sql_month_index('month')} AS midx, nye_ledige / arbeidsstyrke AS share FROM ba_region"
    )
    rg = rg[rg["ba_region"].isin(regions)]
    rate = np.full((len(regions), rl - rf + 1), np.nan)
    rate[pd.Categorical(rg["ba_region"], categories=regions).codes, rg["midx"].to_numpy() - rf] = rg["share"].to_numpy()
    cs = np.concatenate([np.zeros((len(regions), 1)), np.cumsum(rate, axis=1)], axis=1)
    wage_first = month_to_index(man.coverage["lonn"][0])
    g = ex.g()
    g_first = min(wage_first - 12, month_to_index(man.coverage["status"][0]) - 24)
    g_last = month_to_index(man.coverage["lonn"][1])
    growth_first, growth = None, None
    if GROWTH_TABLE in ex.loaded:  # optional (seed 002 table 4; removed in appendix D)
        ga, gb = man.coverage[GROWTH_TABLE]
        growth_first = month_to_index(ga)
        gg = ex.df(f"SELECT ba_region, {sql_month_index('month')} AS midx, forventet_vekst FROM {GROWTH_TABLE}")
        gg = gg[gg["ba_region"].isin(regions) & gg["midx"].between(growth_first, month_to_index(gb))]
        growth = np.full((len(regions), month_to_index(gb) - growth_first + 1), np.nan)
        growth[pd.Categorical(gg["ba_region"], categories=regions).codes,
               gg["midx"].to_numpy() - growth_first] = gg["forventet_vekst"].to_numpy(float)
    return _Global(
        start=month_to_index(start), end=month_to_index(end),
        status_first=month_to_index(man.coverage["status"][0]), wage_first=wage_first,
        hours_last=month_to_index(man.coverage["timer"][1]), pgi_years=man.coverage.get("pgi"),
        kontor=kontor, regions=regions, rate_first=rf, rate_last=rl, rate_cs=cs, rate=rate,
        g_first=g_first, g_month=g_per_month(g, g_first, g_last), growth_first=growth_first, growth=growth,
    )


def _inflow(gl: _Global, region: np.ndarray, t: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean inflow share over t+1..t+h (months available); number of months used."""
    lo = t + 1
    hi = np.minimum(t + h, gl.rate_last)
    used = np.clip(hi - lo + 1, 0, h)
    m = gl.rate.shape[1]
    s = gl.rate_cs[region, np.clip(hi + 1 - gl.rate_first, 0, m)] - gl.rate_cs[region, np.clip(lo - gl.rate_first, 0, m)]
    fallback = gl.rate[region, np.clip(np.minimum(t, gl.rate_last) - gl.rate_first, 0, None)]
    return np.where(used > 0, s / np.maximum(used, 1), fallback), used


def _chunk(ex: Extracts, gl: _Global, lo_id: int, hi_id: int, opt: PanelOptions, counts: dict[str, int]) -> dict[str, np.ndarray]:
    st = ex.df(_STATUS_SQL.format(midx=sql_month_index("s.month"), ig=_sql_list(INNSATSGRUPPER_RAW), hg=_sql_list(HOVEDGRUPPER), tt=_sql_list(_TILTAK_CODES)),
               [lo_id, hi_id])
    counts["status_read"] += len(st)
    pid = st["pid"].to_numpy(np.int64)
    midx = st["midx"].to_numpy(np.int64)
    ig = st["ig"].to_numpy(np.int16)
    in_pop = ig != VARIG
    counts["varig_outside_period"] += int(np.sum(~in_pop & ((midx < gl.start) | (midx > gl.end))))

    # spells, duration and history on months in the population (varig months are gaps)
    sp = spell_rows(pid, midx, in_pop, gl, opt.gap_months, opt.duration_counts)
    in_window = sp.in_window
    counts["status_in_period"] += int(in_window.sum())
    counts["status_before_period"] += int((midx < gl.start).sum())
    counts["status_after_period"] += int((midx > gl.end).sum())
    counts["excl_varig_tilpasset"] += int(np.sum(in_window & ~in_pop))

    rows = sp.rows  # positions in `st`
    pid_r, t = pid[rows], midx[rows]
    dur, sp_start, censored = sp.duration, sp.spell_start, sp.censored
    hist = nav_history(pid[in_pop], midx[in_pop])[sp.sel]

    # person attributes
    pers = ex.df(
        f"SELECT person_id AS pid, {sql_month_index('fodt')} AS fodt, kjonn, landgruppe, "
        f"{sql_month_index('innvandret')} AS innv FROM personer WHERE person_id BETWEEN ? AND ? ORDER BY person_id",
        [lo_id, hi_id],
    )
    ppos = np.searchsorted(pers["pid"].to_numpy(np.int64), pid_r)
    fodt = pers["fodt"].to_numpy(np.int64)[ppos]
    alder = (t - fodt) // 12
    innv = pers["innv"].to_numpy(dtype=float, na_value=np.nan)[ppos]
    botid = t - innv  # NaN if born in Norway
    clipped = np.isfinite(botid) & (botid < 0)
    counts["flag_botid_before_immigration"] += int(clipped.sum())
    botid = np.where(clipped, 0.0, botid)

    # pre-entry income (per row via its spell's start)
    inc = pre_entry_income(ex, gl, lo_id, hi_id, pid_r, sp_start, censored, nok=True)
    lonn_g, pgi_g, lonn_nok, pgi_nok = inc.lonn_g, inc.pgi_g, inc.lonn_nok, inc.pgi_nok

    # exclusions (first reason counts)
    keep, bad_age, pgi_unknown = excluded_rows(alder, inc.unknown)
    counts["excl_age_outside_16_75"] += int(bad_age.sum())
    counts["excl_pre_entry_income_unknown"] += int(pgi_unknown.sum())

    def k(a: np.ndarray) -> np.ndarray:
        return a[keep]

    rows, pid_r, t = k(rows), k(pid_r), k(t)
    kontor = st["kontor"].to_numpy(np.int32)[rows]
    region = gl.kontor["region_code"].to_numpy()[kontor]
    out: dict[str, np.ndarray] = {
        "person_id": pid_r,
        "midx": t,
        "hovedgruppe": st["hg"].to_numpy(np.int8)[rows],
        "innsatsgruppe": ig[rows].astype(np.int8),
        "fylke": gl.kontor["fylke_code"].to_numpy()[kontor],
        "nav_kontor": kontor,
        "ba_region": region,
        "tiltak": st["tiltak"].to_numpy(np.int8)[rows],
        "alder": k(alder),
        "kvinne": (pers["kjonn"].to_numpy()[ppos] == "K")[keep],
        "gift": st["gift"].to_numpy(bool)[rows],
        "barn": st["barn"].to_numpy(np.int64)[rows],
        "landgruppe": pers["landgruppe"].to_numpy(np.int64)[ppos][keep],
        "botid": k(botid),
        "hoyere_utd": st["hoyere_utd"].to_numpy(bool)[rows],
        "lonn_g": k(lonn_g),
        "pgi_g": k(pgi_g),
        "nav_historikk": k(hist).astype(np.int64),
        "nav_varighet": k(dur).astype(np.int64),
        "ufor": st["uforetrygd"].to_numpy(bool)[rows],
        "permittert": st["permittert"].to_numpy(bool)[rows],
        "helse_ytelse": (st["aap"].to_numpy(bool) | st["sykepenger"].to_numpy(bool))[rows],
        "arbeid_ytelse": (st["dagpenger"].to_numpy(bool) | st["overgangsstonad"].to_numpy(bool))[rows],
    }
    counts["flag_left_censored_spell"] += int(k(censored).sum())
    counts["income_from_wages"] += int(np.isfinite(out["lonn_g"]).sum())
    counts["income_from_pgi"] += int(np.isfinite(out["pgi_g"]).sum())
    if opt.keep_aux:
        out["lonn_nok"] = k(lonn_nok)
        out["pgi_nok"] = k(pgi_nok)
        out["spell_start"] = k(sp_start)
        out["spell_censored"] = k(censored)

    # hours at t and outcomes from hours in t+1..t+12
    hrs = ex.df(
        f"SELECT person_id, {sql_month_index('month')} AS midx, timer AS hours FROM timer "
        "WHERE person_id BETWEEN ? AND ? AND month >= ?",
        [lo_id, hi_id, pd.Timestamp(year=gl.start // 12, month=gl.start % 12 + 1, day=1).date()],
    )
    hk = hrs["person_id"].to_numpy(np.int64) * _STRIDE + hrs["midx"].to_numpy(np.int64)
    order = np.argsort(hk)
    hk, hv = hk[order], hrs["hours"].to_numpy(float)[order]
    q = pid_r * _STRIDE + t
    pos = np.clip(np.searchsorted(hk, q), 0, max(len(hk) - 1, 0))
    found = (hk[pos] == q) if len(hk) else np.zeros(len(q), bool)
    out["timer_t"] = np.where(found, hv[pos] if len(hk) else 0.0, 0.0) / WEEKS_PER_MONTH
    for h in (3, 12):
        v, used = _inflow(gl, region, t, h)
        out[f"innstrom{h}"] = v
        counts[f"flag_inflow{h}_partial_window"] += int(np.sum((used > 0) & (used < h)))
        counts[f"flag_inflow{h}_no_future_month"] += int(np.sum(used == 0))
    if gl.growth is not None:  # validation guarantees every region and month of the period
        out[GROWTH_COLUMN] = gl.growth[region, t - gl.growth_first]
    oc = outcomes_by_index(pid_r, t, hrs["person_id"].to_numpy(np.int64), hrs["midx"].to_numpy(np.int64),
                           hrs["hours"].to_numpy(float), gl.hours_last)
    for name in HORIZONS:
        out[name] = oc[name]
    return out


def _setup(ex: Extracts, start: pd.Period | str | None, end: pd.Period | str | None
           ) -> tuple[pd.Period, pd.Period, _Global, np.ndarray, dict[str, int]]:
    """Period (checked against the manifest), globals, person ids and zeroed counters of a build."""
    man = ex.manifest
    start = pd.Period(start, freq="M") if start is not None else man.start
    end = pd.Period(end, freq="M") if end is not None else man.end
    if start < man.start or end > man.end or end < start:
        raise ExtractError(f"panel period {start}–{end} must lie inside the extracts' declared period {man.start}–{man.end}")
    gl = _globals(ex, start, end)
    ids = ex.df("SELECT person_id FROM personer ORDER BY person_id")["person_id"].to_numpy(np.int64)
    counts: dict[str, int] = {k: 0 for k in (
        "status_read", "status_in_period", "status_before_period", "status_after_period", "varig_outside_period",
        "excl_varig_tilpasset", "excl_age_outside_16_75", "excl_pre_entry_income_unknown",
        "flag_left_censored_spell", "flag_botid_before_immigration", "income_from_wages", "income_from_pgi",
        "flag_inflow3_partial_window", "flag_inflow3_no_future_month", "flag_inflow12_partial_window",
        "flag_inflow12_no_future_month")}
    return start, end, gl, ids, counts


def _person_chunks(ex: Extracts, gl: _Global, ids: np.ndarray, options: PanelOptions, counts: dict[str, int],
                   verbose: bool, t0: float) -> Iterator[dict[str, np.ndarray]]:
    """The chunks of :func:`_chunk`, persons ``options.chunk_persons`` at a time, in person order."""
    rows = 0
    for c0 in range(0, len(ids), options.chunk_persons):
        c1 = min(len(ids), c0 + options.chunk_persons) - 1
        part = _chunk(ex, gl, int(ids[c0]), int(ids[c1]), options, counts)
        rows += len(part["midx"])
        if verbose:
            print(f"  persons {c0:,}–{c1:,}: {rows:,} rows so far ({time.perf_counter() - t0:.0f} s)")
        yield part


def _categories(gl: _Global) -> dict[str, list[str]]:
    """Labels of the panel's categorical columns, indexed by the codes :func:`_chunk` returns."""
    return {"hovedgruppe": list(HOVEDGRUPPER), "innsatsgruppe": list(INNSATSGRUPPER_RAW[:VARIG]),
            "fylke": list(FYLKER), "nav_kontor": gl.kontor["nav_kontor"].astype(str).tolist(),
            "ba_region": list(gl.regions), "tiltak": list(TILTAK.values())}


def _frame(cols: dict[str, np.ndarray], gl: _Global, edges_l: np.ndarray, edges_p: np.ndarray,
           options: PanelOptions) -> pd.DataFrame:
    """The panel frame (contract column order) of the arrays of :func:`_chunk`; empties ``cols``."""
    cats = _categories(gl)
    lonn_desil = decile(cols["lonn_g"], edges_l)
    pgi_desil = decile(cols["pgi_g"], edges_p)
    panel = pd.DataFrame({"person_id": cols.pop("person_id"), "month": month_start(cols["midx"])})
    for name, labels in cats.items():
        panel[name] = pd.Categorical.from_codes(cols.pop(name), categories=labels)
    for name in ("alder", "kvinne", "gift", "barn", "landgruppe", "botid", "hoyere_utd"):
        panel[name] = cols.pop(name)
    panel["lonn_desil"] = lonn_desil
    panel["pgi_desil"] = pgi_desil
    for name in ("nav_historikk", "nav_varighet", "ufor", "permittert", "helse_ytelse", "arbeid_ytelse",
                 "timer_t", "innstrom3", "innstrom12", *HORIZONS):
        panel[name] = cols.pop(name)
    if GROWTH_COLUMN in cols:
        panel[GROWTH_COLUMN] = cols.pop(GROWTH_COLUMN)
    if options.keep_aux:
        panel["lonn_g"] = cols.pop("lonn_g")
        panel["pgi_g"] = cols.pop("pgi_g")
        for name in ("lonn_nok", "pgi_nok", "spell_censored"):
            panel[name] = cols.pop(name)
        panel["spell_start"] = month_start(cols.pop("spell_start"))
    cols.clear()
    assert list(panel.columns[: len(PANEL_COLUMN_NAMES)]) == list(PANEL_COLUMN_NAMES)
    return panel


def _report(start: pd.Period, end: pd.Period, options: PanelOptions, gl: _Global, ids: np.ndarray,
            counts: dict[str, int], n: int, n_persons_panel: int, obs: dict[str, int],
            edges_l: np.ndarray, edges_p: np.ndarray, t0: float) -> dict[str, Any]:
    """The build report: rows read, used and excluded (by reason), flags, income sources, edges."""
    excluded = {k.removeprefix("excl_"): v for k, v in counts.items() if k.startswith("excl_")}
    report: dict[str, Any] = {
        "period": f"{start}–{end}",
        "gap_months": options.gap_months,
        "duration_counts": options.duration_counts,
        "rows": {
            "status_read": counts["status_read"],
            "status_in_period": counts["status_in_period"],
            "status_before_period_used_as_history": counts["status_before_period"],
            "status_after_period_ignored": counts["status_after_period"],
            "panel": n,
        },
        "excluded": excluded,
        "excluded_total": int(sum(excluded.values())),
        "persons": {"in_personer": int(len(ids)), "in_panel": n_persons_panel,
                    "without_panel_rows": int(len(ids)) - n_persons_panel},
        "flags": {k.removeprefix("flag_"): v for k, v in counts.items() if k.startswith("flag_")},
        "outcome_not_observable": obs,
        "last_hours_month": str(pd.Period(year=gl.hours_last // 12, month=gl.hours_last % 12 + 1, freq="M")),
        "income_source_rows": {"wages": counts["income_from_wages"], "pensionable_income": counts["income_from_pgi"]},
        "decile_edges_G": {"wages": [round(float(x), 4) for x in edges_l], "pensionable_income": [round(float(x), 4) for x in edges_p]},
        "seconds": round(time.perf_counter() - t0, 1),
    }
    # every row of the period is either in the panel or excluded with a reason
    assert counts["status_in_period"] == n + report["excluded_total"], "row accounting does not add up"
    return report


def build_panel(ex: Extracts, start: pd.Period | str | None = None, end: pd.Period | str | None = None,
                options: PanelOptions = PanelOptions(), *, verbose: bool = False) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Build the analysis panel from validated extracts (see the module docstring).

    ``start``/``end`` default to the manifest's period and must lie inside it. Returns the panel
    (contract columns, sorted by person then month; plus auxiliary columns if
    ``options.keep_aux``) and a report with counts of every row read, used and excluded.
    The whole panel is in memory; :func:`spill_panel` builds it chunk by chunk instead.
    """
    t0 = time.perf_counter()
    start, end, gl, ids, counts = _setup(ex, start, end)
    parts = list(_person_chunks(ex, gl, ids, options, counts, verbose, t0))
    # assemble column by column, freeing the chunks as we go (peak ≈ one panel + one column)
    cols: dict[str, np.ndarray] = {}
    for name in list(parts[0]) if parts else []:
        cols[name] = np.concatenate([p.pop(name) for p in parts])
    del parts
    n = len(cols["midx"])
    edges_l = decile_edges(cols["lonn_g"])
    edges_p = decile_edges(cols["pgi_g"])
    panel = _frame(cols, gl, edges_l, edges_p, options)
    obs = {name: int(panel[name].isna().sum()) for name in HORIZONS}
    n_persons_panel = int(pd.unique(panel["person_id"]).size) if n else 0
    return panel, _report(start, end, options, gl, ids, counts, n, n_persons_panel, obs, edges_l, edges_p, t0)


@dataclass
class SpilledPanel:
    """A panel built chunk by chunk, its columns spilled to ``folder`` (one ``.npy`` per column).

    ``report`` is :func:`build_panel`'s report; ``levels`` the labels of each categorical column
    that occur in the panel (all chunks); :meth:`frames` yields the panel frames, chunk by chunk,
    in person order, each as :func:`build_panel` would have made those rows.
    """

    folder: Path
    chunks: list[int]  # rows per chunk (empty chunks left out)
    gl: _Global
    options: PanelOptions
    edges: tuple[np.ndarray, np.ndarray]
    report: dict[str, Any]
    levels: dict[str, list[str]]
    names: list[str]

    def frames(self) -> Iterator[pd.DataFrame]:
        """The panel's frames, chunk by chunk (each at most ``options.chunk_persons`` persons)."""
        for i in range(len(self.chunks)):
            cols = {name: np.load(self.folder / f"{i:05d}-{name}.npy") for name in self.names}
            yield _frame(cols, self.gl, *self.edges, self.options)


def spill_panel(ex: Extracts, folder: Path, start: pd.Period | str | None = None, end: pd.Period | str | None = None,
                options: PanelOptions = PanelOptions(), *, verbose: bool = False) -> SpilledPanel:
    """:func:`build_panel` without holding the panel: each person chunk's columns go to ``folder``.

    Only the two income columns (for the decile edges, which need every row) stay in memory
    (16 bytes a row). The caller owns ``folder`` (and deletes it); the extracts are no longer
    needed once this returns.
    """
    t0 = time.perf_counter()
    start, end, gl, ids, counts = _setup(ex, start, end)
    folder.mkdir(parents=True, exist_ok=True)
    labels = _categories(gl)
    seen = {name: np.zeros(len(v), dtype=bool) for name, v in labels.items()}
    lonn, pgi, chunks, names = [], [], [], []
    obs = {name: 0 for name in HORIZONS}
    n_persons = 0
    for part in _person_chunks(ex, gl, ids, options, counts, verbose, t0):
        if len(part["midx"]) == 0:
            continue
        lonn.append(part["lonn_g"])
        pgi.append(part["pgi_g"])
        for name in seen:
            seen[name][np.unique(part[name])] = True
        for name in HORIZONS:
            obs[name] += int(np.isnan(part[name]).sum())
        n_persons += int(np.unique(part["person_id"]).size)  # person ranges of chunks are disjoint
        names = list(part)
        for name, a in part.items():
            np.save(folder / f"{len(chunks):05d}-{name}.npy", a)
        chunks.append(len(part["midx"]))
    lonn_all = np.concatenate(lonn) if lonn else np.zeros(0)
    pgi_all = np.concatenate(pgi) if pgi else np.zeros(0)
    del lonn, pgi
    edges = (decile_edges(lonn_all), decile_edges(pgi_all))
    del lonn_all, pgi_all
    report = _report(start, end, options, gl, ids, counts, sum(chunks), n_persons, obs, *edges, t0)
    levels = {name: [v for v, s in zip(labels[name], seen[name]) if s] for name in labels}
    return SpilledPanel(folder=folder, chunks=chunks, gl=gl, options=options, edges=edges, report=report,
                        levels=levels, names=names)


def exclusion_table(report: dict[str, Any]) -> pd.DataFrame:
    """Rows read, excluded (by reason) and kept, as a table for the book."""
    r = report["rows"]
    lines = [("status rows in the period", r["status_in_period"])]
    lines += [(f"excluded: {k.replace('_', ' ')}", -v) for k, v in report["excluded"].items()]
    lines.append(("panel rows", r["panel"]))
    return pd.DataFrame(lines, columns=["step", "rows"])
