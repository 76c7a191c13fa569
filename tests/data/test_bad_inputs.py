"""Bad-input catalogue (issue 12): every class of fault real extracts show, one case each.

Each case corrupts the small valid world of ``test_extracts`` in one way (before writing, or in
the written files) and asserts that validation (a) raises the contract error, (b) names the
table, the column and the number of rows (or, for faults of a whole file, the table and the
file), and (c) leaves every input file byte-identical (the folder is hashed before and after).
Configuration faults are checked the same way against the configuration file.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

from arbeidsindikator.config import ConfigError, load_config
from arbeidsindikator.data.checks import MAX_LINE, ExtractWarning
from arbeidsindikator.data.extracts import DEFAULT_G_PATH, ExtractError, Manifest, validate_extracts, write_extracts
from test_extracts import MS, P, world

from conftest import tree_hash, write_config  # noqa: E402


folder_hash = tree_hash  # one definition, in conftest


def _set(t: str, row: int, col: str, value: Any) -> Callable:
    def f(tables: dict, man: Manifest) -> None:
        df = tables[t]
        if (value is None or isinstance(value, str)) and df[col].dtype != object:
            df[col] = df[col].astype(object)
        df.loc[row, col] = value
    return f


def _drop(t: str, cond: Callable) -> Callable:
    def f(tables: dict, man: Manifest) -> None:
        tables[t] = tables[t][~cond(tables[t])].reset_index(drop=True)
    return f


def _dup(t: str, rows: list[int]) -> Callable:
    def f(tables: dict, man: Manifest) -> None:
        tables[t] = pd.concat([tables[t], tables[t].iloc[rows]], ignore_index=True)
    return f


def _cov(key: str, a: Any, b: Any) -> Callable:
    def f(tables: dict, man: Manifest) -> Manifest:
        return Manifest(man.start, man.end, {**man.coverage, key: (a, b)})
    return f


def _add_rows(t: str, frame: Callable) -> Callable:
    def f(tables: dict, man: Manifest) -> None:
        tables[t] = pd.concat([tables[t], frame(tables)], ignore_index=True)
    return f


def _to_csv(t: str, edit: Callable[[pd.DataFrame], pd.DataFrame] | None = None, raw: bytes | None = None,
            encoding: str = "utf-8") -> Callable:
    """Post-write: replace ``t.parquet`` by a CSV (optionally edited, or given as raw bytes)."""
    def f(d: Path, tables: dict) -> None:
        (d / f"{t}.parquet").unlink()
        if raw is not None:
            (d / f"{t}.csv").write_bytes(raw)
            return
        df = tables[t].copy()
        for c in df.columns:
            if pd.api.types.is_datetime64_any_dtype(df[c]):
                df[c] = df[c].dt.strftime("%Y-%m-%d")
        df = edit(df) if edit else df
        (d / f"{t}.csv").write_bytes(df.to_csv(index=False).encode(encoding))
    return f


def _big_personer(n: int = 30_000) -> Callable[[dict], pd.DataFrame]:
    return lambda t: pd.DataFrame({"person_id": np.arange(100, 100 + n), "fodt": pd.Timestamp("1980-01-01"),
                                   "kjonn": "K", "landgruppe": 0, "innvandret": pd.NaT})


def _post_big_csv_bad_byte(d: Path, tables: dict) -> None:
    (d / "personer.parquet").unlink()
    df = pd.concat([tables["personer"], _big_personer()(tables)], ignore_index=True)
    for c in ("fodt", "innvandret"):
        df[c] = df[c].dt.strftime("%Y-%m-%d")
    data = df.to_csv(index=False).encode() + b"99999999,1980-01-01,\xff\xfe,0,\n"
    (d / "personer.csv").write_bytes(data)


def _post_corrupt_mid(d: Path, tables: dict) -> None:
    df = pd.concat([tables["personer"], _big_personer(400_000)(tables)], ignore_index=True)
    df["person_id"] = df["person_id"].astype("int64")
    rng = np.random.default_rng(3)
    df["kjonn"] = np.where(rng.random(len(df)) < 0.5, "K", "M")
    df.loc[:2, "kjonn"] = tables["personer"]["kjonn"].to_numpy()
    path = d / "personer.parquet"
    df.to_parquet(path, index=False, row_group_size=40_000)
    b = bytearray(path.read_bytes())
    mid = len(b) // 2
    b[mid: mid + 4000] = b"\x55" * 4000
    path.write_bytes(bytes(b))


def _post_parts(d: Path, tables: dict) -> None:
    (d / "timer.parquet").unlink()
    (d / "timer").mkdir()
    t = tables["timer"]
    t.iloc[:10].to_parquet(d / "timer" / "part-0.parquet", index=False)
    t.iloc[10:].astype({"timer": str}).to_parquet(d / "timer" / "part-1.parquet", index=False)


def _post_both(name: str, second: str) -> Callable:
    def f(d: Path, tables: dict) -> None:
        df = tables[name]
        if second == "csv":
            df.to_csv(d / f"{name}.csv", index=False)
        else:
            (d / name).mkdir()
            df.to_parquet(d / name / "part-0.parquet", index=False)
    return f


def _post_g(edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable:
    def f(d: Path, tables: dict) -> None:
        g = pd.read_csv(DEFAULT_G_PATH)
        edit(g).to_csv(d / "grunnbelop.csv", index=False)
    return f


def _post_garbage(name: str) -> Callable:
    def f(d: Path, tables: dict) -> None:
        (d / f"{name}.parquet").write_bytes(b"PAR1" + b"\x00garbage" * 100)
    return f


def _post_tz(d: Path, tables: dict) -> None:
    s = tables["status"].copy()
    s["month"] = s["month"].dt.tz_localize("Europe/Oslo")
    s.to_parquet(d / "status.parquet", index=False)


def _uint64_ids(tables: dict, man: Manifest) -> None:
    t = tables["timer"]
    ids = t["person_id"].to_numpy().astype(np.uint64)
    ids[0] = np.uint64(2**63 + 7)
    t["person_id"] = ids


def _unlinked_share(tables: dict, man: Manifest) -> None:  # warning, not error
    extra = _big_personer(40)(tables)
    tables["personer"] = pd.concat([tables["personer"], extra], ignore_index=True)


# (id, mutate tables/manifest before writing, edit files after writing, expected substrings)
CASES: list[tuple[str, Callable | None, Callable | None, list[str]]] = [
    # --- declared coverage vs the data ---
    ("timer-coverage-past-last-month", _cov("timer", P("2018-01"), P("2020-03")), None,
     ["timer.month: 0 row(s) in 3 month(s) of the declared coverage 2018-01–2020-03", "2020-01"]),
    ("timer-month-without-rows", _drop("timer", lambda t: t["month"] == "2018-07-01"), None,
     ["timer.month: 0 row(s) in 1 month(s)", "2018-07"]),
    ("status-starts-late", _drop("status", lambda t: t["month"] < "2014-01-01"), None,
     ["status.month: 0 row(s) in 12 month(s) of the declared coverage 2013-01–2019-12", "2013-01"]),
    ("lonn-month-without-rows", _drop("lonn", lambda t: t["month"] == "2016-02-01"), None,
     ["lonn.month: 0 row(s) in 1 month(s)", "2016-02"]),
    ("pgi-year-without-rows", _drop("pgi", lambda t: t["ar"] == 2013), None, ["pgi.ar: 0 row(s) in 1 year(s)", "2013"]),
    ("ba-region-months-missing", _drop("ba_region", lambda t: t["month"] >= "2019-10-01"), None,
     ["ba_region.month: 0 row(s) in 3 month(s)", "3 region-month(s) missing"]),
    ("status-outside-coverage", _add_rows("status", lambda t: t["status"].iloc[[0]].assign(month=pd.Timestamp("2020-03-01"))), None,
     ["status.month: 1 row(s) with month(s) outside the declared coverage"]),
    ("timer-outside-coverage", _set("timer", 0, "month", pd.Timestamp("2017-06-01")), None,
     ["timer.month: 1 row(s) with month(s) outside the declared coverage"]),
    ("lonn-outside-coverage", _set("lonn", 0, "month", pd.Timestamp("2014-06-01")), None,
     ["lonn.month: 1 row(s) with month(s) outside the declared coverage"]),
    ("pgi-outside-coverage", _set("pgi", 0, "ar", 2005), None, ["pgi.ar: 1 row(s) with year(s) outside the declared coverage"]),
    ("history-too-short", _cov("status", P("2015-01"), P("2019-12")), None,
     ["manifest.coverage.status: starts 2015-01", "status.month: 24 row(s) with month(s) outside the declared coverage"]),
    # --- linkage across tables ---
    ("status-ids-not-in-personer", _drop("personer", lambda t: t["person_id"] == 2), None,
     ["status.person_id: 8 row(s) of 1 person(s) in status but not in personer"]),
    ("timer-ids-not-in-personer", _set("timer", 2, "person_id", 77), None,
     ["timer.person_id: 1 row(s) of 1 person(s) in timer but not in personer", "[77]"]),
    ("lonn-ids-not-in-personer", _set("lonn", 0, "person_id", 78), None,
     ["lonn.person_id: 1 row(s) of 1 person(s) in lonn but not in personer"]),
    ("pgi-ids-not-in-personer", _set("pgi", 0, "person_id", 79), None,
     ["pgi.person_id: 1 row(s) of 1 person(s) in pgi but not in personer"]),
    ("timer-other-pseudonymisation", lambda t, m: t["timer"].__setitem__("person_id", t["timer"]["person_id"] + 1000), None,
     ["timer.person_id: 26 row(s) of 3 person(s) in timer but not in personer", "another pseudonymisation"]),
    ("ids-beyond-64-bit-parquet", _uint64_ids, None,
     ["timer.person_id: 1 row(s) with value(s) beyond the 64-bit integer range"]),
    ("ids-beyond-64-bit-csv", None, _to_csv("lonn", lambda d: d.astype({"person_id": object}).assign(
        person_id=lambda x: x["person_id"].where(x.index != 1, str(2**70)))),
     ["lonn.person_id: 1 row(s) with value(s) beyond the 64-bit integer range"]),
    ("office-not-in-kontor", _set("status", 0, "nav_kontor", "9999"), None,
     ["status.nav_kontor: 1 row(s) with 1 office(s) not in kontor"]),
    ("region-not-in-ba-region", _set("kontor", 0, "ba_region", "BA999"), None,
     ["ba_region.month: 24 region-month(s) missing for 1 commuting region(s)"]),
    # --- the G table ---
    ("g-missing-year", None, _post_g(lambda g: g[g["effective_from"] != "2017-05-01"]),
     ["grunnbelop.effective_from: 0 row(s) for 1 year(s)", "2017"]),
    ("g-in-thousands", None, _post_g(lambda g: g.assign(G_nok=g["G_nok"] / 1000)),
     ["grunnbelop.G_nok: 19 row(s) differ from the published G", "thousands"]),
    ("g-one-wrong-value", None, _post_g(lambda g: g.assign(G_nok=np.where(g["effective_from"] == "2019-05-01", 9985.8, g["G_nok"]))),
     ["grunnbelop.G_nok: 1 row(s) differ from the published G", "2019-05-01"]),
    ("g-implausible-future", None, _post_g(lambda g: pd.concat([g, pd.DataFrame({"effective_from": ["2030-05-01"], "G_nok": [130.0]})])),
     ["grunnbelop.G_nok: 1 row(s) differ", "2030-05-01"]),
    ("g-starts-too-late", None, _post_g(lambda g: g[g["effective_from"] >= "2016-01-01"]),
     ["grunnbelop.effective_from: first amount from 2016-05-01"]),
    # --- calendar ---
    ("hours-above-february", _set("timer", 0, "timer", 700.0), None,
     ["timer.timer: 1 row(s) with more hours than the month holds by its own number of days", "max 672"]),
    ("hours-above-april", lambda t, m: t["timer"].__setitem__("timer", t["timer"]["timer"].where(t["timer"]["month"] != "2018-04-01", 730.0)), None,
     ["timer.timer: 1 row(s) with more hours than the month holds", "max 720"]),
    ("hours-above-any-month", _set("timer", 1, "timer", 800.0), None, ["timer.timer: 1 row(s) with value(s) above 744"]),
    ("birth-after-status-month", _set("personer", 2, "fodt", pd.Timestamp("2018-01-01")), None,
     ["status.month: 7 row(s) before the person's birth month"]),
    ("birth-after-period", _set("personer", 0, "fodt", pd.Timestamp("2021-01-01")), None,
     ["personer.fodt: 1 row(s) with birth month(s) after the period"]),
    ("birth-too-early", _set("personer", 0, "fodt", pd.Timestamp("1850-01-01")), None,
     ["personer.fodt: 1 row(s) with birth month(s) after the period or more than 120 years before it"]),
    ("month-with-time-of-day", _set("timer", 0, "month", pd.Timestamp("2018-02-01 10:30")), None,
     ["timer.month: 1 row(s) with timestamp(s) with a time of day"]),
    ("month-with-time-zone", None, _post_tz, ["status.month: wrong type", "time zone", "row(s)"]),
    ("csv-month-with-time", None, _to_csv("timer", lambda d: d.assign(month=d["month"].where(d.index != 0, "2018-02-01 10:00:00"))),
     ["timer.month: 1 row(s) with value(s) with a time of day or a time zone"]),
    ("csv-month-with-zone", None, _to_csv("timer", lambda d: d.assign(month=d["month"].where(d.index != 0, "2018-02-01T00:00:00+01:00"))),
     ["timer.month: 1 row(s) with value(s) with a time of day or a time zone"]),
    ("month-not-first-day", _set("timer", 2, "month", pd.Timestamp("2019-01-15")), None,
     ["timer.month: 1 row(s) with date(s) not on the first day of a month"]),
    ("status-month-not-first-day", _set("status", 5, "month", pd.Timestamp("2013-06-03")), None,
     ["status.month: 1 row(s) with date(s) not on the first day of a month"]),
    ("immigration-before-birth", _set("personer", 1, "innvandret", pd.Timestamp("1990-01-01")), None,
     ["personer.innvandret: 1 row(s) with immigration month(s) before the birth month"]),
    # --- ambiguous inputs ---
    ("status-csv-and-parquet", None, _post_both("status", "csv"), ["- status: ambiguous input: status.parquet and status.csv"]),
    ("timer-file-and-folder", None, _post_both("timer", "dir"), ["- timer: ambiguous input: timer.parquet and timer/*.parquet"]),
    # --- engine errors become contract errors ---
    ("corrupt-parquet-mid-file", None, _post_corrupt_mid, ["- personer: cannot be read from personer.parquet"]),
    ("not-a-parquet-file", None, _post_garbage("lonn"), ["- lonn: cannot be read from lonn.parquet"]),
    ("parts-with-different-schemas", None, _post_parts,
     ["- timer: part files do not share one schema: part-1.parquet differs from part-0.parquet in column(s) ['timer']"]),
    ("bad-byte-late-in-csv", None, _post_big_csv_bad_byte,
     ["- personer: cannot be read from personer.csv: not valid UTF-8 at line 30005", "encoding problem"]),
    ("latin1-csv", None, _to_csv("kontor", lambda d: d.assign(fylke="Møre og Romsdal"), encoding="latin-1"),
     ["- kontor: cannot be read from kontor.csv: not valid UTF-8", "encoding problem"]),
    ("empty-csv-file", None, _to_csv("lonn", raw=b""), ["- lonn: missing column(s) ['person_id', 'month', 'lonn'] in all 0 row(s)"]),
    # --- per-column faults (the contract's first checks) ---
    ("missing-table", None, lambda d, t: (d / "lonn.parquet").unlink(), ["- lonn: table missing"]),
    ("missing-column", lambda t, m: t.__setitem__("status", t["status"].drop(columns=["dagpenger"])), None,
     ["status: missing column(s) ['dagpenger'] in all 113 row(s)"]),
    ("wrong-type-int", lambda t, m: t["status"].__setitem__("barn", t["status"]["barn"].astype(str)), None,
     ["status.barn: wrong type: expected an integer column, found VARCHAR (all 113 row(s))"]),
    ("wrong-type-month", lambda t, m: t["personer"].__setitem__("fodt", 1980.5), None,
     ["personer.fodt: wrong type: expected a date column", "(all 3 row(s))"]),
    ("csv-unreadable-number", None, _to_csv("timer", lambda d: d.astype({"timer": object}).assign(timer=lambda x: x["timer"].where(x.index != 1, "mange"))),
     ["timer.timer: 1 row(s) with value(s) not readable as float", "'mange'"]),
    ("csv-decimal-comma", None, _to_csv("timer", lambda d: d.astype({"timer": object}).assign(
        timer=lambda x: x["timer"].where(x.index != 1, "162,5").where(x.index != 2, "mange"))),
     ["timer.timer: 1 row(s) with a decimal comma", "'162,5'",
      "timer.timer: 1 row(s) with value(s) not readable as float", "'mange'"]),
    ("csv-unreadable-bool", None, _to_csv("status", lambda d: d.astype({"aap": object}).assign(aap=lambda x: x["aap"].where(x.index != 3, "kanskje"))),
     ["status.aap: 1 row(s) with value(s) not readable as bool"]),
    ("unknown-innsatsgruppe", _set("status", 0, "innsatsgruppe", "nesten_standard"), None,
     ["status.innsatsgruppe: 1 row(s) with unknown code(s)"]),
    ("unknown-hovedgruppe", _set("status", 1, "hovedgruppe", "ukjent"), None, ["status.hovedgruppe: 1 row(s) with unknown code(s)"]),
    ("unknown-tiltak", _set("status", 5, "tiltak", "sirkus"), None, ["status.tiltak: 1 row(s) with unknown code(s)"]),
    ("unknown-kjonn", _set("personer", 0, "kjonn", "X"), None, ["personer.kjonn: 1 row(s) with unknown code(s)"]),
    ("unknown-fylke", _set("kontor", 0, "fylke", "Atlantis"), None, ["kontor.fylke: 1 row(s) with unknown code(s)"]),
    ("unknown-landgruppe", _set("personer", 2, "landgruppe", 7), None, ["personer.landgruppe: 1 row(s) with unknown code(s)"]),
    ("long-value-cut", _set("status", 0, "tiltak", "x" * 5000), None, ["status.tiltak: 1 row(s) with unknown code(s)", "…"]),
    ("duplicate-status", _dup("status", [3, 3]), None, ["status.person_id+month: 3 row(s) share 1 duplicate person-month key(s)"]),
    ("duplicate-timer", _dup("timer", [0]), None, ["timer.person_id+month: 2 row(s) share 1 duplicate person-month key(s)"]),
    ("duplicate-lonn", _dup("lonn", [0]), None, ["lonn.person_id+month: 2 row(s) share 1 duplicate"]),
    ("duplicate-pgi", _dup("pgi", [0]), None, ["pgi.person_id+ar: 2 row(s) share 1 duplicate"]),
    ("duplicate-personer", _dup("personer", [2]), None, ["personer.person_id: 2 row(s) share 1 duplicate"]),
    ("duplicate-kontor", _dup("kontor", [0]), None, ["kontor.nav_kontor: 2 row(s) share 1 duplicate"]),
    ("duplicate-region-month", _dup("ba_region", [4]), None, ["ba_region.ba_region+month: 2 row(s) share 1 duplicate"]),
    ("negative-hours", _set("timer", 0, "timer", -5.0), None, ["timer.timer: 1 row(s) with negative value(s)"]),
    ("infinite-hours", _set("timer", 2, "timer", np.inf), None, ["timer.timer: 1 row(s) with non-finite value(s)"]),
    ("missing-hours", _set("timer", 3, "timer", np.nan), None, ["timer.timer: 1 row(s) with missing value(s)"]),
    ("negative-wage", _set("lonn", 0, "lonn", -100.0), None, ["lonn.lonn: 1 row(s) with negative value(s)"]),
    ("impossible-wage", _set("lonn", 1, "lonn", 5e8), None, ["lonn.lonn: 1 row(s) with value(s) above 1e+08"]),
    ("negative-pgi", _set("pgi", 0, "pgi", -1.0), None, ["pgi.pgi: 1 row(s) with negative value(s)"]),
    ("impossible-pgi", _set("pgi", 1, "pgi", 5e9), None, ["pgi.pgi: 1 row(s) with value(s) above 1e+09"]),
    ("too-many-children", _set("status", 6, "barn", 25), None, ["status.barn: 1 row(s) with value(s) above 20"]),
    ("missing-married", _set("status", 4, "gift", None), None, ["status.gift: 1 row(s) with missing value(s)"]),
    ("missing-office", _set("status", 4, "nav_kontor", None), None, ["status.nav_kontor: 1 row(s) with missing value(s)"]),
    ("office-without-county", _set("kontor", 0, "fylke", None), None, ["kontor.fylke: 1 row(s) with missing value(s)"]),
    ("negative-inflow", _set("ba_region", 0, "nye_ledige", -3), None, ["ba_region.nye_ledige: 1 row(s) with negative value(s)"]),
    ("inflow-above-labour-force", _set("ba_region", 1, "nye_ledige", 30000), None,
     ["ba_region.nye_ledige: 1 row(s) with more new unemployed than the labour force"]),
    ("zero-labour-force", _set("ba_region", 2, "arbeidsstyrke", 0), None, ["ba_region.arbeidsstyrke: 1 row(s) with value(s) below 1"]),
    ("norway-born-immigrant", _set("personer", 0, "innvandret", pd.Timestamp("2000-01-01")), None,
     ["personer.innvandret: 1 row(s) with immigration month(s) given for persons born in Norway"]),
    ("immigrant-without-month", _set("personer", 1, "innvandret", pd.NaT), None,
     ["personer.innvandret: 1 row(s) with immigration month(s) missing for persons born abroad"]),
    ("empty-table", lambda t, m: t.__setitem__("lonn", t["lonn"].iloc[0:0]), None, ["- lonn: the table is empty (0 rows)"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_named_and_inputs_unchanged(tmp_path: Path, case: tuple) -> None:
    _, mutate, post, expected = case
    tables, man = world()
    if mutate is not None:
        man = mutate(tables, man) or man
    d = tmp_path / "extracts"
    write_extracts(d, tables, man)
    if post is not None:
        post(d, tables)
    before = folder_hash(d)
    with pytest.raises(ExtractError) as info:
        validate_extracts(d)
    msg = str(info.value)
    for e in expected:
        assert e in msg, f"{e!r} not in:\n{msg}"
    assert all(len(ln) <= MAX_LINE for ln in msg.splitlines()[1:]), msg
    assert "Traceback" not in msg
    assert folder_hash(d) == before


def test_catalogue_is_large_enough() -> None:
    assert len(CASES) + len(CONFIG_CASES) >= 60


def test_low_linkage_is_a_warning_with_the_share(tmp_path: Path) -> None:
    tables, man = world()
    _unlinked_share(tables, man)
    d = tmp_path / "extracts"
    write_extracts(d, tables, man)
    before = folder_hash(d)
    with pytest.warns(ExtractWarning, match=r"timer.person_id: 40 of 43 persons in personer \(93%\) have no row in timer"):
        ex = validate_extracts(d)
    assert any("status.person_id: 40 of 43" in w for w in ex.warnings)
    ex.close()
    assert folder_hash(d) == before


def test_glob_characters_in_the_path_are_literal(tmp_path: Path) -> None:
    tables, man = world()
    good, decoy = tmp_path / "ex[1]", tmp_path / "ex1"
    write_extracts(good, tables, man)
    t2 = {k: v.copy() for k, v in tables.items()}
    t2["timer"].loc[0, "timer"] = -1.0  # the decoy a glob would pick is invalid
    write_extracts(decoy, t2, man)
    with validate_extracts(good) as ex:
        assert ex.df("SELECT min(timer) AS m FROM timer")["m"].iloc[0] >= 0
    tables["lonn"].loc[0, "lonn"] = -2.0
    bad_dir = tmp_path / "x*[a]?"
    write_extracts(bad_dir, tables, man)
    with pytest.raises(ExtractError, match=r"lonn.lonn: 1 row\(s\) with negative value"):
        validate_extracts(bad_dir)


def test_query_errors_after_validation_are_contract_errors(tmp_path: Path) -> None:
    tables, man = world()
    d = tmp_path / "extracts"
    write_extracts(d, tables, man)
    with validate_extracts(d) as ex:
        with pytest.raises(ExtractError, match=r"- timer: cannot be read from timer.parquet"):
            ex.df("SELECT no_such_column FROM timer")


# --- configuration -------------------------------------------------------------------------


def _cfg(tmp_path: Path, text: str | None = None, **overrides: Any) -> Path:
    """The tiny configuration with dotted-key overrides (conftest.write_config), or ``text`` as the file."""
    path = write_config(tmp_path, **overrides)
    if text is not None:
        path.write_text(text, encoding="utf-8")
    return path


CONFIG_CASES: list[tuple[str, dict | str, str]] = [
    ("typo-nested", {"indicator.min_cel_count": 5}, "indicator.min_cel_count: unknown key; did you mean 'indicator.min_cell_count'"),
    ("typo-top", {"boostrap": {"replicates": 3}}, "boostrap: unknown key; did you mean 'bootstrap'"),
    ("typo-deep", {"data.synthetic.sed": 3}, "data.synthetic.sed: unknown key; did you mean 'data.synthetic.seed'"),
    ("typo-profiling", {"profiling.bootstrap_replicate": 3}, "did you mean 'profiling.bootstrap_replicates'"),
    ("profiling-bad-type", {"profiling.volume_b": "half"}, "profiling.volume_b: expected a number"),
    ("year-as-start", {"period.start": 2017}, "period.start: expected a month as 'YYYY-MM', got 2017"),
    ("seasonal-overlaps-covid", {"indicator.seasonal_reference.long": [["2019-01", "2020-12"]]}, "overlaps the COVID window"),
    ("seasonal-outside-period", {"indicator.seasonal_reference.short": [["2016-01", "2017-12"]]}, "is not inside the period"),
    ("covid-outside-period", {"indicator.covid_window": ["2020-03", "2025-02"]}, "covid_window: 2020-03–2025-02 is not inside"),
    ("duplicate-key", "name: a\nname: b\n", "duplicate key 'name' (lines 1 and 2)"),
]


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_bad_configuration_is_named_and_unchanged(tmp_path: Path, case: tuple) -> None:
    _, change, expected = case
    path = _cfg(tmp_path, change) if isinstance(change, str) else _cfg(tmp_path, **change)
    before = path.read_bytes()
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert expected in str(info.value), str(info.value)
    assert path.read_bytes() == before


def test_world_is_valid_without_warnings(tmp_path: Path) -> None:
    tables, man = world()
    d = tmp_path / "extracts"
    write_extracts(d, tables, man)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_extracts(d).close()
    _ = MS  # the world's helpers are shared with test_extracts
