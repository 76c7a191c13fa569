"""The indicator cube: the sums every indicator table, figure and export needs, in one pass.

One row per outcome × measurement month × organisational level (1 national, 2 county, 3 office)
× unit × breakdown × group, for the breakdowns the book and NAV's export show (all persons,
service group, programme, youth guarantee, country group 3). The columns are sums, so cubes of
disjoint row sets add up:

``n_all``  rows in the cell (outcome observable or not)
``n``      rows with the outcome observed (in a month cell: persons)
``sum_y``, ``sum_e``, ``sum_r``   Σ actual, Σ expected, Σ (actual − expected) over observed rows
``m2_y``, ``m2_r``                Σ (y − ȳ)², Σ (r − r̄)² about the cell's mean (two-pass per
                                   chunk, chunks combined by the law of total variance)

In a month cell every person has one row, so these are also the person-clustered sums of a
month; sums over several months that a person-clustered variance needs (per-person score sums)
are a further stage over :func:`iter_chunks`, keyed the same way.

The cube is built from chunks of whole persons (:func:`iter_chunks`, chunk size a parameter),
never from the whole panel: memory is bounded by the chunk size plus the cube itself. Levels
(category orders) of every grouping column are kept beside it, so tables read from the cube
have the same index order and dtypes as :func:`indicator.monthly` on the panel.

This module also holds the other small per-chunk aggregates the chapters show (population
counts, distinct persons, descriptive means by main group), computed in the same pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numba as nb
import numpy as np
import pandas as pd

from arbeidsindikator.data.contract import OUTCOMES

#: Organisational levels of NAV's published tables (digest Part 3).
ORG_LEVELS: dict[int, str | None] = {1: None, 2: "fylke", 3: "nav_kontor"}
#: Breakdowns: ``None`` = all persons; categorical columns; boolean flag columns.
CATEGORY_BREAKDOWNS = ("innsatsgruppe", "tiltak")
FLAG_BREAKDOWNS = ("ungdomsgaranti", "landgruppe3")
BREAKDOWNS: tuple[str | None, ...] = (None, *CATEGORY_BREAKDOWNS, *FLAG_BREAKDOWNS)
KEYS = ["outcome", "month", "org_level", "org_unit", "breakdown", "group"]
STATS = ["n_all", "n", "sum_y", "sum_e", "sum_r", "m2_y", "m2_r"]
NATIONAL_UNIT = "Norge"
ALL = "all"
#: Columns a chunk must hold to build the cube and the summaries.
GROUP_COLUMNS = ("month", "fylke", "nav_kontor", "hovedgruppe", "innsatsgruppe", "tiltak")

# --- descriptive measures by main group (appendix A tables 1 and 2): one definition ----------
# Each maps a frame to per-row values; the table shows their mean over non-missing rows.
TABLE1_MEASURES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "in_work": lambda d: (d["timer_t"] > 19),
    "in_work_3m": lambda d: d["jobb3"],
    "in_work_12m": lambda d: d["jobb12"],
    "hours_per_week": lambda d: d["timer_t"],
    "hours_per_week_next_3m": lambda d: d["atid3"],
    "hours_per_week_next_12m": lambda d: d["atid12"],
}
TABLE2_MEASURES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "age": lambda d: d["alder"],
    "children_under_18": lambda d: d["barn"],
    "female": lambda d: d["kvinne"],
    "married": lambda d: d["gift"],
    "born_norway": lambda d: (d["landgruppe"] == 0),
    "born_landgruppe_1": lambda d: (d["landgruppe"] == 1),
    "born_landgruppe_2": lambda d: (d["landgruppe"] == 2),
    "born_landgruppe_3": lambda d: (d["landgruppe"] == 3),
    "hours_per_week": lambda d: d["timer_t"],
    "disability_degree_positive": lambda d: d["ufor"],
    "nav_history_months": lambda d: d["nav_historikk"],
    "nav_duration_months": lambda d: d["nav_varighet"],
}
MEASURE_COLUMNS = ("timer_t", "jobb3", "jobb12", "atid3", "atid12", "alder", "barn", "kvinne", "gift",
                   "landgruppe", "ufor", "nav_historikk", "nav_varighet")


def add_flags(df: pd.DataFrame) -> pd.DataFrame:
    """The derived breakdowns (youth guarantee, country group 3), as :func:`indicator.add_derived_groups`."""
    from arbeidsindikator.indicator.indicator import add_derived_groups

    return add_derived_groups(df)


# ---------------------------------------------------------------------------------------------
# per-chunk sums
# ---------------------------------------------------------------------------------------------

def _codes(s: pd.Series, levels: Sequence[str] | None) -> tuple[np.ndarray, int]:
    """Integer codes of a grouping column under fixed ``levels`` (bool flags: 0/1)."""
    if levels is None:  # boolean flag
        return s.to_numpy(dtype=bool).astype(np.int64), 2
    c = pd.Categorical(s, categories=list(levels)).codes.astype(np.int64)
    if (c < 0).any():
        bad = s[c < 0].iloc[0]
        raise ValueError(f"column {s.name!r} holds {bad!r}, not among the levels recorded for the cube")
    return c, len(levels)


@nb.njit(cache=True, nogil=True)
def _cell_kernel(code, y, e, n_cells):  # type: ignore[no-untyped-def]
    """Per cell: rows, observed rows, Σy, Σe, Σr, then Σ(y−ȳ)², Σ(r−r̄)² (a second pass)."""
    n_all = np.zeros(n_cells, np.int64)
    n = np.zeros(n_cells, np.int64)
    sy = np.zeros(n_cells)
    se = np.zeros(n_cells)
    sr = np.zeros(n_cells)
    for i in range(code.shape[0]):
        c = code[i]
        n_all[c] += 1
        if not np.isnan(y[i]):
            n[c] += 1
            sy[c] += y[i]
            se[c] += e[i]
            sr[c] += y[i] - e[i]
    my = np.zeros(n_cells)
    mr = np.zeros(n_cells)
    for c in range(n_cells):
        if n[c] > 0:
            my[c] = sy[c] / n[c]
            mr[c] = sr[c] / n[c]
    m2y = np.zeros(n_cells)
    m2r = np.zeros(n_cells)
    for i in range(code.shape[0]):
        if not np.isnan(y[i]):
            c = code[i]
            d = y[i] - my[c]
            m2y[c] += d * d
            d = (y[i] - e[i]) - mr[c]
            m2r[c] += d * d
    return n_all, n, sy, se, sr, m2y, m2r


def _cell_sums(code: np.ndarray, n_cells: int, y: np.ndarray, e: np.ndarray) -> dict[str, np.ndarray]:
    """n_all, n, Σy, Σe, Σr and the two-pass Σ(y−ȳ)², Σ(r−r̄)² per cell code (one numba pass each)."""
    res = _cell_kernel(np.ascontiguousarray(code, dtype=np.int64), np.ascontiguousarray(y, dtype=np.float64),
                       np.ascontiguousarray(e, dtype=np.float64), int(n_cells))
    return dict(zip(["n_all", "n", "sum_y", "sum_e", "sum_r", "m2_y", "m2_r"], res))


@dataclass
class Levels:
    """Category order of every grouping column and the months, fixed before the first chunk."""

    months: pd.DatetimeIndex
    categories: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"months": [m.strftime("%Y-%m-%d") for m in self.months], "categories": self.categories}

    @classmethod
    def from_json(cls, d: dict) -> "Levels":
        return cls(months=pd.DatetimeIndex(pd.to_datetime(d["months"])).as_unit("ns"), categories={k: list(v) for k, v in d["categories"].items()})


def levels_of(df: pd.DataFrame, months: pd.DatetimeIndex) -> Levels:
    """Levels from a frame's categorical dtypes (the panel's contract fixes them)."""
    cats = {}
    for c in GROUP_COLUMNS[1:]:
        s = df[c]
        cats[c] = [str(x) for x in (s.cat.categories if isinstance(s.dtype, pd.CategoricalDtype) else sorted(s.astype(str).unique()))]
    return Levels(months=pd.DatetimeIndex(months).as_unit("ns"), categories=cats)


@dataclass(frozen=True)
class _Combo:
    outcome: str
    org_level: int
    breakdown: str | None
    n_units: int
    n_groups: int
    offset: int  # first global cell id of this combination


def _combos(levels: Levels, outcomes: Sequence[str]) -> list[_Combo]:
    """Every outcome × org level × breakdown with its block of global cell ids."""
    out, off = [], 0
    n_m = len(levels.months)
    for outcome in outcomes:
        for lvl, col in ORG_LEVELS.items():
            nu = len(levels.categories[col]) if col else 1
            for b in BREAKDOWNS:
                ng = 1 if b is None else (2 if b in FLAG_BREAKDOWNS else len(levels.categories[b]))
                out.append(_Combo(outcome, lvl, b, nu, ng, off))
                off += n_m * nu * ng
    return out


def chunk_partials(chunk: pd.DataFrame, levels: Levels, outcomes: Sequence[str] = OUTCOMES) -> pd.DataFrame:
    """The cube's sums for one chunk: one row per global cell id with rows (see :func:`label_cube`).

    ``chunk`` holds the panel columns of :data:`GROUP_COLUMNS`, the outcomes, ``exp_<outcome>``
    and the flags of :func:`add_flags`. The outcomes run on two threads (the kernel releases the GIL).
    """
    from concurrent.futures import ThreadPoolExecutor

    month_code, org_codes, by_codes = _chunk_codes(chunk, levels)
    combos = _combos(levels, outcomes)
    n_m = len(levels.months)
    codes = {(c.org_level, c.breakdown): (month_code * c.n_units + org_codes[c.org_level]) * c.n_groups + by_codes[c.breakdown]
             for c in combos if c.outcome == outcomes[0]}

    def one(outcome: str) -> list[pd.DataFrame]:
        y = chunk[outcome].to_numpy(dtype=float)
        e = chunk[f"exp_{outcome}"].to_numpy(dtype=float)
        parts = []
        for c in (c for c in combos if c.outcome == outcome):
            sums = _cell_sums(codes[(c.org_level, c.breakdown)], n_m * c.n_units * c.n_groups, y, e)
            keep = np.flatnonzero(sums["n_all"])
            part = pd.DataFrame({k: v[keep] for k, v in sums.items()})
            part.insert(0, "cell", keep + c.offset)
            parts.append(part)
        return parts

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(one, outcomes))
    return pd.concat([p for r in results for p in r], ignore_index=True)


@nb.njit(cache=True, nogil=True)
def _chunk_cube_kernel(month, org, by, n_units, n_groups, n_m, y, e, offsets,
                       n_all_g, n_g, sy_g, se_g, sr_g, m2y_g, m2r_g):  # type: ignore[no-untyped-def]
    """One outcome's cells of one chunk for every org level × breakdown, added to the cube.

    Per combination (org level ``lv`` × breakdown ``b``, first global cell ``offsets[lv, b]``):
    the chunk's per-cell sums and two-pass M2 by :func:`_cell_kernel` (one cell-code array per
    combination, reused), then merged into the running totals (``*_g``) exactly as
    :meth:`Accumulator.add` does (Chan et al.): the same float64 operations in the same order,
    so the cube is identical to ``combine_partials(chunk_partials(...))``.
    """
    rows = month.shape[0]
    code = np.empty(rows, np.int64)
    for lv in range(org.shape[0]):
        for b in range(by.shape[0]):
            ng = n_groups[b]
            nu = n_units[lv]
            size = n_m * nu * ng
            for i in range(rows):
                code[i] = (month[i] * nu + org[lv, i]) * ng + by[b, i]
            n_all, n, sy, se, sr, m2y, m2r = _cell_kernel(code, y, e, size)
            base = offsets[lv, b]
            for c in range(size):
                if n_all[c] == 0:
                    continue
                g = base + c
                na = n_g[g]
                nb_ = n[c]
                tot = na + nb_
                # Accumulator.add: both M2 with the running sums before this chunk, then the sums
                d = sy[c] / nb_ - sy_g[g] / na if (na > 0 and nb_ > 0) else 0.0
                m2y_g[g] += m2y[c] + (d * d * na * nb_ / tot if tot > 0 else 0.0)
                d = sr[c] / nb_ - sr_g[g] / na if (na > 0 and nb_ > 0) else 0.0
                m2r_g[g] += m2r[c] + (d * d * na * nb_ / tot if tot > 0 else 0.0)
                sy_g[g] += sy[c]
                se_g[g] += se[c]
                sr_g[g] += sr[c]
                n_all_g[g] += n_all[c]
                n_g[g] = tot


def _chunk_codes(chunk: pd.DataFrame, levels: Levels) -> tuple[np.ndarray, dict[int, np.ndarray], dict[str | None, np.ndarray]]:
    """Month, org-unit and breakdown codes of a chunk's rows under fixed levels (shared by the outcomes)."""
    month_code = levels.months.get_indexer(pd.DatetimeIndex(chunk["month"]))
    if (month_code < 0).any():
        raise ValueError("chunk holds a month outside the cube's months")
    month_code = month_code.astype(np.int64)
    org_codes = {lvl: (_codes(chunk[col], levels.categories[col])[0] if col else np.zeros(len(chunk), np.int64))
                 for lvl, col in ORG_LEVELS.items()}
    by_codes = {b: (_codes(chunk[b], None if b in FLAG_BREAKDOWNS else levels.categories[b])[0] if b else np.zeros(len(chunk), np.int64))
                for b in BREAKDOWNS}
    return month_code, org_codes, by_codes


def add_chunk(acc: "Accumulator", chunk: pd.DataFrame, levels: Levels, outcomes: Sequence[str] = OUTCOMES) -> None:
    """``acc.add(chunk_partials(chunk, levels, outcomes))`` without the partial frames (same sums, bit for bit).

    One numba sweep per outcome over the chunk's rows fills every org level × breakdown at once
    (one cell-code array reused for every combination, no partial DataFrame to concatenate and scatter); the
    outcomes run on two threads (the kernel releases the GIL; they touch disjoint cells).
    """
    from concurrent.futures import ThreadPoolExecutor

    month_code, org_codes, by_codes = _chunk_codes(chunk, levels)
    combos = _combos(levels, outcomes)
    lvls, brks = list(ORG_LEVELS), list(BREAKDOWNS)
    org = np.ascontiguousarray(np.stack([org_codes[lv] for lv in lvls]).astype(np.int64))
    by = np.ascontiguousarray(np.stack([by_codes[b] for b in brks]).astype(np.int64))
    n_m = len(levels.months)

    def one(outcome: str) -> None:
        n_units = np.zeros(len(lvls), np.int64)
        n_groups = np.zeros(len(brks), np.int64)
        offsets = np.zeros((len(lvls), len(brks)), np.int64)
        for c in (c for c in combos if c.outcome == outcome):
            n_units[lvls.index(c.org_level)] = c.n_units
            n_groups[brks.index(c.breakdown)] = c.n_groups
            offsets[lvls.index(c.org_level), brks.index(c.breakdown)] = c.offset
        y = np.ascontiguousarray(chunk[outcome].to_numpy(dtype=float))
        e = np.ascontiguousarray(chunk[f"exp_{outcome}"].to_numpy(dtype=float))
        _chunk_cube_kernel(month_code, org, by, n_units, n_groups, n_m, y, e, offsets, acc.n_all, acc.n,
                           acc.s["sum_y"], acc.s["sum_e"], acc.s["sum_r"], acc.s["m2_y"], acc.s["m2_r"])

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(one, outcomes))


class Accumulator:
    """Running cube sums over chunks in dense arrays (one slot per possible cell).

    Sums add; M2 combines pairwise (Chan et al.): ``M2 = M2_a + M2_b + δ² n_a n_b / (n_a + n_b)``
    with δ the difference of the two means, so the result does not depend on how the rows were
    chunked beyond floating-point order.
    """

    def __init__(self, n_cells: int) -> None:
        self.n_all = np.zeros(n_cells, np.int64)
        self.n = np.zeros(n_cells, np.int64)
        self.s = {k: np.zeros(n_cells) for k in ("sum_y", "sum_e", "sum_r", "m2_y", "m2_r")}

    def add(self, part: pd.DataFrame) -> None:
        i = part["cell"].to_numpy()
        nb_ = part["n"].to_numpy().astype(np.int64)
        na = self.n[i]
        tot = na + nb_
        with np.errstate(invalid="ignore", divide="ignore"):
            for v, m2 in (("sum_y", "m2_y"), ("sum_r", "m2_r")):
                sa, sb = self.s[v][i], part[v].to_numpy()
                d = np.where((na > 0) & (nb_ > 0), sb / nb_ - sa / na, 0.0)
                self.s[m2][i] += part[m2].to_numpy() + np.where(tot > 0, d * d * na * nb_ / tot, 0.0)
        for v in ("sum_y", "sum_e", "sum_r"):
            self.s[v][i] += part[v].to_numpy()
        self.n_all[i] += part["n_all"].to_numpy().astype(np.int64)
        self.n[i] = tot

    def result(self) -> pd.DataFrame:
        keep = np.flatnonzero(self.n_all)
        return pd.DataFrame({"cell": keep, "n_all": self.n_all[keep], "n": self.n[keep],
                             **{k: v[keep] for k, v in self.s.items()}})


def n_cells(levels: Levels, outcomes: Sequence[str] = OUTCOMES) -> int:
    """Number of possible cells (the size of :class:`Accumulator`)."""
    c = _combos(levels, outcomes)[-1]
    return c.offset + len(levels.months) * c.n_units * c.n_groups


def combine_partials(partials: Iterable[pd.DataFrame], levels: Levels, outcomes: Sequence[str] = OUTCOMES) -> pd.DataFrame:
    """Add chunk partials (see :class:`Accumulator`)."""
    acc = Accumulator(n_cells(levels, outcomes))
    for p in partials:
        acc.add(p)
    return acc.result()


def label_cube(coded: pd.DataFrame, levels: Levels, outcomes: Sequence[str] = OUTCOMES) -> pd.DataFrame:
    """Global cell ids → the cube's published keys (outcome, month, org level, unit, breakdown, group)."""
    combos = _combos(levels, outcomes)
    starts = np.array([c.offset for c in combos])
    cell = coded["cell"].to_numpy()
    ci = np.searchsorted(starts, cell, side="right") - 1
    n_m = len(levels.months)
    outcome = np.empty(len(cell), dtype=object)
    lvl = np.empty(len(cell), dtype=np.int64)
    brk = np.empty(len(cell), dtype=object)
    month = np.empty(len(cell), dtype=np.int64)
    unit = np.empty(len(cell), dtype=object)
    group = np.empty(len(cell), dtype=object)
    for i, c in enumerate(combos):
        sel = np.flatnonzero(ci == i)
        if not len(sel):
            continue
        local = cell[sel] - c.offset
        m, rest = np.divmod(local, c.n_units * c.n_groups)
        u, g = np.divmod(rest, c.n_groups)
        outcome[sel] = c.outcome
        lvl[sel] = c.org_level
        brk[sel] = c.breakdown or ALL
        month[sel] = m
        col = ORG_LEVELS[c.org_level]
        unit[sel] = np.asarray(levels.categories[col], dtype=object)[u] if col else NATIONAL_UNIT
        if c.breakdown is None:
            group[sel] = ""
        elif c.breakdown in FLAG_BREAKDOWNS:
            group[sel] = np.array(["False", "True"], dtype=object)[g]
        else:
            group[sel] = np.asarray(levels.categories[c.breakdown], dtype=object)[g]
    out = pd.DataFrame({"outcome": outcome, "month": levels.months[month], "org_level": lvl, "org_unit": unit,
                        "breakdown": brk, "group": group})
    for c in STATS:
        out[c] = coded[c].to_numpy()
    return out


# ---------------------------------------------------------------------------------------------
# other per-chunk summaries (population counts, persons, descriptive means)
# ---------------------------------------------------------------------------------------------

def chunk_summaries(chunk: pd.DataFrame, levels: Levels) -> dict[str, pd.DataFrame]:
    """Counts by month × main group / service group, distinct persons, measure sums by main group.

    Chunks hold whole persons, so distinct-person counts of chunks add up.
    """
    out: dict[str, pd.DataFrame] = {}
    month_code = levels.months.get_indexer(pd.DatetimeIndex(chunk["month"]))
    n_m = len(levels.months)
    for col in ("hovedgruppe", "innsatsgruppe"):
        gc, ng = _codes(chunk[col], levels.categories[col])
        cnt = np.bincount(month_code * ng + gc, minlength=n_m * ng).reshape(n_m, ng)
        out[f"counts_{col}"] = pd.DataFrame(cnt, index=levels.months, columns=levels.categories[col])
    hg, nh = _codes(chunk["hovedgruppe"], levels.categories["hovedgruppe"])
    pid = chunk["person_id"].to_numpy()
    pairs = pd.DataFrame({"g": hg, "p": pid}).drop_duplicates()
    per_group = np.bincount(pairs["g"].to_numpy(), minlength=nh)
    out["persons"] = pd.DataFrame({"persons": np.append(per_group, pd.unique(pid).size)},
                                  index=[*levels.categories["hovedgruppe"], ALL])
    rows = {}
    for table, measures in (("t1", TABLE1_MEASURES), ("t2", TABLE2_MEASURES)):
        for name, f in measures.items():
            v = f(chunk).to_numpy(dtype=float)
            ok = ~np.isnan(v)
            s = np.bincount(hg[ok], weights=v[ok], minlength=nh)
            c = np.bincount(hg[ok], minlength=nh)
            rows[(table, name, "sum")] = np.append(s, s.sum())
            rows[(table, name, "count")] = np.append(c, c.sum()).astype(float)
    rows[("t1", "observations", "sum")] = np.append(np.bincount(hg, minlength=nh), len(chunk)).astype(float)
    rows[("t1", "observations", "count")] = np.ones(nh + 1)
    m = pd.DataFrame(rows, index=[*levels.categories["hovedgruppe"], ALL]).T
    m.index.names = ["table", "measure", "stat"]
    out["measures"] = m
    return out


def combine_summaries(parts: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Add the chunk summaries (the count of 'observations' is the chunk count: fixed to 1)."""
    out = {k: sum(p[k] for p in parts[1:]) + parts[0][k] if len(parts) > 1 else parts[0][k].copy() for k in parts[0]}
    out["measures"].loc[("t1", "observations", "count")] = 1.0
    return out


# ---------------------------------------------------------------------------------------------
# reading the cube back as indicator tables
# ---------------------------------------------------------------------------------------------

def _finish(t: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Cell sums → the columns of :func:`indicator.indicator_table`."""
    from arbeidsindikator.indicator.indicator import Z95

    n = t["n"].astype(np.int64)
    out = pd.DataFrame(index=t.index)
    out["n"] = n
    out["actual"] = t["sum_y"] / n
    out["expected"] = t["sum_e"] / n
    with np.errstate(invalid="ignore", divide="ignore"):
        sd_actual = np.sqrt(t["m2_y"] / (n - 1)).where(n > 1)
        sd_resid = np.sqrt(t["m2_r"] / (n - 1)).where(n > 1)
    out["indicator"] = out["actual"] - out["expected"]
    if outcome.startswith("jobb"):
        se_printed = np.sqrt(out["actual"] * (1 - out["actual"]) / out["n"])
    else:
        se_printed = sd_actual / np.sqrt(out["n"])
    se_resid = sd_resid / np.sqrt(out["n"])
    out["lower_printed"] = out["indicator"] - Z95 * se_printed
    out["upper_printed"] = out["indicator"] + Z95 * se_printed
    out["lower_resid"] = out["indicator"] - Z95 * se_resid
    out["upper_resid"] = out["indicator"] + Z95 * se_resid
    out["se_printed"] = se_printed
    out["se_resid"] = se_resid
    out["n_not_observable"] = (t["n_all"] - t["n"]).astype(int)
    out.insert(0, "outcome", outcome)
    return out


def select(cube: pd.DataFrame, outcome: str, org_col: str | None = None, by: str | None = None,
           group: str | None = None) -> pd.DataFrame:
    """Cells of one outcome × org level × breakdown (× one group of it, e.g. ``"True"``)."""
    lvl = {v: k for k, v in ORG_LEVELS.items()}[org_col]
    parts = _parts(cube)
    t = parts.get((outcome, lvl, by or ALL), cube.iloc[:0])
    if group is not None:
        t = t[t["group"] == group]
    return t


_PARTS: dict[int, tuple[pd.DataFrame, dict]] = {}


def _parts(cube: pd.DataFrame) -> dict:
    """The cube split by outcome × org level × breakdown once (memoised per cube object)."""
    hit = _PARTS.get(id(cube))
    if hit is None or hit[0] is not cube:
        hit = (cube, {k: g for k, g in cube.groupby(["outcome", "org_level", "breakdown"], sort=False, observed=True)})
        _PARTS.clear()
        _PARTS[id(cube)] = hit
    return hit[1]


def monthly_table(cube: pd.DataFrame, levels: Levels, outcome: str, by: Sequence[str] | str | None = None,
                  subset: str | None = None) -> pd.DataFrame:
    """What ``indicator.monthly(df[df[subset]] if subset else df, outcome, by)`` returns, from the cube.

    ``by`` holds at most one organisational column (fylke, nav_kontor) and one breakdown column
    (innsatsgruppe, tiltak, or a flag), in any order; ``subset`` is a flag column.
    """
    extra = [] if by is None else ([by] if isinstance(by, str) else list(by))
    org = [c for c in extra if c in ORG_LEVELS.values()]
    brk = [c for c in extra if c not in org]
    if len(org) > 1 or len(brk) > 1 or (subset and brk):
        raise ValueError(f"the cube holds one organisational level × one breakdown; got by={extra}, subset={subset}")
    b = subset or (brk[0] if brk else None)
    t = select(cube, outcome, org[0] if org else None, b, "True" if subset else None)
    t = t[t["n"] > 0]
    idx: dict[str, pd.Series | np.ndarray] = {"month": pd.DatetimeIndex(t["month"])}
    for c in extra:
        vals = (t["org_unit"] if c in org else t["group"]).astype(str)
        if c in FLAG_BREAKDOWNS:
            idx[c] = (vals == "True").to_numpy()
        else:
            idx[c] = pd.Categorical(vals, categories=levels.categories[c])
    frame = pd.DataFrame(idx)
    t = t.set_index(pd.MultiIndex.from_frame(frame) if extra else pd.DatetimeIndex(frame["month"], name="month"))
    t = t.sort_index()
    return _finish(t, outcome)


def monthly_from_arrays(month: pd.Series | np.ndarray, y: np.ndarray, e: np.ndarray, outcome: str,
                        by_values: pd.Series | np.ndarray | None = None, by: str | None = None) -> pd.DataFrame:
    """``indicator.monthly`` for one outcome from arrays (no frame copied): month (× one group).

    Groups are the categories of a categorical ``by_values`` in their order, else the sorted
    distinct values, as pandas' groupby orders them; only cells with observed rows are returned.
    """
    mi = pd.DatetimeIndex(month)
    months = pd.DatetimeIndex(np.unique(mi.to_numpy()))
    mc = months.get_indexer(mi).astype(np.int64)
    if by_values is None:
        gc, ng, cats = np.zeros(len(mc), np.int64), 1, None
    else:
        if isinstance(by_values, pd.Series) and isinstance(by_values.dtype, pd.CategoricalDtype):
            cat = by_values.array
        elif isinstance(by_values, pd.Categorical):
            cat = by_values
        else:
            cat = pd.Categorical(np.asarray(by_values))
        gc, ng, cats = np.asarray(cat.codes, dtype=np.int64), len(cat.categories), cat
    sums = _cell_sums(mc * ng + gc, len(months) * ng, np.asarray(y, dtype=float), np.asarray(e, dtype=float))
    keep = np.flatnonzero(sums["n"])
    m, g = np.divmod(keep, ng)
    t = pd.DataFrame({k: v[keep] for k, v in sums.items()})
    if cats is None:
        t.index = pd.DatetimeIndex(months[m], name="month")
    else:
        grp = pd.Categorical.from_codes(g, dtype=cats.dtype)
        t.index = pd.MultiIndex.from_arrays([months[m], grp], names=["month", by])
    return _finish(t, outcome)


def pooled(cube: pd.DataFrame, outcome: str, org_col: str | None, by: str | None, group: str | None = None) -> pd.DataFrame:
    """Sums over all months per unit / group (e.g. table 3): n_all, n, Σy, Σe, mean actual."""
    t = select(cube, outcome, org_col, by, group)
    key = "org_unit" if org_col else "group"
    s = t.groupby(key, sort=False, observed=True)[["n_all", "n", "sum_y", "sum_e", "sum_r"]].sum()
    s["actual"] = s["sum_y"] / s["n"]
    return s


# ---------------------------------------------------------------------------------------------
# the stage: chunks in, cube + summaries out
# ---------------------------------------------------------------------------------------------

def build(chunks: Iterator[pd.DataFrame], levels: Levels, outcomes: Sequence[str] = OUTCOMES
          ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """One pass over chunks of whole persons → (cube, summaries). Memory: one chunk + the sums."""
    acc = Accumulator(n_cells(levels, outcomes))
    summaries: list[dict[str, pd.DataFrame]] = []
    for chunk in chunks:
        add_chunk(acc, chunk, levels, outcomes)  # = acc.add(chunk_partials(chunk, levels, outcomes))
        summaries.append(chunk_summaries(chunk, levels))
        if len(summaries) >= 8:
            summaries = [combine_summaries(summaries)]
        del chunk
    return label_cube(acc.result(), levels, outcomes), combine_summaries(summaries)
