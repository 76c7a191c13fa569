"""Complementary suppression (issue 12): the differencing attack recovers nothing.

The attacker here is written independently of :mod:`arbeidsindikator.indicator.disclosure`: it
sees only what is published (the export's rows, a table's CSV), writes down every additive
relation the publication implies — "Alle" = the sum of the service groups (a full partition),
the nation = the sum of the counties, a county = the sum of its offices — for the person counts
and for the sums count × mean, and solves any relation with exactly one unknown, repeatedly.
A suppressed cell it can solve is a leak.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arbeidsindikator.indicator import disclosure

REPO = Path(__file__).resolve().parents[2]


# --- the engine on small grids -----------------------------------------------------------------


def _solve(values: dict, equations: list[tuple[object, list[object]]]) -> dict:
    """Iterative single-unknown solving of total = sum(parts); ``values`` holds None for unknowns."""
    vals = dict(values)
    changed = True
    while changed:
        changed = False
        for total, parts in equations:
            members = [total, *parts]
            unk = [m for m in members if vals.get(m) is None]
            if len(unk) != 1:
                continue
            u = unk[0]
            if u == total:
                vals[u] = sum(vals[p] for p in parts)
            else:
                vals[u] = vals[total] - sum(vals[p] for p in parts if p != u)
            changed = True
    return vals


def test_one_small_cell_gets_a_complement() -> None:
    n = np.array([100, 3, 40, 57])  # total, three parts
    sup = disclosure.protect(n, np.ones(4, bool), [np.array([0, 1, 2, 3])], 10)
    assert sup.tolist() == [False, True, True, False]  # the smallest other part, not the total


def test_two_dimensional_table_is_protected() -> None:
    rng = np.random.default_rng(5)
    inner = rng.integers(0, 40, size=(6, 5))
    inner[2, 3] = 2
    inner[4, 1] = 1
    rows, cols = inner.sum(1), inner.sum(0)
    # cells: inner r*5+c, row totals 30+r, column totals 36+c, grand total 41
    n = np.concatenate([inner.ravel(), rows, cols, [inner.sum()]])
    rel = [np.array([30 + r, *[r * 5 + c for c in range(5)]]) for r in range(6)]
    rel += [np.array([36 + c, *[r * 5 + c for r in range(6)]]) for c in range(5)]
    rel += [np.array([41, *range(30, 36)]), np.array([41, *range(36, 41)])]
    sup = disclosure.protect(n, np.ones(len(n), bool), rel, 10)
    assert sup[2 * 5 + 3] and sup[4 * 5 + 1]
    vals = {i: (None if sup[i] else int(n[i])) for i in range(len(n))}
    solved = _solve(vals, [(int(r[0]), [int(x) for x in r[1:]]) for r in rel])
    assert not [i for i in range(len(n)) if sup[i] and solved[i] is not None]


def test_suppress_table_blanks_count_and_a_complement() -> None:
    t = pd.DataFrame({"fylke": list("ABCD"), "n": [500, 4, 60, 300], "mean": [1.0, 2.0, 3.0, 4.0]})
    out = disclosure.suppress_table(t, "n", 10)
    assert out["suppressed"].tolist() == [False, True, True, False]
    assert out.loc[out["suppressed"], ["n", "mean"]].isna().all().all()
    assert t["n"].tolist() == [500, 4, 60, 300]  # input unchanged


def test_suppress_table_groups_by_label_columns() -> None:
    t = pd.DataFrame({"panel": ["all"] * 3 + ["young"] * 3, "group": list("abcabc"), "n": [50, 60, 70, 5, 30, 40]})
    out = disclosure.suppress_table(t, "n", 10)
    assert out["suppressed"].tolist() == [False, False, False, True, True, False]


# --- the export ----------------------------------------------------------------------------------


def attack_export(long: pd.DataFrame, office_county: dict[str, str]) -> list[tuple]:
    """Suppressed cells of the long export recovered by differencing (should be none)."""
    leaks = []
    lab = long["NEDBRYTNING"].astype(str)
    ig = lab.str.startswith("Innsatsgruppe - ")
    for (m, o), g in long.groupby(["BEHOLDNINGSMAANED", "UTFALL"], sort=False):
        counts: dict = {}
        sums: dict = {}
        place_of = g["ORG_NIVAA"].astype(str) + "|" + g["ORG_STED"].astype(str)
        for p, la, n, f, pr in zip(place_of, g["NEDBRYTNING"], g["ANTALL_PERSONER"], g["faktisk"], g["PRIKKET"]):
            counts[(p, la)] = None if pr else float(n)
            sums[(p, la)] = None if pr else float(n) * float(f)
        places = set(place_of)
        labels = set(g["NEDBRYTNING"])
        eqs: list = []
        ig_labels = sorted(set(g.loc[ig.loc[g.index], "NEDBRYTNING"]))
        tiltak = sorted(la for la in labels if la.startswith("Tiltak - "))
        flags = sorted(la for la in labels if " - " not in la and la != "Alle")
        for p in places:  # Alle = sum of the service groups (absent groups hold nobody)
            eqs.append(((p, "Alle"), [(p, la) for la in ig_labels if (p, la) in counts]))
            # programmes and flags leave an unpublished rest (no programme / outside the flag)
            eqs.append(((p, "Alle"), [(p, la) for la in tiltak if (p, la) in counts] + [(p, "Tiltak rest")]))
            for fl in flags:
                eqs.append(((p, "Alle"), [(p, fl)] + ([(p, f"{fl} rest")])))
        for p in places:
            for extra in ["Tiltak rest"] + [f"{fl} rest" for fl in flags]:
                counts[(p, extra)] = None
                sums[(p, extra)] = None
        labels = labels | {"Tiltak rest"} | {f"{fl} rest" for fl in flags}
        by_cty: dict = defaultdict(list)
        for off, c in office_county.items():
            by_cty[c].append(off)
        for la in labels:
            eqs.append((("1|Norge", la), [(f"2|{c}", la) for c in by_cty if (f"2|{c}", la) in counts]))
            for c, offs in by_cty.items():
                if (f"2|{c}", la) in counts:
                    eqs.append(((f"2|{c}", la), [(f"3|{x}", la) for x in offs if (f"3|{x}", la) in counts]))
        eqs = [(t, ps) for t, ps in eqs if t in counts and ps]
        for vals in (counts, sums):
            solved = _solve(vals, eqs)
            leaks += [(m, o, k) for k, v in vals.items() if v is None and solved.get(k) is not None
                      and not k[1].endswith(" rest")]
    return leaks


def _export_for(cfg_path: Path) -> tuple[pd.DataFrame, dict[str, str], int]:
    from arbeidsindikator import pipeline
    from arbeidsindikator.config import load_config
    from arbeidsindikator.indicator import export

    cfg = load_config(cfg_path)
    df = pipeline.panel_with_expected(cfg)
    months = sorted(df["month"].unique())[::9]  # every ninth month keeps the test short
    df = df[df["month"].isin(months)]
    long = export.long_format(df, cfg, outcomes=("atid3", "jobb12"))
    offices = df[["nav_kontor", "fylke"]].drop_duplicates()
    return long, dict(zip(offices["nav_kontor"].astype(str), offices["fylke"].astype(str))), cfg.min_cell_count


def test_export_of_many_small_offices_resists_the_differencing_attack() -> None:
    long, oc, k = _export_for(REPO / "tests" / "configs" / "tiny.yml")  # 2 500 persons, ~445 offices
    assert long["PRIKKET"].any() and (~long["PRIKKET"]).any()
    assert (long.loc[~long["PRIKKET"], "ANTALL_PERSONER"] >= k).all()  # no small count published
    assert long.loc[long["PRIKKET"], ["ANTALL_PERSONER", "faktisk", "INDIKATOR"]].isna().all().all()
    assert attack_export(long, oc) == []


# --- what a build published ----------------------------------------------------------------------


def _published_root() -> Path | None:
    """``_build/tables`` of the last build, or the folder named by ``ARBEIDSINDIKATOR_CHECK_TABLES``."""
    root = Path(os.environ.get("ARBEIDSINDIKATOR_CHECK_TABLES", REPO / "_build" / "tables"))
    return root if root.is_dir() else None


def attack_table(t: pd.DataFrame, count_col: str) -> list:
    """Groups of a shown table in which exactly one row is suppressed (recoverable from the group total)."""
    labels = [c for c in t.columns if c not in (count_col, "suppressed") and t[c].dtype == object]
    groups = disclosure._group_columns(t.assign(**{count_col: 0}), count_col) if labels else []
    keyed = t.groupby(groups, dropna=False) if groups else [((), t)]
    return [key for key, g in keyed if int(g["suppressed"].sum()) == 1]


@pytest.mark.slow
def test_published_tables_and_export_resist_the_differencing_attack() -> None:
    """On the last default build (``_build/tables``): every shown table and the export."""
    root = _published_root()
    if root is None:
        pytest.skip("no build in _build/tables (run the book build first)")
    checked = 0
    for csv in root.rglob("*.csv"):
        t = pd.read_csv(csv, low_memory=False)
        if "PRIKKET" in t.columns:
            assert (t.loc[~t["PRIKKET"], "ANTALL_PERSONER"] >= 10).all(), csv
            checked += 1
            continue
        if "suppressed" not in t.columns:
            continue
        count_col = next(c for c in t.columns if c in ("n", "persons", "persons-months"))
        assert t.loc[t["suppressed"], count_col].isna().all(), csv
        assert (t.loc[~t["suppressed"], count_col] >= 10).all(), csv
        assert attack_table(t, count_col) == [], csv
        checked += 1
    assert checked >= 2
    export = root / "synthetic-default" / "export" / "arbeidsindikator_long.csv"
    if export.is_file():  # the differencing attack on the default build's export
        from arbeidsindikator import pipeline
        from arbeidsindikator.config import load_config

        panel = pipeline.load_panel(load_config(None)).panel
        offices = panel[["nav_kontor", "fylke"]].drop_duplicates()
        oc = dict(zip(offices["nav_kontor"].astype(str), offices["fylke"].astype(str)))
        long = pd.read_csv(export, dtype={"ORG_STED": str})
        months = sorted(long["BEHOLDNINGSMAANED"].unique())[::6]
        assert attack_export(long[long["BEHOLDNINGSMAANED"].isin(months)], oc) == []


def test_the_attack_finds_the_leaks_of_primary_suppression_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: with primary suppression only (the old rule) the attacker recovers cells."""
    def primary_only(long: pd.DataFrame, min_count: int, office_county: dict, partitions=None) -> np.ndarray:
        return (long["ANTALL_PERSONER"] < min_count).to_numpy()

    monkeypatch.setattr(disclosure, "protect_long", primary_only)
    long, oc, _ = _export_for(REPO / "tests" / "configs" / "tiny.yml")
    assert len(attack_export(long, oc)) > 10
