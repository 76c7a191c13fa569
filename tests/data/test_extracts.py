"""Bad-input catalogue for the raw-extract contract (issue 3 (a)).

One test per violation the issue lists — missing or wrongly typed columns, unknown category
codes, duplicate person-months, months outside the declared period, negative or impossible hours
and wages, persons in status but not in persons, offices without a county, empty tables, a
period too short for seasonal adjustment — plus the checks the panel needs (history coverage,
commuting-region coverage, inconsistent persons, unreadable CSV values). Every message must name
the table, the column, the number of rows and an example; one error lists all violations; and
validation writes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arbeidsindikator.data.extracts import (
    TABLES,
    ExtractError,
    Manifest,
    contract_markdown,
    contract_table,
    validate_extracts,
    write_extracts,
)

P = lambda s: pd.Period(s, freq="M")  # noqa: E731
MS = lambda a, b: pd.date_range(a, b, freq="MS")  # noqa: E731


def world() -> tuple[dict[str, pd.DataFrame], Manifest]:
    """A small valid set of extracts: three persons, one office, period 2018-01..2019-12."""
    man = Manifest(P("2018-01"), P("2019-12"), {
        "status": (P("2013-01"), P("2019-12")), "timer": (P("2018-01"), P("2019-12")),
        "lonn": (P("2015-01"), P("2019-12")), "ba_region": (P("2018-01"), P("2019-12")), "pgi": (2012, 2018)})
    personer = pd.DataFrame({
        "person_id": [1, 2, 3],
        "fodt": pd.to_datetime(["1980-05-01", "1995-01-01", "1970-03-01"]),
        "kjonn": ["K", "M", "K"],
        "landgruppe": [0, 3, -1],
        "innvandret": pd.to_datetime([None, "2012-06-01", None]),
    })
    rows = []
    for pid, months in ((1, MS("2013-01", "2019-12")), (2, MS("2018-03", "2018-10")), (3, MS("2017-06", "2019-02"))):
        rows.append(pd.DataFrame({"person_id": pid, "month": months}))
    status = pd.concat(rows, ignore_index=True).assign(
        innsatsgruppe="situasjonsbestemt", hovedgruppe="helt_ledige", nav_kontor="0301", aap=False, sykepenger=False,
        dagpenger=True, overgangsstonad=False, uforetrygd=False, permittert=False, tiltak="ingen", gift=False, barn=1,
        hoyere_utd=False)
    # every month (year) of each declared coverage holds rows, as in real extracts
    fill = MS("2018-01", "2019-12").difference(pd.to_datetime(["2018-02-01", "2018-03-01"]))
    timer = pd.DataFrame({"person_id": [1, 1, 2, 3] + [1] * len(fill),
                          "month": pd.to_datetime(["2018-02-01", "2018-03-01", "2019-01-01", "2018-05-01"]).append(fill),
                          "timer": [100.0, 160.0, 150.0, 60.0] + [10.0] * len(fill)})
    lm = MS("2015-01", "2019-12")
    lonn = pd.DataFrame({"person_id": [1, 2] + [3] * len(lm), "month": pd.to_datetime(["2015-03-01", "2017-05-01"]).append(lm),
                         "lonn": [30000.0, 20000.0] + [15000.0] * len(lm)})
    pgi = pd.DataFrame({"person_id": [1, 3] + [2] * 7, "ar": [2014, 2016] + list(range(2012, 2019)),
                        "pgi": [300000.0, 120000.0] + [50000.0] * 7})
    kontor = pd.DataFrame({"nav_kontor": ["0301"], "fylke": ["Oslo"], "ba_region": ["BA001"]})
    ba = pd.DataFrame({"ba_region": "BA001", "month": MS("2018-01", "2019-12")}).assign(nye_ledige=100, arbeidsstyrke=20000)
    return {"personer": personer, "status": status, "timer": timer, "lonn": lonn, "pgi": pgi, "kontor": kontor,
            "ba_region": ba}, man


def write(tmp_path: Path, tables: dict[str, pd.DataFrame], man: Manifest) -> Path:
    d = tmp_path / "extracts"
    write_extracts(d, tables, man)
    return d


def violations(folder: Path) -> str:
    with pytest.raises(ExtractError) as info:
        validate_extracts(folder)
    return str(info.value)


def bad(tmp_path: Path, mutate) -> str:  # type: ignore[no-untyped-def]
    tables, man = world()
    man = mutate(tables, man) or man
    return violations(write(tmp_path, tables, man))


# ---------------------------------------------------------------------------------------------


def test_valid_world_passes_and_is_readable(tmp_path: Path) -> None:
    tables, man = world()
    with validate_extracts(write(tmp_path, tables, man)) as ex:
        assert ex.summary["status"]["rows"] == len(tables["status"])
        assert ex.summary["grunnbelop"]["format"] == "csv"  # public G from data/reference
        st = ex.df("SELECT * FROM status ORDER BY person_id, month LIMIT 1")
        assert str(st["month"].dtype).startswith("datetime64") and st["innsatsgruppe"].iloc[0] == "situasjonsbestemt"
        assert len(ex.fingerprint()) == 16


@pytest.mark.parametrize("sep", [",", ";"])
def test_csv_is_accepted(tmp_path: Path, sep: str) -> None:
    """Comma- or semicolon-separated (as Norwegian spreadsheets export) with a decimal point."""
    tables, man = world()
    d = write(tmp_path, tables, man)
    (d / "timer.parquet").unlink()
    t = tables["timer"].assign(month=tables["timer"]["month"].dt.strftime("%Y-%m"), timer=tables["timer"]["timer"] + 0.5)
    t.to_csv(d / "timer.csv", index=False, sep=sep)
    with validate_extracts(d) as ex:
        assert ex.summary["timer"]["format"] == "csv"
        assert ex.df("SELECT sum(timer) AS s FROM timer")["s"].iloc[0] == pytest.approx(t["timer"].sum())


def test_missing_table(tmp_path: Path) -> None:
    tables, man = world()
    d = write(tmp_path, tables, man)
    (d / "lonn.parquet").unlink()
    msg = violations(d)
    assert "- lonn: table missing" in msg


def test_missing_column(tmp_path: Path) -> None:
    msg = bad(tmp_path, lambda t, m: t.__setitem__("status", t["status"].drop(columns=["dagpenger"])))
    assert "status: missing column(s) ['dagpenger']" in msg


def test_wrong_column_type(tmp_path: Path) -> None:
    def mutate(t, m):  # type: ignore[no-untyped-def]
        t["status"]["barn"] = t["status"]["barn"].astype(str)  # text where an integer is required
        t["personer"]["fodt"] = 1980.5  # a number where a month is required

    msg = bad(tmp_path, mutate)
    assert "status.barn: wrong type: expected an integer column, found VARCHAR" in msg
    assert "personer.fodt: wrong type: expected a date column" in msg


def test_unreadable_csv_values(tmp_path: Path) -> None:
    tables, man = world()
    d = write(tmp_path, tables, man)
    (d / "timer.parquet").unlink()
    t = tables["timer"].astype({"timer": object})
    t.loc[1, "timer"] = "mange"
    t.to_csv(d / "timer.csv", index=False)
    msg = violations(d)
    assert "timer.timer: 1 row(s) with value(s) not readable as float" in msg and "'mange'" in msg


def test_unknown_category_codes(tmp_path: Path) -> None:
    def mutate(t, m):  # type: ignore[no-untyped-def]
        t["status"].loc[[0, 1, 2], "innsatsgruppe"] = "nesten_standard"
        t["status"].loc[5, "tiltak"] = "sirkus"
        t["personer"].loc[0, "kjonn"] = "X"
        t["kontor"].loc[0, "fylke"] = "Atlantis"

    msg = bad(tmp_path, mutate)
    assert "status.innsatsgruppe: 3 row(s) with unknown code(s)" in msg and "'nesten_standard'" in msg
    assert "status.tiltak: 1 row(s) with unknown code(s)" in msg
    assert "personer.kjonn: 1 row(s) with unknown code(s)" in msg
    assert "kontor.fylke: 1 row(s) with unknown code(s)" in msg and "'Atlantis'" in msg


def test_duplicate_person_months(tmp_path: Path) -> None:
    def mutate(t, m):  # type: ignore[no-untyped-def]
        t["status"] = pd.concat([t["status"], t["status"].iloc[[3, 3, 10]]], ignore_index=True)
        t["timer"] = pd.concat([t["timer"], t["timer"].iloc[[0]]], ignore_index=True)
        t["personer"] = pd.concat([t["personer"], t["personer"].iloc[[2]]], ignore_index=True)

    msg = bad(tmp_path, mutate)
    assert "status.person_id+month: 5 row(s) share 2 duplicate person-month key(s)" in msg
    assert "person_id=1, month=2013-04-01: 3 rows" in msg
    assert "timer.person_id+month: 2 row(s) share 1 duplicate person-month key(s)" in msg
    assert "personer.person_id: 2 row(s) share 1 duplicate person_id key(s)" in msg


def test_month_not_first_day(tmp_path: Path) -> None:
    def mutate(t, m):  # type: ignore[no-untyped-def]
        t["timer"].loc[2, "month"] = pd.Timestamp("2019-01-15")

    msg = bad(tmp_path, mutate)
    assert "timer.month: 1 row(s) with date(s) not on the first day of a month; e.g. (person_id=2, month=2019-01-15)" in msg


def test_months_outside_declared_period(tmp_path: Path) -> None:
    def mutate(t, m):  # type: ignore[no-untyped-def]
        extra = t["status"].iloc[[0]].assign(month=pd.Timestamp("2020-03-01"))
        t["status"] = pd.concat([t["status"], extra], ignore_index=True)
        t["timer"].loc[0, "month"] = pd.Timestamp("2017-06-01")
        t["pgi"].loc[0, "ar"] = 2005

    msg = bad(tmp_path, mutate)
    assert "status.month: 1 row(s) with month(s) outside the declared coverage 2013-01–2019-12" in msg
    assert "timer.month: 1 row(s) with month(s) outside the declared coverage 2018-01–2019-12" in msg
    assert "pgi.ar: 1 row(s) with year(s) outside the declared coverage 2012–2018" in msg


def test_negative_and_impossible_hours(tmp_path: Path) -> None:
    def mutate(t, m):  # type: ignore[no-untyped-def]
        t["timer"].loc[0, "timer"] = -5.0
        t["timer"].loc[1, "timer"] = 800.0  # more hours than a 31-day month holds (744)
        t["timer"].loc[2, "timer"] = np.inf

    msg = bad(tmp_path, mutate)
    assert "timer.timer: 1 row(s) with negative value(s); e.g. (person_id=1, month=2018-02-01, timer=-5.0)" in msg
    assert "timer.timer: 1 row(s) with value(s) above 744: more than a month holds (744 h)" in msg
    assert "timer.timer: 1 row(s) with non-finite value(s)" in msg


def test_negative_and_impossible_wages(tmp_path: Path) -> None:
    def mutate(t, m):  # type: ignore[no-untyped-def]
        t["lonn"].loc[0, "lonn"] = -100.0
        t["lonn"].loc[1, "lonn"] = 5e8
        t["pgi"].loc[0, "pgi"] = -1.0

    msg = bad(tmp_path, mutate)
    assert "lonn.lonn: 1 row(s) with negative value(s)" in msg
    assert "lonn.lonn: 1 row(s) with value(s) above 1e+08: more than 100 million NOK in one month" in msg
    assert "pgi.pgi: 1 row(s) with negative value(s)" in msg


def test_persons_in_status_not_in_persons(tmp_path: Path) -> None:
    msg = bad(tmp_path, lambda t, m: t.__setitem__("personer", t["personer"][t["personer"]["person_id"] != 2]))
    assert "status.person_id: 8 row(s) of 1 person(s) in status but not in personer; e.g. person_id [2]" in msg


def test_offices_without_county(tmp_path: Path) -> None:
    def mutate(t, m):  # type: ignore[no-untyped-def]
        t["kontor"] = pd.DataFrame({"nav_kontor": ["0301", "0302"], "fylke": ["Oslo", None], "ba_region": ["BA001", "BA001"]})
        t["status"].loc[t["status"]["person_id"] == 3, "nav_kontor"] = "9999"

    msg = bad(tmp_path, mutate)
    assert "kontor.fylke: 1 row(s) with missing value(s); e.g. (nav_kontor='0302', fylke=None)" in msg
    assert "status.nav_kontor: 21 row(s) with 1 office(s) not in kontor (no county or region known); e.g. ['9999']" in msg


def test_empty_table(tmp_path: Path) -> None:
    msg = bad(tmp_path, lambda t, m: t.__setitem__("lonn", t["lonn"].iloc[0:0]))
    assert "- lonn: the table is empty (0 rows)" in msg


def test_period_too_short_for_seasonal_adjustment(tmp_path: Path) -> None:
    def mutate(t, m):  # type: ignore[no-untyped-def]
        return Manifest(P("2019-01"), P("2019-12"), {**m.coverage, "status": (P("2014-01"), P("2019-12"))})

    msg = bad(tmp_path, mutate)
    assert "manifest.period: 2019-01–2019-12 holds 12 months; seasonal adjustment needs at least 24" in msg


def test_history_shorter_than_five_years(tmp_path: Path) -> None:
    def mutate(t, m):  # type: ignore[no-untyped-def]
        t["status"] = t["status"][t["status"]["month"] >= "2015-01-01"]
        return Manifest(m.start, m.end, {**m.coverage, "status": (P("2015-01"), P("2019-12"))})

    msg = bad(tmp_path, mutate)
    assert "manifest.coverage.status: starts 2015-01, but NAV history needs 60 months" in msg


def test_missing_manifest(tmp_path: Path) -> None:
    tables, man = world()
    d = write(tmp_path, tables, man)
    (d / "manifest.json").unlink()
    assert "manifest.json is missing" in violations(d)


def test_region_months_missing(tmp_path: Path) -> None:
    msg = bad(tmp_path, lambda t, m: t.__setitem__("ba_region", t["ba_region"].iloc[:-3]))
    assert "ba_region.month: 3 region-month(s) missing for 1 commuting region(s) used by offices" in msg


def test_inconsistent_persons(tmp_path: Path) -> None:
    def mutate(t, m):  # type: ignore[no-untyped-def]
        t["personer"].loc[0, "innvandret"] = pd.Timestamp("2000-01-01")  # born in Norway, yet immigrated
        t["personer"].loc[1, "innvandret"] = pd.NaT  # country group 3 without immigration month

    msg = bad(tmp_path, mutate)
    assert "personer.innvandret: 1 row(s) with immigration month(s) given for persons born in Norway" in msg
    assert "personer.innvandret: 1 row(s) with immigration month(s) missing for persons born abroad" in msg


def test_missing_values_and_children_out_of_range(tmp_path: Path) -> None:
    def mutate(t, m):  # type: ignore[no-untyped-def]
        t["status"]["gift"] = t["status"]["gift"].astype(object)
        t["status"].loc[4, "gift"] = None
        t["status"].loc[6, "barn"] = 25

    msg = bad(tmp_path, mutate)
    assert "status.gift: 1 row(s) with missing value(s)" in msg
    assert "status.barn: 1 row(s) with value(s) above 20" in msg


def test_all_violations_in_one_error_with_table_column_count_example(tmp_path: Path) -> None:
    def mutate(t, m):  # type: ignore[no-untyped-def]
        t["timer"].loc[0, "timer"] = -1.0
        t["status"].loc[0, "hovedgruppe"] = "ukjent"
        t["lonn"].loc[0, "lonn"] = -2.0

    msg = bad(tmp_path, mutate)
    assert "(3 problem(s))" in msg
    lines = [ln for ln in msg.splitlines() if ln.startswith("- ")]
    assert len(lines) == 3
    for ln in lines:  # table.column: N row(s) ...; e.g. (key=value, ...)
        assert ln.split(":")[0].count(".") == 1 and "row(s)" in ln and "e.g." in ln


def test_validation_writes_nothing(tmp_path: Path) -> None:
    tables, man = world()
    tables["timer"].loc[0, "timer"] = -1.0
    d = write(tmp_path, tables, man)
    before = {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in d.rglob("*")}
    violations(d)
    after = {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in d.rglob("*")}
    assert before == after


def test_panel_from_config_fails_before_writing(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from arbeidsindikator.pipeline import panel_from_config

    tables, man = world()
    tables["status"].loc[0, "innsatsgruppe"] = "feil"
    d = write(tmp_path, tables, man)
    cache = tmp_path / "cache"
    cfg = SimpleNamespace(source="extracts", data_path=d, cache_dir=cache, start=man.start, end=man.end, gap_months=3)
    with pytest.raises(ExtractError, match="status.innsatsgruppe"):
        panel_from_config(cfg)
    assert not cache.exists()


def test_contract_documentation_covers_every_column() -> None:
    doc = contract_markdown()
    tab = contract_table()
    for t in TABLES:
        assert f"`{t.name}`" in doc
        for c in t.columns:
            assert f"| `{c.name}` |" in doc
    assert set(tab["table"]) == {t.name for t in TABLES}
    readme = Path(__file__).resolve().parents[2] / "data" / "README.md"
    if readme.is_file():  # the README section is generated from the same declaration
        text = readme.read_text(encoding="utf-8")
        assert "Raw register extracts" in text
        for t in TABLES:
            assert f"`{t.name}`" in text


def test_no_stray_files_from_write_extracts(tmp_path: Path) -> None:
    tables, man = world()
    d = write(tmp_path, tables, man)
    assert not [p for p in os.listdir(d) if p.endswith(".tmp")]
