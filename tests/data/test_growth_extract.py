"""The optional extract of expected employment growth (sysselsettingsvekst; issue 13).

Absent: nothing changes (the panel has no growth column). Present: validated with clear errors
(coverage declared and covering the period, every commuting region of kontor in every month,
values in range), and the panel builder carries the region's value of month t into the panel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arbeidsindikator.data.contract import GROWTH_COLUMN, validate_panel
from arbeidsindikator.data.extracts import GROWTH_TABLE, TABLE_BY_NAME, Manifest, validate_extracts
from arbeidsindikator.panel.build import build_panel
from test_extracts import MS, P, violations, world, write


def with_growth(tables: dict[str, pd.DataFrame], man: Manifest, *, coverage: bool = True) -> Manifest:
    months = MS("2018-01", "2019-12")
    tables[GROWTH_TABLE] = pd.DataFrame({"ba_region": "BA001", "month": months,
                                         "forventet_vekst": np.linspace(-0.02, 0.03, len(months))})
    if coverage:
        man = Manifest(man.start, man.end, {**man.coverage, GROWTH_TABLE: (P("2018-01"), P("2019-12"))}, man.extra)
    return man


def test_the_table_is_optional_and_declared() -> None:
    t = TABLE_BY_NAME[GROWTH_TABLE]
    assert t.optional and t.key == ("ba_region", "month")
    assert [c.name for c in t.columns] == ["ba_region", "month", "forventet_vekst"]


def test_absent_growth_leaves_the_panel_as_before(tmp_path: Path) -> None:
    tables, man = world()
    with validate_extracts(write(tmp_path, tables, man)) as ex:
        assert GROWTH_TABLE not in ex.loaded
        panel, _ = build_panel(ex)
    assert GROWTH_COLUMN not in panel.columns


def test_present_growth_reaches_the_panel(tmp_path: Path) -> None:
    tables, man = world()
    man = with_growth(tables, man)
    with validate_extracts(write(tmp_path, tables, man)) as ex:
        panel, _ = build_panel(ex)
    g = tables[GROWTH_TABLE].set_index("month")["forventet_vekst"]
    np.testing.assert_allclose(panel[GROWTH_COLUMN].to_numpy(), g.loc[panel["month"]].to_numpy())
    validate_panel(panel)  # the optional column passes the panel contract


def test_missing_coverage_is_named(tmp_path: Path) -> None:
    tables, man = world()
    man = with_growth(tables, man, coverage=False)
    msg = violations(write(tmp_path, tables, man))
    assert f"manifest.coverage.{GROWTH_TABLE}: missing" in msg


def test_missing_region_months_are_counted(tmp_path: Path) -> None:
    tables, man = world()
    man = with_growth(tables, man)
    # a second office in a second region, with inflow but without growth rows
    tables["kontor"] = pd.concat([tables["kontor"], pd.DataFrame({"nav_kontor": ["0302"], "fylke": ["Oslo"],
                                                                  "ba_region": ["BA002"]})])
    tables["ba_region"] = pd.concat([tables["ba_region"], tables["ba_region"].assign(ba_region="BA002")])
    tables[GROWTH_TABLE] = tables[GROWTH_TABLE].iloc[:-3]  # BA001 lacks the last three months
    msg = violations(write(tmp_path, tables, man))
    assert f"- {GROWTH_TABLE}.ba_region+month: 27 row(s) missing: 2 commuting region(s)" in msg
    assert "BA001 (21 of 24 months)" in msg and "BA002 (0 of 24 months)" in msg


def test_out_of_range_values_are_named(tmp_path: Path) -> None:
    tables, man = world()
    man = with_growth(tables, man)
    tables[GROWTH_TABLE].loc[3, "forventet_vekst"] = 42.0
    msg = violations(write(tmp_path, tables, man))
    assert f"{GROWTH_TABLE}.forventet_vekst: 1 row(s) with value(s) above 10" in msg


def test_coverage_shorter_than_the_period_is_named(tmp_path: Path) -> None:
    tables, man = world()
    man = with_growth(tables, man)
    tables[GROWTH_TABLE] = tables[GROWTH_TABLE].iloc[2:]
    man = Manifest(man.start, man.end, {**man.coverage, GROWTH_TABLE: (P("2018-03"), P("2019-12"))}, man.extra)
    msg = violations(write(tmp_path, tables, man))
    assert f"manifest.coverage.{GROWTH_TABLE}: 2018-03–2019-12 must include the period 2018-01–2019-12" in msg


def test_synthetic_generator_writes_a_valid_growth_extract(tmp_path: Path) -> None:
    from arbeidsindikator.synthetic.generator import generate_extracts

    d = tmp_path / "syn"
    generate_extracts(d, n_persons=150, seed=5, start="2018-01", end="2020-02", truth=False, workers=1)
    with validate_extracts(d) as ex:
        assert GROWTH_TABLE in ex.loaded
        g = ex.df(f"SELECT * FROM {GROWTH_TABLE}")
        n_reg = ex.df("SELECT count(DISTINCT ba_region) AS n FROM kontor")["n"].iloc[0]
    assert len(g) == n_reg * 26 and g["forventet_vekst"].between(-1, 10).all()
    assert g["forventet_vekst"].std() > 0.001  # regions and months differ
