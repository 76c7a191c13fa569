"""Regressors of the main model as categorical columns (seed 002 ch. 4, table 1, table 4, app. D).

Every regressor enters the model as a set of dummies. Here each one becomes a pandas
``Categorical`` whose **first category is the reference level** (dropped in the design); the
model engine in :mod:`arbeidsindikator.estimation` relies on that convention. Reference levels are
the report's where it names one (digest §1.4), else the most frequent value.

Pooling of rare levels (:class:`PoolingRule`, issue 13). A dummy whose used rows are few, or all
have the same 0/1 outcome, makes the probit's maximum-likelihood estimate infinite (perfect
separation) and its coefficient meaningless. The report's data are large enough that this does
not happen; a small build (or a rare cell of a real one) needs a rule. The rule: a non-reference
level with fewer than ``min_persons`` distinct persons among the rows whose outcomes of the
horizon are observed, or (``no_variation``) whose used rows all have the same value of a probit
outcome of the horizon (jobb3 for h = 3, jobb12 for h = 12), is merged into its **neighbour**:

* ordered blocks (age, children, NAV history, duration, hours at t, inflow class, growth class):
  the adjacent level on the side of the reference (age 18 → 19, 67+ → 66, history >60 → 37–60),
  skipping levels that no row has;
* income: the next lower decile of the same income kind; decile 1 → "no income" of that kind;
  "no pensionable income" → "no wage income" (the reference);
* country group × residence time ``g:b``: the next longer residence band of the same country
  group (``-1:<=12`` → ``-1:13-24``), the last band (49–120) → the reference (> 120 months);
* every other block (country group, the yes/no blocks): the reference level.

Levels are merged one at a time from the outermost (a level that is itself the target of
another failing level waits), and the merged cell is tested again, so a chain stops as soon as
the pooled cell passes. The merged level keeps no rows (the design drops it); its rows carry the
neighbour's label. What was pooled, why, and into what is returned as a table
(:func:`pooling_table`), never silently. With no rare cell nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np
import pandas as pd

from arbeidsindikator.data.contract import GROWTH_COLUMN
from arbeidsindikator.spec import FAMILY, HORIZONS, OUTCOMES

BOTID_LABELS = ("<=12", "13-24", "25-36", "37-48", "49-120", ">120")
HISTORY_LABELS = ("0", "1-6", "7-12", "13-18", "19-24", "25-36", "37-60", ">60")
HOURS_LABELS = ("0", "0-8", "8-16", "16-24", "24-32", "32-38", ">38")
BARN_LABELS = ("0", "1", "2", "3", "4+")
N_INFLOW_CATEGORIES = 20
N_GROWTH_INTERVALS = 20  # "20 like intervaller" (seed 002 ch. 4, technical definition)


@dataclass(frozen=True)
class PoolingRule:
    """When a rare level is merged into its neighbour (module docstring; run configuration
    ``model.pooling``). ``min_persons = 0`` and ``no_variation = False`` switch pooling off."""

    min_persons: int = 10  # distinct persons among the used rows of a level
    no_variation: bool = True  # merge a level whose used rows all have the same probit outcome

    @property
    def active(self) -> bool:
        return self.min_persons > 0 or self.no_variation


#: No pooling at all (the design exactly as the categories come).
NO_POOLING = PoolingRule(min_persons=0, no_variation=False)


@dataclass(frozen=True)
class CovariateOptions:
    """Choices the source leaves open; each is shown in the alternatives chapter."""

    duration_categories: int = 20  # 20 (appendix D: 0..18, 19+ pooled) or 61 (0..59, 60+)
    include_hours_at_t: bool = True  # figure 2: with and without hours at t
    inflow_categories: int = N_INFLOW_CATEGORIES
    pooling: PoolingRule = PoolingRule()
    #: expected employment growth in the commuting region (shift-share) as a regressor: the
    #: model of table 4 before appendix D removed it; needs the panel column ``sysselsettingsvekst``
    include_growth: bool = False
    growth_intervals: int = N_GROWTH_INTERVALS


def _cat(values: np.ndarray | pd.Series, categories: list[str], reference: str) -> pd.Categorical:
    """Categorical with ``reference`` moved first."""
    cats = [reference] + [c for c in categories if c != reference]
    return pd.Categorical(values, categories=cats)


def _coded(idx: np.ndarray, labels: list[str] | tuple[str, ...], reference: str) -> pd.Categorical:
    """Categorical from positions ``idx`` into ``labels`` (``-1`` = missing), ``reference`` first.

    The same result as ``_cat(np.asarray(labels)[idx], labels, reference)`` without making a
    string per row: at 23 M rows the string route took most of the model step's time.
    """
    labels = list(labels)
    r = labels.index(reference)
    perm = np.arange(len(labels), dtype=np.int64)
    perm[:r] += 1
    perm[r] = 0
    idx = np.asarray(idx)
    dtype = np.int8 if len(labels) < 127 else np.int16
    codes = np.where(idx >= 0, perm[np.clip(idx, 0, None)], -1).astype(dtype)
    cats = [reference] + [c for c in labels if c != reference]
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(cats))


def _valid(idx: np.ndarray, ok: np.ndarray) -> np.ndarray:
    return np.where(ok, idx, -1)


def _bool(s: pd.Series) -> pd.Categorical:
    return _coded(s.to_numpy(dtype=bool).astype(np.int8), ["no", "yes"], "no")


AGE_LABELS = tuple(str(x) for x in range(18, 67)) + ("67+",)


def age_category(alder: pd.Series) -> pd.Categorical:
    """One level per year 18..66, ages below 18 pooled with 18, 67+ pooled; reference 40."""
    a = alder.to_numpy().clip(18, 67)
    return _coded(a - 18, AGE_LABELS, "40")


def _botid_index(botid: pd.Series) -> np.ndarray:
    b = botid.to_numpy(dtype=float)
    edges = [12, 24, 36, 48, 120]
    return np.searchsorted(edges, np.nan_to_num(b, nan=1e9), side="left")


def botid_category(botid: pd.Series) -> np.ndarray:
    """Residence time in months; born in Norway (empty) counts as more than 120 months."""
    return np.asarray(BOTID_LABELS, dtype=object)[_botid_index(botid)]


def history_category(hist: pd.Series) -> pd.Categorical:
    h = hist.to_numpy()
    idx = np.select([h == 0, h <= 6, h <= 12, h <= 18, h <= 24, h <= 36, h <= 60], range(7), default=7)
    return _coded(idx, HISTORY_LABELS, "0")


def duration_category(dur: pd.Series, n_categories: int) -> pd.Categorical:
    """Months since spell start, one level per month, the last level pooling the tail."""
    top = n_categories - 1
    d = dur.to_numpy().clip(0, top)
    labels = [str(x) for x in range(top)] + [f"{top}+"]
    return _coded(d, labels, "0")


def hours_category(timer: pd.Series) -> pd.Categorical:
    t = timer.to_numpy(dtype=float)
    idx = np.select([t <= 0, t <= 8, t <= 16, t <= 24, t <= 32, t <= 38], range(6), default=6)
    return _coded(idx, HOURS_LABELS, "0")


INCOME_LABELS = ("lonn_ingen",) + tuple(f"lonn_d{i}" for i in range(1, 11)) + ("pgi_ingen",) + tuple(f"pgi_d{i}" for i in range(1, 11))


def income_category(lonn: pd.Series, pgi: pd.Series) -> pd.Categorical:
    """Pre-entry wage-income decile (0 = none), or pensionable-income decile for pre-2015 entries."""
    lo = lonn.to_numpy(dtype=float)
    pg = pgi.to_numpy(dtype=float)

    def part(x: np.ndarray, base: int) -> np.ndarray:
        d = np.nan_to_num(x).astype(int)  # truncation, as the label "…_d<int>" was made
        return np.where(x == 0, base, _valid(base + d, (d >= 1) & (d <= 10)))

    idx = np.where(np.isnan(lo), part(pg, 11), part(lo, 0))
    return _coded(idx, INCOME_LABELS, "lonn_ingen")


def quantile_category(x: pd.Series, n: int) -> pd.Categorical:
    """``n`` quantile classes over the whole panel (deterministic); reference the lowest."""
    v = x.to_numpy(dtype=float)
    edges = np.unique(np.quantile(v, np.linspace(0, 1, n + 1)[1:-1]))
    idx = np.searchsorted(edges, v, side="right")
    labels = [f"q{i + 1:02d}" for i in range(len(edges) + 1)]
    return _coded(idx, labels, "q01")


def growth_category(growth: pd.Series, n: int = N_GROWTH_INTERVALS) -> pd.Categorical:
    """``n`` equal-width intervals of expected employment growth over the panel's range; reference
    the lowest (seed 002 ch. 4: "kategorisk variabel med 20 like intervaller"; table 4 "Referanse").

    Raises ``ValueError`` naming the number of rows without a value (the extract must cover every
    commuting region and month of the period).
    """
    v = growth.to_numpy(dtype=float)
    bad = ~np.isfinite(v)
    if bad.any():
        raise ValueError(
            f"{GROWTH_COLUMN}: {int(bad.sum()):,} of {len(v):,} panel row(s) have no expected employment growth "
            "(the extract sysselsettingsvekst must cover every commuting region and month of the period)")
    lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 0.0)
    edges = np.linspace(lo, hi, n + 1)[1:-1]
    idx = np.searchsorted(edges, v, side="right") if hi > lo else np.zeros(len(v), dtype=np.int64)
    labels = [f"g{i + 1:02d}" for i in range(n)]
    return _coded(idx, labels, "g01")


_LG_LEVELS = (0, -1, 1, 2, 3)
INTER_LABELS = ("ref",) + tuple(f"{g}:{b}" for g in _LG_LEVELS for b in BOTID_LABELS[:-1])


def _position(values: np.ndarray, levels: tuple[int, ...]) -> np.ndarray:
    """Position of each value in ``levels``; -1 where it is not one of them."""
    out = np.full(values.shape, -1, dtype=np.int64)
    for i, v in enumerate(levels):
        out[values == v] = i
    return out


def build_covariates(panel: pd.DataFrame, horizon: int, options: CovariateOptions = CovariateOptions()) -> pd.DataFrame:
    """Categorical regressors for outcomes with horizon 3 or 12 months (inflow averaged over t+1..t+h).

    Returns one categorical column per block of table 4; the first category of each is the
    reference level.
    """
    if horizon not in (3, 12):
        raise ValueError(f"horizon must be 3 or 12 months, got {horizon}")
    lg = panel["landgruppe"].to_numpy()
    bidx = _botid_index(panel["botid"])
    # Norway-born persons can have a short residence time too (return migrants): their levels
    # 0:<=12 … 0:49-120 correspond to table 4's botid main effect alone.
    gpos = _position(lg, _LG_LEVELS)
    inter = np.where(bidx == len(BOTID_LABELS) - 1, 0, _valid(1 + gpos * (len(BOTID_LABELS) - 1) + bidx, gpos >= 0))
    barn = panel["barn"].to_numpy()
    cols: dict[str, pd.Categorical] = {
        "alder": age_category(panel["alder"]),
        "barn": _coded(_valid(np.minimum(barn, 4), barn >= 0), BARN_LABELS, "0"),
        "landgruppe": _coded(_position(lg, (0, 1, 2, 3, -1)), ["0", "1", "2", "3", "-1"], "0"),
        "landgruppe_botid": _coded(inter, INTER_LABELS, "ref"),
        "gift": _bool(panel["gift"]),
        "kvinne": _bool(panel["kvinne"]),
        "hoyere_utd": _bool(panel["hoyere_utd"]),
        "inntekt": income_category(panel["lonn_desil"], panel["pgi_desil"]),
        "nav_historikk": history_category(panel["nav_historikk"]),
        "nav_varighet": duration_category(panel["nav_varighet"], options.duration_categories),
        "ufor": _bool(panel["ufor"]),
        "permittert": _bool(panel["permittert"]),
        "helse_ytelse": _bool(panel["helse_ytelse"]),
        "arbeid_ytelse": _bool(panel["arbeid_ytelse"]),
    }
    if options.include_hours_at_t:
        cols["timer_t"] = hours_category(panel["timer_t"])
    cols["innstromming"] = quantile_category(panel[f"innstrom{horizon}"], options.inflow_categories)
    if options.include_growth:
        if GROWTH_COLUMN not in panel.columns:
            raise ValueError(
                f"model.growth is on, but the panel has no column {GROWTH_COLUMN!r}: the raw extracts need the "
                "optional table sysselsettingsvekst (data/README.md)")
        cols[GROWTH_COLUMN] = growth_category(panel[GROWTH_COLUMN], options.growth_intervals)
    X = pd.DataFrame(cols, index=panel.index)
    if options.pooling.active:
        X, pooled = pool_rare_levels(X, panel, horizon, options.pooling)
        X.attrs["pooled"] = pooled.to_dict("records")
    return X


# ---------------------------------------------------------------------------------------------
# Pooling of rare levels (module docstring)
# ---------------------------------------------------------------------------------------------

_ORDER_KEYS: dict[str, Any] = {
    "alder": lambda c: int(c.rstrip("+")),
    "barn": lambda c: int(c.rstrip("+")),
    "nav_historikk": HISTORY_LABELS.index,
    "nav_varighet": lambda c: int(c.rstrip("+")),
    "timer_t": HOURS_LABELS.index,
    "innstromming": lambda c: int(c[1:]),
    "sysselsettingsvekst": lambda c: int(c[1:]),
}


def neighbour_map(block: str, categories: list[str]) -> dict[str, str]:
    """The level each non-reference level of ``block`` is merged into when it is rare (module docstring)."""
    ref = categories[0]
    out: dict[str, str] = {}
    if block in _ORDER_KEYS:
        key = _ORDER_KEYS[block]
        order = sorted(categories, key=key)
        r = order.index(ref)
        for i, c in enumerate(order):
            if i != r:
                out[c] = order[i - 1] if i > r else order[i + 1]
    elif block == "inntekt":
        for c in categories:
            if c == ref:
                continue
            kind, _, d = c.partition("_")
            if d == "ingen":
                out[c] = ref
            else:
                k = int(d[1:])
                cand = f"{kind}_d{k - 1}" if k > 1 else f"{kind}_ingen"
                out[c] = cand if cand in categories else ref
    elif block == "landgruppe_botid":
        bands = list(BOTID_LABELS[:-1])
        for c in categories:
            if c == ref:
                continue
            g, _, b = c.partition(":")
            i = bands.index(b)
            out[c] = f"{g}:{bands[i + 1]}" if i + 1 < len(bands) and f"{g}:{bands[i + 1]}" in categories else ref
    else:
        out = {c: ref for c in categories if c != ref}
    return out


def used_rows(panel: pd.DataFrame, horizon: int) -> np.ndarray:
    """Rows whose outcomes of the horizon are observed (those the model is fitted on)."""
    ok = np.ones(len(panel), dtype=bool)
    for o in OUTCOMES:
        if HORIZONS[o] == horizon and o in panel.columns:
            ok &= panel[o].notna().to_numpy()
    return ok


@nb.njit(cache=True, nogil=True)
def _k_level_totals(codes, used, ys, rows_k, n_k, ones_k):  # type: ignore[no-untyped-def]
    """Per level: rows (all), used rows, and ones of each 0/1 outcome among the used rows (codes -1 skipped)."""
    n_y = ys.shape[0]
    for i in range(codes.shape[0]):
        c = codes[i]
        if c < 0:
            continue
        rows_k[c] += 1
        if used[i]:
            n_k[c] += 1
            for k in range(n_y):
                ones_k[k, c] += ys[k, i]


def _level_totals(codes: np.ndarray, used: np.ndarray, ys: np.ndarray, K: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows per level, used rows per level and ones per level of each row of ``ys`` (int64 counts)."""
    rows_k = np.zeros(K, dtype=np.int64)
    n_k = np.zeros(K, dtype=np.int64)
    ones_k = np.zeros((ys.shape[0], K), dtype=np.int64)
    _k_level_totals(np.ascontiguousarray(codes), np.ascontiguousarray(used), np.ascontiguousarray(ys), rows_k, n_k,
                    ones_k)
    return rows_k, n_k, ones_k


def pool_rare_levels(X: pd.DataFrame, panel: pd.DataFrame, horizon: int, rule: PoolingRule
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Merge rare levels of every block of ``X`` into their neighbours (module docstring).

    Parameters
    ----------
    X : categorical regressors from :func:`build_covariates` (first category = reference).
    panel : the rows of ``X``: ``person_id`` (distinct persons; without it rows are counted) and
        the outcomes of ``horizon`` (used rows; the probit ones for the no-variation test).
    rule : thresholds.

    Returns
    -------
    The pooled frame (same categories, merged levels empty) and one row per merged level:
    horizon, block, level, merged into (the level its rows carry in the end), reason, and the
    persons and used rows of the cell when it was merged (with any level merged into it before).

    Cost: one numba pass over the rows per block (rows, used rows and outcome sums per level,
    additive over merges); distinct persons are counted only on the rows of levels too small to be sure
    of ``min_persons`` (fewer rows than ``min_persons`` × months).
    """
    records: list[dict[str, Any]] = []
    if not rule.active or len(X) == 0:
        return X, pd.DataFrame(records, columns=list(POOLING_COLUMNS))
    used = used_rows(panel, horizon)
    probits = [o for o in OUTCOMES if HORIZONS[o] == horizon and FAMILY[o] == "probit" and o in panel.columns]
    # 0/1 outcomes of every row (NaN > 0.5 is False; only used rows are counted)
    ys = np.empty((len(probits), len(X)), dtype=np.int8)
    for k, o in enumerate(probits):
        ys[k] = panel[o].to_numpy(dtype=float) > 0.5
    person = panel["person_id"].to_numpy() if "person_id" in panel.columns else None
    n_months = int(panel["month"].nunique()) if "month" in panel.columns else len(panel)
    small_rows = rule.min_persons * n_months  # a cell with at least this many rows has ≥ min_persons persons
    if not (rule.no_variation and len(probits)):
        ys = ys[:0]
    out = {}
    for block in X.columns:
        cat = X[block].array
        cats = [str(c) for c in cat.categories]
        K = len(cats)
        codes_all = np.asarray(cat.codes)
        # rows per level (all rows), used rows and ones per level: one numba pass per block
        rows_k, n_k, ones_k = _level_totals(codes_all, used, ys, K)
        has_rows = rows_k > 0
        n0 = n_k.astype(float)
        s0 = [ones_k[k].astype(float) for k in range(ys.shape[0])]
        is_small = n0 < small_rows
        if is_small.any():  # the used rows of small levels only
            sel = used & (codes_all >= 0) & is_small[np.clip(codes_all, 0, None)]
            sc = codes_all[sel].astype(np.int64)
            sp = person[sel] if person is not None else np.flatnonzero(sel[used])
            del sel
        else:
            sc = np.zeros(0, dtype=np.int64)
            sp = np.zeros(0, dtype=np.int64)

        def persons_of(levels: np.ndarray, _codes: np.ndarray = codes_all) -> int:
            """Distinct persons among the used rows whose original level is in ``levels`` (bool per level)."""
            rows = used & (_codes >= 0) & levels[np.clip(_codes, 0, None)]
            if person is None:  # rows are counted
                return int(np.count_nonzero(rows))
            return int(np.unique(person[rows]).size)

        live, recs = pool_block(block, cats, has_rows, n0, s0, sc, sp, small_rows, persons_of, rule, horizon,
                                probits)
        records.extend(recs)
        if recs:
            new = np.where(codes_all >= 0, live[np.clip(codes_all, 0, None)], -1).astype(codes_all.dtype)
            out[block] = pd.Categorical.from_codes(new, dtype=cat.dtype)
    if out:
        X = X.assign(**out)
    return X, pooling_records_table(records)


def pool_block(block: str, cats: list[str], has_rows: np.ndarray, n0: np.ndarray, s0: list[np.ndarray],
               sc: np.ndarray, sp: np.ndarray, small_rows: int, persons_of: Any, rule: PoolingRule, horizon: int,
               probits: list[str]) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """The pooling rule on one block's per-level totals: the merges, as :func:`pool_rare_levels` makes them.

    Works from sums, so a partitioned panel can pass its totals (``engines``). ``has_rows``: the
    level has any row; ``n0``: used rows per level; ``s0``: ones of each of ``probits`` per level
    among the used rows; ``sc``, ``sp``: original level and person of the used rows (or of their
    distinct pairs) of the levels with fewer than ``small_rows`` used rows; ``persons_of(levels)``:
    distinct persons among the used rows of a set of original levels (bool per level; called
    only when a level with many rows fails). Returns ``live`` (the level each original level's
    rows carry after pooling) and the records (``merged into`` not yet resolved through chains).
    """
    K = len(cats)
    records: list[dict[str, Any]] = []
    is_small = np.r_[False, n0 < small_rows]
    parent = {cats.index(a): cats.index(b) for a, b in neighbour_map(block, cats).items()}
    live = np.arange(K)  # live[j]: the level original level j's rows carry now

    def target(j: int) -> int:
        """The neighbour, skipping levels that have no rows at all (e.g. ages nobody has)."""
        t = parent[j]
        while t != 0 and not has_rows[t] and t in parent:
            t = parent[t]
        return int(live[t])

    while True:
        n = np.bincount(live, weights=n0, minlength=K)
        sums = [np.bincount(live, weights=v, minlength=K) for v in s0]
        big = np.bincount(live, weights=~is_small[1:], minlength=K) > 0  # holds a level with many rows
        persons = np.where(big, np.iinfo(np.int64).max, 0)
        if rule.min_persons > 0 and sc.size:
            pairs = pd.DataFrame({"c": live[sc], "p": sp}).drop_duplicates()
            cnt = pairs["c"].value_counts()
            idx = cnt.index.to_numpy()
            persons[idx[~big[idx]]] = cnt.to_numpy()[~big[idx]]
        fail: dict[int, str] = {}
        for j in range(1, K):
            if not has_rows[j] or live[j] != j:
                continue
            if rule.min_persons > 0 and persons[j] < rule.min_persons:
                fail[j] = f"fewer than {rule.min_persons} persons"
            elif rule.no_variation and n[j] > 0:
                for o, sm in zip(probits, sums):
                    if sm[j] <= 0 or sm[j] >= n[j]:
                        fail[j] = f"no variation in {o} (all {'0' if sm[j] <= 0 else '1'})"
                        break
        if not fail:
            break
        targets = {target(j) for j in fail}
        outer = [j for j in fail if j not in targets] or [min(fail)]
        for j in outer:
            t = target(j)
            n_p = int(persons_of(live == j)) if big[j] else int(persons[j])
            records.append({"horizon": horizon, "block": block, "level": cats[j], "merged into": cats[t],
                            "reason": fail[j], "persons": n_p, "rows used": int(n[j])})
            live[live == j] = t
    return live, records


def pooling_records_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The merges of :func:`pool_block` as a table, each ``merged into`` resolved to where its rows end up."""
    table = pd.DataFrame(records, columns=list(POOLING_COLUMNS))
    # a record's "merged into" is where its rows ended up after later merges too
    for blk in table["block"].unique() if len(table) else []:
        sel_b = table["block"] == blk
        final = dict(zip(table.loc[sel_b, "level"], table.loc[sel_b, "merged into"]))

        def end(lv: str) -> str:
            while lv in final:
                lv = final[lv]
            return lv
        table.loc[sel_b, "merged into"] = [end(v) for v in table.loc[sel_b, "merged into"]]
    return table


POOLING_COLUMNS = ("horizon", "block", "level", "merged into", "reason", "persons", "rows used")


def apply_pooling(X: pd.DataFrame, records: list[dict[str, Any]]) -> pd.DataFrame:
    """``X`` with the merges :func:`pool_rare_levels` recorded (rows of :func:`pooling_table`) applied.

    For chunked readers of a panel whose rare levels were pooled over the whole panel: building
    a chunk's covariates unpooled and applying the whole panel's merges gives exactly the rows of
    the whole panel's pooled design (a chunk's own counts would pool other levels). Each record's
    ``merged into`` is the level the rows carry in the end, so one mapping per block suffices.
    """
    if not records:
        return X
    X = X.copy()
    by_block: dict[str, dict[Any, Any]] = {}
    for r in records:
        by_block.setdefault(r["block"], {})[r["level"]] = r["merged into"]
    for block, merges in by_block.items():
        col = X[block]
        cats = list(col.cat.categories)
        target = np.arange(len(cats))
        for level, into in merges.items():
            target[cats.index(level)] = cats.index(into)
        codes = col.cat.codes.to_numpy()
        X[block] = pd.Categorical.from_codes(np.where(codes >= 0, target[np.maximum(codes, 0)], codes), dtype=col.dtype)
    return X


def pooling_table(X: pd.DataFrame) -> pd.DataFrame:
    """The levels :func:`build_covariates` pooled for ``X`` (empty when none or pooling is off)."""
    return pd.DataFrame(X.attrs.get("pooled", []), columns=list(POOLING_COLUMNS))


def horizon_of(outcome: str) -> int:
    """Months ahead an outcome looks (:data:`arbeidsindikator.spec.HORIZONS`): 3 or 12."""
    if outcome not in HORIZONS:
        raise ValueError(f"unknown outcome {outcome!r}; expected one of {', '.join(OUTCOMES)}")
    return HORIZONS[outcome]


def regressor_summary(X: pd.DataFrame) -> pd.DataFrame:
    """One row per regressor block of a covariate frame: levels present, reference, most frequent.

    From the rows per level (one count pass per block, no ``value_counts``); the most frequent
    level is the first in category order among those with the most rows.
    """
    rows = []
    n = len(X)
    no_rows = np.ones(n, dtype=bool)
    empty = np.zeros((0, n), dtype=np.int8)
    for block in X.columns:
        s = X[block]
        cats = s.cat.categories
        counts, _, _ = _level_totals(s.cat.codes.to_numpy(), no_rows, empty, len(cats))
        rows.append(
            {
                "regressor": block,
                "levels in data": int((counts > 0).sum()),
                "reference level": str(cats[0]),
                "share at reference": float(counts[0] / n) if n else float("nan"),
                "most frequent level": str(cats[int(np.argmax(counts))]),
            }
        )
    return pd.DataFrame(rows)
