"""Panel construction from raw extracts (issue 3 (c); seed 002 ch. 2–4).

Property tests (hypothesis) check the spell, history and outcome rules against naive reference
implementations on small hand-made histories; example tests check the exclusion counts, the
spell-gap parameter, pre-entry income, the inflow windows and the G table.
"""

from __future__ import annotations

import warnings

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbeidsindikator.data.contract import validate_panel
from arbeidsindikator.data.extracts import Manifest, g_per_month, load_g, month_to_index, validate_extracts, write_extracts
from arbeidsindikator.panel.build import (
    PanelOptions,
    build_panel,
    decile,
    exclusion_table,
    nav_duration,
    nav_history,
    spell_starts,
    window_sum,
)

P = lambda s: pd.Period(s, freq="M")  # noqa: E731
M0 = month_to_index("2018-01")  # first analysis month of the hand-made worlds
M1 = month_to_index("2019-12")

# ---------------------------------------------------------------------------------------------
# naive reference implementations
# ---------------------------------------------------------------------------------------------


def naive_spells(months: list[int], gap_months: int) -> list[int]:
    """Spell start of each registered month (sorted, unique), by walking the months."""
    out, start, prev = [], None, None
    for m in months:
        if prev is None or m - prev - 1 >= gap_months:
            start = m
        out.append(start)
        prev = m
    return out


def naive_history(months: list[int], window: int = 60) -> list[int]:
    s = set(months)
    return [sum((t - k) in s for k in range(1, window + 1)) for t in months]


def naive_outcomes(hours: dict[int, float], t: int, last: int) -> tuple[float, float, float, float]:
    h = [hours.get(t + x, 0.0) for x in range(1, 13)]
    wk = 52 / 12
    a3 = sum(h[:3]) / 13 if t + 3 <= last else np.nan
    a12 = sum(h) / 52 if t + 12 <= last else np.nan
    j3 = float(h[2] / wk > 19) if t + 3 <= last else np.nan
    j12 = float(h[11] / wk > 19) if t + 12 <= last else np.nan
    return a3, a12, j3, j12


month_sets = st.lists(st.integers(0, 80), min_size=1, max_size=40, unique=True).map(sorted)


@given(st.lists(month_sets, min_size=1, max_size=4), st.integers(1, 5))
def test_spell_rule_matches_naive(persons: list[list[int]], gap_months: int) -> None:
    pid = np.concatenate([np.full(len(ms), i) for i, ms in enumerate(persons)])
    midx = np.concatenate([np.asarray(ms) for ms in persons])
    start, _ = spell_starts(pid, midx, gap_months)
    expected = np.concatenate([naive_spells(ms, gap_months) for ms in persons])
    assert np.array_equal(start, expected)
    dur, _ = nav_duration(pid, midx, gap_months)
    assert np.array_equal(dur, midx - expected)
    assert (dur >= 0).all()
    reg, _ = nav_duration(pid, midx, gap_months, counts="registered")
    exp_reg = np.concatenate([[sum(1 for k in range(j) if naive_spells(ms, gap_months)[k] == naive_spells(ms, gap_months)[j])
                               for j in range(len(ms))] for ms in persons])
    assert np.array_equal(reg, exp_reg)
    assert (reg <= dur).all()  # registered months never exceed elapsed months


@given(month_sets, st.integers(1, 4))
def test_longer_gap_parameter_never_splits_more(ms: list[int], g: int) -> None:
    pid = np.zeros(len(ms), dtype=np.int64)
    s_short, _ = spell_starts(pid, np.asarray(ms), g)
    s_long, _ = spell_starts(pid, np.asarray(ms), g + 1)
    assert len(np.unique(s_long)) <= len(np.unique(s_short))
    assert (s_long <= s_short).all()  # spells only merge: starts move earlier


def test_gap_of_two_months_two_versus_three() -> None:
    # registered Jan-Mar, out Apr-May (a 2-month gap), back Jun-Jul
    months = np.array([0, 1, 2, 5, 6])
    pid = np.zeros(5, dtype=np.int64)
    d3, _ = nav_duration(pid, months, 3)
    d2, _ = nav_duration(pid, months, 2)
    assert list(d3) == [0, 1, 2, 5, 6]  # text: breaks only after 3 months -> one spell
    assert list(d2) == [0, 1, 2, 0, 1]  # footnotes: 2 months or more -> new spell


def test_unsorted_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="sorted"):
        spell_starts(np.array([1, 1]), np.array([5, 3]), 3)
    with pytest.raises(ValueError, match="sorted"):
        nav_history(np.array([1, 1]), np.array([5, 5]))


@given(st.lists(month_sets, min_size=1, max_size=4), st.integers(1, 70))
def test_history_matches_naive(persons: list[list[int]], window: int) -> None:
    pid = np.concatenate([np.full(len(ms), i) for i, ms in enumerate(persons)])
    midx = np.concatenate([np.asarray(ms) for ms in persons])
    hist = nav_history(pid, midx, window)
    expected = np.concatenate([naive_history(ms, window) for ms in persons])
    assert np.array_equal(hist, expected)
    assert ((hist >= 0) & (hist <= window)).all()


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 40), st.floats(0, 100)), max_size=40, unique_by=lambda x: x[:2]),
       st.lists(st.tuples(st.integers(0, 3), st.integers(0, 40), st.integers(0, 20)), min_size=1, max_size=10))
def test_window_sum_matches_naive(data: list[tuple[int, int, float]], queries: list[tuple[int, int, int]]) -> None:
    pid = np.array([d[0] for d in data], dtype=np.int64)
    mon = np.array([d[1] for d in data], dtype=np.int64)
    val = np.array([d[2] for d in data], dtype=float)
    qp = np.array([q[0] for q in queries])
    qf = np.array([q[1] for q in queries])
    ql = qf + np.array([q[2] for q in queries])
    got = window_sum(pid, mon, val, qp, qf, ql)
    exp = [sum(v for p, m, v in data if p == a and b <= m <= c) for a, b, c in zip(qp, qf, ql)]
    assert np.allclose(got, exp)


def test_decile() -> None:
    edges = np.arange(1, 10, dtype=float)
    x = np.array([0.0, -1.0, 0.5, 1.0, 9.0, 100.0, np.nan])
    assert list(decile(x, edges)[:6]) == [0, 0, 1, 2, 10, 10]
    assert np.isnan(decile(x, edges)[6])


# ---------------------------------------------------------------------------------------------
# hand-made extracts through the builder
# ---------------------------------------------------------------------------------------------


def manifest(status_from: str = "2013-01", hours_to: str = "2019-12") -> Manifest:
    return Manifest(P("2018-01"), P("2019-12"), {
        "status": (P(status_from), P("2019-12")), "timer": (P("2018-01"), P(hours_to)),
        "lonn": (P("2015-01"), P("2019-12")), "ba_region": (P("2018-01"), P("2019-12")), "pgi": (2012, 2018)})


def months_ts(idx: list[int] | np.ndarray) -> pd.DatetimeIndex:
    idx = np.asarray(idx)
    return pd.to_datetime({"year": idx // 12, "month": idx % 12 + 1, "day": 1})


def make_extracts(folder: Path, persons: dict[int, dict], man: Manifest | None = None,
                  inflow: pd.DataFrame | None = None) -> Path:
    """persons: id -> {"months": [...], "hours": {month: h}, "fodt": "YYYY-MM", "ig": {month: code},
    "lonn": {month: nok}, "pgi": {year: nok}, "landgruppe": int, "innvandret": "YYYY-MM"|None}."""
    man = man or manifest()
    pers, stat, hrs, wag, pg = [], [], [], [], []
    for pid, p in persons.items():
        pers.append({"person_id": pid, "fodt": pd.Timestamp(p.get("fodt", "1980-01") + "-01"), "kjonn": "K",
                     "landgruppe": p.get("landgruppe", 0),
                     "innvandret": pd.Timestamp(p["innvandret"] + "-01") if p.get("innvandret") else pd.NaT})
        ms = sorted(p["months"])
        igs = p.get("ig", {})
        stat.append(pd.DataFrame({"person_id": pid, "month": months_ts(ms),
                                  "innsatsgruppe": [igs.get(m, "standard") for m in ms]}))
        for m, h in p.get("hours", {}).items():
            hrs.append({"person_id": pid, "month": months_ts([m])[0], "timer": float(h)})
        for m, w in p.get("lonn", {}).items():
            wag.append({"person_id": pid, "month": months_ts([m])[0], "lonn": float(w)})
        for y, v in p.get("pgi", {}).items():
            pg.append({"person_id": pid, "ar": y, "pgi": float(v)})
    status = pd.concat(stat, ignore_index=True).assign(
        hovedgruppe="helt_ledige", nav_kontor="0301", aap=False, sykepenger=False, dagpenger=False,
        overgangsstonad=False, uforetrygd=False, permittert=False, tiltak="ingen", gift=False, barn=0, hoyere_utd=False)
    if inflow is None:
        inflow = pd.DataFrame({"ba_region": "BA001", "month": pd.date_range("2018-01-01", "2019-12-01", freq="MS")}).assign(
            nye_ledige=np.arange(24) + 10, arbeidsstyrke=10000)
    dummy_h = [{"person_id": next(iter(persons)), "month": pd.Timestamp("2018-01-01"), "timer": 0.0}]
    dummy_w = [{"person_id": next(iter(persons)), "month": pd.Timestamp("2015-01-01"), "lonn": 0.0}]
    dummy_p = [{"person_id": next(iter(persons)), "ar": man.coverage["pgi"][0], "pgi": 0.0}]
    tables = {
        "personer": pd.DataFrame(pers),
        "status": status,
        "timer": pd.DataFrame(hrs or dummy_h).astype({"timer": float}),
        "lonn": pd.DataFrame(wag or dummy_w).astype({"lonn": float}),
        "pgi": pd.DataFrame(pg or dummy_p).astype({"pgi": float}),
        "kontor": pd.DataFrame({"nav_kontor": ["0301"], "fylke": ["Oslo"], "ba_region": ["BA001"]}),
        "ba_region": inflow,
    }
    write_extracts(folder, tables, man)
    return folder


def build(folder: Path, **opt) -> tuple[pd.DataFrame, dict]:  # type: ignore[no-untyped-def]
    # hand-made sparse extracts: declared months without rows are intended here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ex = validate_extracts(folder, coverage_gaps="warn")
    with ex:
        return build_panel(ex, options=PanelOptions(keep_aux=True, **opt))


history = st.fixed_dictionaries({
    "months": st.lists(st.integers(M0 - 70, M1), min_size=1, max_size=30, unique=True),
    "hours": st.dictionaries(st.integers(M0, M1 + 5), st.sampled_from([0.0, 20.0, 80.0, 82.5, 83.0, 150.0, 160.0]), max_size=20),
})


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(history, min_size=1, max_size=3), st.integers(2, 3), st.sampled_from(["2019-12", "2020-05"]))
def test_built_panel_follows_the_rules(tmp_path_factory: pytest.TempPathFactory, hist: list[dict], gap: int,
                                       hours_to: str) -> None:
    """Spells, history, hours at t and the four outcomes of every row equal the naive rules."""
    # the status extract starts in 2013-01 (coverage): months before it are not in the data
    persons = {i + 1: {"months": [m for m in h["months"] if m >= month_to_index("2013-01")] or [M0],
                       "hours": {m: v for m, v in h["hours"].items() if m <= month_to_index(hours_to)}}
               for i, h in enumerate(hist)}
    folder = make_extracts(tmp_path_factory.mktemp("w"), persons, manifest(hours_to=hours_to))
    panel, rep = build(folder, gap_months=gap)
    last = month_to_index(hours_to)
    n_expected = 0
    for pid, p in persons.items():
        ms = sorted(p["months"])
        starts = naive_spells(ms, gap)
        hist_ = naive_history(ms)
        rows = panel[panel["person_id"] == pid]
        exp_rows = [(m, s, h) for m, s, h in zip(ms, starts, hist_) if M0 <= m <= M1]
        n_expected += len(exp_rows)
        assert len(rows) == len(exp_rows)
        for (m, s, h), (_, r) in zip(exp_rows, rows.iterrows()):
            assert month_to_index(r["month"].strftime("%Y-%m")) == m
            assert r["nav_varighet"] == m - s
            assert r["nav_historikk"] == h
            assert bool(r["spell_censored"]) == (s == month_to_index("2013-01"))
            assert r["timer_t"] == pytest.approx(p["hours"].get(m, 0.0) / (52 / 12))
            a3, a12, j3, j12 = naive_outcomes(p["hours"], m, last)
            for name, v in (("atid3", a3), ("atid12", a12), ("jobb3", j3), ("jobb12", j12)):
                if np.isnan(v):
                    assert np.isnan(r[name]), (name, m)  # not yet observable: empty, never 0
                else:
                    assert r[name] == pytest.approx(v)
    assert len(panel) == n_expected == rep["rows"]["panel"]
    assert rep["outcome_not_observable"]["atid12"] == int(panel["atid12"].isna().sum())


def test_exclusions_are_counted(tmp_path: Path) -> None:
    persons = {
        1: {"months": list(range(M0 - 3, M0 + 6)), "ig": {M0 + 1: "varig_tilpasset", M0 + 2: "varig_tilpasset",
                                                           M0 - 2: "varig_tilpasset"}},
        2: {"months": list(range(M0, M0 + 4)), "fodt": "2002-06"},  # 15 in 2018-01 .. 16 from 2018-06
        3: {"months": list(range(M0 + 10, M0 + 14)), "fodt": "1942-03"},  # 75 until 2018-02, 76 from 2018-03
        4: {"months": [M0 + 5]},
    }
    panel, rep = build(make_extracts(tmp_path / "w", persons))
    ex = rep["excluded"]
    assert ex["varig_tilpasset"] == 2  # the one before the period is history, not an exclusion
    assert ex["age_outside_16_75"] == 4 + 4  # person 2 aged 15 in Jan-Apr; person 3 aged 76 from Nov 2018
    assert rep["rows"]["status_in_period"] == len(panel) + rep["excluded_total"]
    assert rep["rows"]["status_before_period_used_as_history"] == 3
    assert rep["persons"]["without_panel_rows"] == 2
    tab = exclusion_table(rep)
    assert tab["rows"].sum() == 2 * len(panel) and tab["rows"].iloc[-1] == len(panel)
    # varig months are gaps: person 1's spell breaks after Jan 2018 only if the gap is long enough
    p1 = panel[panel["person_id"] == 1]
    assert list(p1["nav_varighet"]) == [3, 6, 7, 8]  # gap of 2 varig months < 3: spell continues
    assert list(p1["nav_historikk"]) == [2, 3, 4, 5]


def test_pre_entry_income(tmp_path: Path) -> None:
    g = load_g()
    e = month_to_index("2017-03")
    persons = {
        # entry 2017-03: wages 2016-03..2017-02 count, in units of the G in force each month
        1: {"months": list(range(e, M0 + 3)), "lonn": {e - 12: 10000, e - 1: 20000, e: 99999, e - 13: 88888}},
        # entry 2015-06: its 12-month window starts before wage data (2015-01) -> pensionable income 2014
        2: {"months": list(range(month_to_index("2015-06"), M0 + 2)), "pgi": {2014: 200000}},
        # running since the first status month (left-censored) -> pensionable income 2012
        3: {"months": list(range(month_to_index("2013-01"), M0 + 1)), "pgi": {2012: 50000}},
        # entry 2013-08 needs pensionable income 2012, which is covered but absent -> none (0)
        4: {"months": list(range(month_to_index("2013-08"), M0 + 1))},
        # entry 2017-06 without any wage in the window -> no wage income (0)
        5: {"months": list(range(month_to_index("2017-06"), M0 + 1))},
    }
    panel, rep = build(make_extracts(tmp_path / "w", persons))
    r = panel.groupby("person_id").first()
    gm = g_per_month(g, e - 12, e - 1)
    assert r.loc[1, "lonn_g"] == pytest.approx(10000 / gm[0] + 20000 / gm[-1])
    assert r.loc[1, "lonn_nok"] == 30000 and np.isnan(r.loc[1, "pgi_desil"]) and r.loc[1, "lonn_desil"] >= 1
    g2014 = g_per_month(g, month_to_index("2014-01"), month_to_index("2014-12")).mean()
    assert r.loc[2, "pgi_g"] == pytest.approx(200000 / g2014) and np.isnan(r.loc[2, "lonn_desil"])
    assert r.loc[3, "pgi_nok"] == 50000 and r.loc[3, "pgi_desil"] >= 1  # 2012: the year before the first status month
    assert r.loc[4, "pgi_desil"] == 0
    assert r.loc[5, "lonn_desil"] == 0
    assert rep["income_source_rows"] == {"wages": int(panel["lonn_desil"].notna().sum()),
                                         "pensionable_income": int(panel["pgi_desil"].notna().sum())}


def test_pensionable_income_outside_coverage_is_an_exclusion(tmp_path: Path) -> None:
    man = manifest()
    man = Manifest(man.start, man.end, {**man.coverage, "pgi": (2014, 2018)})
    persons = {1: {"months": list(range(month_to_index("2013-05"), M0 + 2))}, 2: {"months": [M0]}}
    panel, rep = build(make_extracts(tmp_path / "w", persons, man))
    assert rep["excluded"]["pre_entry_income_unknown"] == 2  # needs 2012, coverage starts 2014
    assert list(panel["person_id"]) == [2]


def test_inflow_average_and_partial_windows(tmp_path: Path) -> None:
    persons = {1: {"months": list(range(M0, M1 + 1))}}
    panel, rep = build(make_extracts(tmp_path / "w", persons))
    share = (np.arange(24) + 10) / 10000  # month k of 2018-01..2019-12
    k = np.arange(24)
    exp3 = [share[j + 1: min(j + 4, 24)].mean() if j < 23 else share[23] for j in k]
    exp12 = [share[j + 1: min(j + 13, 24)].mean() if j < 23 else share[23] for j in k]
    assert np.allclose(panel["innstrom3"], exp3) and np.allclose(panel["innstrom12"], exp12)
    assert rep["flags"]["inflow3_partial_window"] == 2 and rep["flags"]["inflow3_no_future_month"] == 1
    assert rep["flags"]["inflow12_partial_window"] == 11


def test_residence_time_and_age(tmp_path: Path) -> None:
    persons = {1: {"months": [M0, M0 + 13], "landgruppe": 3, "innvandret": "2017-01", "fodt": "1990-02"},
               2: {"months": [M0], "landgruppe": 2, "innvandret": "2018-06"}}  # registered before immigrating
    panel, rep = build(make_extracts(tmp_path / "w", persons))
    r1 = panel[panel["person_id"] == 1]
    assert list(r1["botid"]) == [12.0, 25.0] and list(r1["alder"]) == [27, 29]
    assert panel.loc[panel["person_id"] == 2, "botid"].iloc[0] == 0.0
    assert rep["flags"]["botid_before_immigration"] == 1


def test_panel_satisfies_contract(tmp_path: Path) -> None:
    persons = {i: {"months": list(range(M0 - i, M0 + 10 + i)), "hours": {M0 + 1: 120.0}} for i in range(1, 6)}
    panel, _ = build(make_extracts(tmp_path / "w", persons))
    out = validate_panel(panel, period=(P("2018-01"), P("2019-12")))
    assert len(out) == len(panel)


def test_chunking_does_not_change_the_panel(tmp_path: Path) -> None:
    persons = {i: {"months": list(range(M0 - 20 + i, M0 + 5 + 2 * i)), "hours": {M0 + i: 10.0 * i}} for i in range(1, 8)}
    folder = make_extracts(tmp_path / "w", persons)
    a, ra = build(folder)
    b, rb = build(folder, chunk_persons=2)
    pd.testing.assert_frame_equal(a, b)
    assert ra["excluded"] == rb["excluded"]


def test_g_table_structure() -> None:
    g = load_g()
    d = g["effective_from"]
    assert (d.dt.month == 5).all() and (d.dt.day == 1).all() and d.is_monotonic_increasing
    assert g["G_nok"].is_monotonic_increasing and (g["G_nok"] > 0).all()
    assert d.dt.year.min() <= 2009 and d.dt.year.max() >= 2024
    assert g.loc[d.dt.year == 2024, "G_nok"].item() == 124028  # seed 003 and seed 002 footnote 12 ("over 124 000")
    jan_apr_2010 = g_per_month(g, month_to_index("2010-01"), month_to_index("2010-04"))
    assert np.isfinite(jan_apr_2010).all()
    readme = Path(__file__).resolve().parents[2] / "data" / "reference" / "README_G.md"
    assert "nav.no" in readme.read_text(encoding="utf-8")
