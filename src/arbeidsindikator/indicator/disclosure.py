"""Small-cell suppression that cannot be undone by a subtraction (issue 12).

Primary suppression blanks every cell built on fewer than ``min_count`` persons, its count
included. That alone is not enough: a published table holds *additive relations* — "Alle" is
the sum of the service groups, a county the sum of its offices, the nation the sum of the
counties — for the person counts and for counts × means (sums of outcomes), so a single
suppressed cell in a relation whose other members are published is recovered exactly by
differencing. Secondary (complementary) suppression, the standard practice of official
statistics, blanks further cells until no suppressed value can be derived.

The method here works on a grid of cells linked by additive relations (each relation: a set of
members whose signed sum is known, the total included). The *attack* is the one an analyst
would run: repeatedly take a relation with exactly one unknown member and solve it; cells not
published at all (e.g. persons in no programme, the complement of a flag) are unknown to the
attacker but may become known this way. :func:`protect` runs the attack and, whenever it
derives a suppressed cell (or a small unpublished one), suppresses one more published member of
the relation that gave it away — the one with the fewest persons, so as little as possible is
lost — and repeats until the attack derives nothing sensitive. Cells with no persons (absent
rows) disclose nothing and are left out.

:func:`protect_long` applies this to the long-format export (months × levels × places ×
breakdowns); :func:`suppress_table` to one table shown in the book, whose rows (per group)
are treated as the parts of a total published elsewhere.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = ["attack", "protect", "protect_long", "suppress_table", "SUPPRESSED_COL"]

SUPPRESSED_COL = "suppressed"


def attack(known: np.ndarray, relations: Sequence[np.ndarray]) -> tuple[np.ndarray, dict[int, int]]:
    """Cells an analyst can derive from ``known`` cells by solving relations one unknown at a time.

    Returns (known after the attack, {derived cell: index of the relation that gave it}).
    """
    known = known.copy()
    members_of: dict[int, list[int]] = defaultdict(list)
    unknown_count = np.zeros(len(relations), dtype=np.int64)
    for r, mem in enumerate(relations):
        unk = mem[~known[mem]]
        unknown_count[r] = len(unk)
        for c in unk:
            members_of[int(c)].append(r)
    stack = [r for r in range(len(relations)) if unknown_count[r] == 1]
    via: dict[int, int] = {}
    while stack:
        r = stack.pop()
        if unknown_count[r] != 1:
            continue
        mem = relations[r]
        unk = mem[~known[mem]]
        if len(unk) != 1:  # pragma: no cover - counts and the known mask agree
            continue
        c = int(unk[0])
        known[c] = True
        via[c] = r
        for r2 in members_of.get(c, ()):
            unknown_count[r2] -= 1
            if unknown_count[r2] == 1:
                stack.append(r2)
    return known, via


def protect(n: np.ndarray, published: np.ndarray, relations: Sequence[np.ndarray], min_count: int,
            max_rounds: int = 10_000) -> np.ndarray:
    """Cells to suppress (bool): primary (published, ``0 < n < min_count``) plus complementary.

    ``relations`` hold cell indices; a cell with ``n == 0`` is treated as known (nobody in it).
    Sensitive cells are the suppressed ones and unpublished cells below the threshold.
    """
    n = np.asarray(n, dtype=float)
    published = np.asarray(published, dtype=bool)
    empty = n <= 0
    small = (n > 0) & (n < min_count)
    suppressed = published & small
    relations = [np.asarray(r, dtype=np.int64) for r in relations]
    relations = [r[~empty[r]] for r in relations]
    relations = [r for r in relations if len(r) > 1]
    for _ in range(max_rounds):
        known0 = (published & ~suppressed) | empty
        known, via = attack(known0, relations)
        sensitive = suppressed | small
        breaches = [c for c in via if sensitive[c]]
        if not breaches:
            return suppressed
        used: set[int] = set()
        added = False
        for c in sorted(breaches, key=lambda c: (n[c], c)):
            r = via[c]
            if r in used:
                continue
            used.add(r)
            pick = _complement(c, r, relations, via, known0, suppressed, n)
            if pick is not None and not suppressed[pick]:
                suppressed[pick] = True
                added = True
        if not added:  # nothing publishable left to suppress in the leaking relations: suppress the whole relation
            for c in breaches:
                suppressed[relations[via[c]]] = suppressed[relations[via[c]]] | published[relations[via[c]]]
    raise RuntimeError("complementary suppression did not converge")  # pragma: no cover


def _complement(c: int, r: int, relations: Sequence[np.ndarray], via: dict[int, int], known0: np.ndarray,
                suppressed: np.ndarray, n: np.ndarray, depth: int = 0) -> int | None:
    """A published, unsuppressed member of relation ``r`` (other than ``c``) with the fewest persons.

    If every other member was itself derived, the cell is sought in the relation that derived one
    of them (the chain is broken there).
    """
    mem = [int(m) for m in relations[r] if m != c]
    cands = [m for m in mem if known0[m] and not suppressed[m]]
    if cands:
        return min(cands, key=lambda m: (n[m], m))
    if depth > 50:
        return None
    for m in sorted(mem, key=lambda m: (n[m], m)):
        if m in via:
            got = _complement(m, via[m], relations, via, known0, suppressed, n, depth + 1)
            if got is not None:
                return got
    return None


# ---------------------------------------------------------------------------------------------
# The long-format export
# ---------------------------------------------------------------------------------------------


def protect_long(long: pd.DataFrame, min_count: int, office_county: dict[str, str],
                 partitions: dict[str, Iterable[str]] | None = None) -> np.ndarray:
    """Rows of the export (``export.long_format`` before blanking) to suppress.

    ``long`` needs ``BEHOLDNINGSMAANED, ORG_NIVAA, ORG_STED, NEDBRYTNING, UTFALL, ANTALL_PERSONER``.
    Relations per month and outcome: for each place, "Alle" = the sum of each breakdown's
    categories (the categories not published — 'ingen' programme, persons outside a flag — are
    unknown cells whose counts follow from the relation); for each breakdown category, the nation
    = the sum of counties and a county = the sum of its offices. Outcomes with the same counts
    (atid3/jobb3, atid12/jobb12) get one pattern, so a count shown for one cannot reveal another.
    ``partitions`` maps a breakdown prefix (e.g. 'Innsatsgruppe') to its full category list; a
    breakdown without a prefix (a flag) is a subset with an unpublished complement.
    """
    out = np.zeros(len(long), dtype=bool)
    if long.empty:
        return out
    lab = long["NEDBRYTNING"].astype(str)
    prefix = lab.str.split(" - ", n=1).str[0].where(lab.str.contains(" - "), lab)
    place = long["ORG_NIVAA"].astype(int).astype(str) + "|" + long["ORG_STED"].astype(str)
    keyed = pd.DataFrame({"m": long["BEHOLDNINGSMAANED"].astype(str), "o": long["UTFALL"].astype(str),
                          "place": place.to_numpy(), "lab": lab.to_numpy(), "pre": prefix.to_numpy(),
                          "n": long["ANTALL_PERSONER"].to_numpy(dtype=float)}, index=long.index)
    counties = sorted({str(v) for v in office_county.values()})
    offices_by_county: dict[str, list[str]] = defaultdict(list)
    for off, cty in office_county.items():
        offices_by_county[str(cty)].append(str(off))
    places = ["1|Norge"] + [f"2|{c}" for c in counties] + [f"3|{o}" for o in sorted(office_county)]
    geo_rel = [("1|Norge", [f"2|{c}" for c in counties])] + \
              [(f"2|{c}", [f"3|{o}" for o in sorted(offices_by_county[c])]) for c in counties]
    cache: dict[bytes, np.ndarray] = {}
    for (_, _), grp in keyed.groupby(["m", "o"], sort=False):
        sig_frame = grp.sort_values(["place", "lab"])
        sig = pd.util.hash_pandas_object(sig_frame[["place", "lab", "n"]], index=False).to_numpy().tobytes()
        if sig not in cache:
            cache[sig] = _protect_month(sig_frame, places, geo_rel, min_count)
        out[long.index.get_indexer(sig_frame.index)] = cache[sig]
    return out


def _protect_month(g: pd.DataFrame, places: list[str], geo_rel: list[tuple[str, list[str]]],
                   min_count: int) -> np.ndarray:
    """Suppression of one month × outcome of the export (rows in ``g``'s order)."""
    pre_labels: dict[str, list[str]] = defaultdict(list)
    for lab, pre in zip(g["lab"], g["pre"]):
        if lab != "Alle" and lab not in pre_labels[pre]:
            pre_labels[pre].append(lab)
    # every category of the grid, with one unpublished "rest" per breakdown (ingen / outside the flag)
    cats = ["Alle"] + [lab for pre in sorted(pre_labels) for lab in sorted(pre_labels[pre])] + \
           [f"{pre} - (rest)" for pre in sorted(pre_labels)]
    cat_ix = {c: i for i, c in enumerate(cats)}
    place_ix = {p: i for i, p in enumerate(places)}
    for p in g["place"].unique():
        if p not in place_ix:
            place_ix[p] = len(place_ix)
    n_cells = len(place_ix) * len(cats)
    n = np.zeros(n_cells)
    published = np.zeros(n_cells, dtype=bool)
    row_cell = np.array([place_ix[p] * len(cats) + cat_ix[lab] for p, lab in zip(g["place"], g["lab"])])
    n[row_cell] = g["n"].to_numpy(dtype=float)
    published[row_cell] = True
    relations: list[np.ndarray] = []
    for p, pi in place_ix.items():
        base = pi * len(cats)
        for pre, labs in pre_labels.items():
            parts = [base + cat_ix[lab] for lab in labs]
            rest = base + cat_ix[f"{pre} - (rest)"]
            n[rest] = max(n[base + cat_ix["Alle"]] - n[parts].sum(), 0.0)
            relations.append(np.array([base + cat_ix["Alle"], *parts, rest]))
    for c in range(len(cats)):
        for parent, children in geo_rel:
            if parent not in place_ix:
                continue
            kids = [place_ix[k] * len(cats) + c for k in children if k in place_ix]
            if kids:
                relations.append(np.array([place_ix[parent] * len(cats) + c, *kids]))
    sup = protect(n, published, relations, min_count)
    return sup[row_cell]


# ---------------------------------------------------------------------------------------------
# One table of the book
# ---------------------------------------------------------------------------------------------


def _group_columns(df: pd.DataFrame, count_col: str) -> list[str]:
    """Label columns that split a table into separate partitions (all but the most varied label)."""
    labels = [c for c in df.columns if c != count_col and c != SUPPRESSED_COL
              and not pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]
    if len(labels) <= 1:
        return []
    row_label = max(labels, key=lambda c: (df[c].nunique(dropna=False), -labels.index(c)))
    return [c for c in labels if c != row_label]


def suppress_table(df: pd.DataFrame, count_col: str, min_count: int,
                   group_cols: Sequence[str] | None = None) -> pd.DataFrame:
    """Primary and complementary suppression of one table; adds a ``suppressed`` column.

    The rows of each group (``group_cols``; by default every label column but the most varied one)
    are treated as the parts of a total that is published somewhere (in the table or elsewhere in
    the book), so a group never has exactly one suppressed row: the next smallest row is
    suppressed with it. Suppressed rows lose every numeric value, their count included.
    """
    out = df.copy()
    counts = pd.to_numeric(out[count_col], errors="coerce").fillna(0).to_numpy(dtype=float)
    groups = list(_group_columns(out, count_col) if group_cols is None else group_cols)
    k = len(out)
    # cells 0..k-1 are the rows; one known "total" cell per group (published elsewhere)
    if groups:
        keys = out[groups].astype(str).agg("|".join, axis=1).to_numpy()
    else:
        keys = np.zeros(k, dtype=object)
    uniq = list(dict.fromkeys(keys))
    n = np.concatenate([counts, np.full(len(uniq), float(min_count) * 1e6)])
    published = np.ones(k + len(uniq), dtype=bool)
    relations = [np.array([k + gi, *np.flatnonzero(keys == key)]) for gi, key in enumerate(uniq)]
    sup = protect(n, published, relations, min_count)[:k]
    numeric = [c for c in out.select_dtypes("number").columns]
    if numeric:
        out[numeric] = out[numeric].astype("float64")
        out.loc[sup, numeric] = np.nan
    out[SUPPRESSED_COL] = sup
    return out
