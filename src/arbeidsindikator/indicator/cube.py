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


def _cell_sums(code: np.ndarray, n_cells: int, y: np.ndarray, e: np.ndarray) -> dict[str, np.ndarray]:
    """n_all, n, Σy, Σe, Σr and the two-pass Σ(y−ȳ)², Σ(r−r̄)² per cell code."""
    obs = ~np.isnan(y)
    n_all = np.bincount(code, minlength=n_cells).astype(np.int64)
    co = code[obs]
    yo, eo = y[obs], e[obs]
    ro = yo - eo
    n = np.bincount(co, minlength=n_cells).astype(np.int64)
    sy = np.bincount(co, weights=yo, minlength=n_cells)
    se = np.bincount(co, weights=eo, minlength=n_cells)
    sr = np.bincount(co, weights=ro, minlength=n_cells)
    with np.errstate(invalid="ignore", divide="ignore"):
        my, mr = sy / n, sr / n
    m2y = np.bincount(co, weights=(yo - my[co]) ** 2, minlength=n_cells)
    m2r = np.bincount(co, weights=(ro - mr[co]) ** 2, minlength=n_cells)
    return {"n_all": n_all, "n": n, "sum_y": sy, "sum_e": se, "sum_r": sr, "m2_y": m2y, "m2_r": m2r}


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


def chunk_partials(chunk: pd.DataFrame, levels: Levels, outcomes: Sequence[str] = OUTCOMES) -> pd.DataFrame:
    """The cube's sums for one chunk, long format (cells with rows only), plus per-chunk means.

    ``chunk`` holds the panel columns of :data:`GROUP_COLUMNS`, the outcomes, ``exp_<outcome>``
    and the flags of :func:`add_flags`.
    """
    month_code = levels.months.get_indexer(pd.DatetimeIndex(chunk["month"]))
    if (month_code < 0).any():
        raise ValueError("chunk holds a month outside the cube's months")
    n_m = len(levels.months)
    parts = []
    org_codes = {lvl: (_codes(chunk[col], levels.categories[col]) if col else (np.zeros(len(chunk), np.int64), 1))
                 for lvl, col in ORG_LEVELS.items()}
    by_codes = {b: (_codes(chunk[b], None if b in FLAG_BREAKDOWNS else levels.categories[b]) if b else (np.zeros(len(chunk), np.int64), 1))
                for b in BREAKDOWNS}
    for outcome in outcomes:
        y = chunk[outcome].to_numpy(dtype=float)
        e = chunk[f"exp_{outcome}"].to_numpy(dtype=float)
        for lvl, (uc, nu) in org_codes.items():
            for b, (gc, ng) in by_codes.items():
                code = (month_code.astype(np.int64) * nu + uc) * ng + gc
                sums = _cell_sums(code, n_m * nu * ng, y, e)
                keep = np.flatnonzero(sums["n_all"])
                m, rest = np.divmod(keep, nu * ng)
                u, g = np.divmod(rest, ng)
                part = pd.DataFrame({k: v[keep] for k, v in sums.items()})
                part.insert(0, "outcome", outcome)
                part.insert(1, "month_code", m)
                part.insert(2, "org_level", lvl)
                part.insert(3, "unit_code", u)
                part.insert(4, "breakdown", b or ALL)
                part.insert(5, "group_code", g)
                parts.append(part)
    return pd.concat(parts, ignore_index=True)


_PKEYS = ["outcome", "month_code", "org_level", "unit_code", "breakdown", "group_code"]


def combine_partials(partials: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Add the chunk sums; M2 by the law of total variance: Σ M2_k + Σ n_k (mean_k − mean)²."""
    p = pd.concat(list(partials), ignore_index=True)
    g = p.groupby(_PKEYS, sort=True, observed=True)
    tot = g[["n_all", "n", "sum_y", "sum_e", "sum_r", "m2_y", "m2_r"]].sum()
    if len(p) == len(tot):  # one chunk per cell: nothing to combine
        return tot.reset_index()
    p = p.join(tot[["n", "sum_y", "sum_r"]].rename(columns=lambda c: c + "_tot"), on=_PKEYS)
    with np.errstate(invalid="ignore", divide="ignore"):
        dy = np.where(p["n"] > 0, p["sum_y"] / p["n"] - p["sum_y_tot"] / p["n_tot"], 0.0)
        dr = np.where(p["n"] > 0, p["sum_r"] / p["n"] - p["sum_r_tot"] / p["n_tot"], 0.0)
    p["between_y"] = p["n"] * dy**2
    p["between_r"] = p["n"] * dr**2
    b = p.groupby(_PKEYS, sort=True, observed=True)[["between_y", "between_r"]].sum()
    tot["m2_y"] = tot["m2_y"] + b["between_y"]
    tot["m2_r"] = tot["m2_r"] + b["between_r"]
    return tot.reset_index()


def label_cube(coded: pd.DataFrame, levels: Levels) -> pd.DataFrame:
    """Codes → the cube's published keys (month, unit and group names)."""
    out = coded.copy()
    out.insert(1, "month", levels.months[out.pop("month_code").to_numpy()])
    unit = np.full(len(out), NATIONAL_UNIT, dtype=object)
    uc = out.pop("unit_code").to_numpy()
    for lvl, col in ORG_LEVELS.items():
        if col:
            sel = out["org_level"].to_numpy() == lvl
            unit[sel] = np.asarray(levels.categories[col], dtype=object)[uc[sel]]
    out.insert(3, "org_unit", unit)
    group = np.full(len(out), "", dtype=object)
    gc = out.pop("group_code").to_numpy()
    for b in BREAKDOWNS[1:]:
        sel = out["breakdown"].to_numpy() == b
        names = np.array(["False", "True"], dtype=object) if b in FLAG_BREAKDOWNS else np.asarray(levels.categories[b], dtype=object)
        group[sel] = names[gc[sel]]
    out.insert(5, "group", group)
    return out[KEYS + STATS]


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
    partials: list[pd.DataFrame] = []
    summaries: list[dict[str, pd.DataFrame]] = []
    for chunk in chunks:
        partials.append(chunk_partials(chunk, levels, outcomes))
        summaries.append(chunk_summaries(chunk, levels))
        if len(partials) >= 8:  # keep the list of partial sums short
            partials = [combine_partials(partials)]
            summaries = [combine_summaries(summaries)]
    cube = label_cube(combine_partials(partials), levels)
    return cube, combine_summaries(summaries)
