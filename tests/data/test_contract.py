"""The analysis-panel contract rejects bad panels with messages naming column, rows and example."""

from __future__ import annotations

import pandas as pd
import pytest

from arbeidsindikator.data.contract import ContractError, validate_panel


@pytest.fixture()
def good(tiny_panel):
    return tiny_panel.head(500).copy()


def test_good_panel_passes_and_input_is_not_modified(good):
    before = good.copy()
    validate_panel(good)
    pd.testing.assert_frame_equal(good, before)


def test_missing_column(good):
    with pytest.raises(ContractError, match=r"missing column\(s\) \['fylke'\]"):
        validate_panel(good.drop(columns="fylke"))


def test_unknown_category_names_rows_and_example(good):
    bad = good.copy()
    bad["hovedgruppe"] = bad["hovedgruppe"].astype(str)
    bad.loc[bad.index[:3], "hovedgruppe"] = "varig_tilpasset"
    with pytest.raises(ContractError, match=r"panel\.hovedgruppe: 3 row\(s\).*'varig_tilpasset'"):
        validate_panel(bad)


def test_duplicate_person_months(good):
    bad = pd.concat([good, good.head(2)], ignore_index=True)
    with pytest.raises(ContractError, match="2 row"):
        validate_panel(bad)


def test_months_outside_period(good):
    with pytest.raises(ContractError, match="outside the declared period"):
        validate_panel(good, period=(pd.Period("2019-01", "M"), pd.Period("2024-06", "M")))


def test_impossible_hours(good):
    bad = good.copy()
    bad.loc[bad.index[0], "timer_t"] = 500.0
    with pytest.raises(ContractError, match="timer_t"):
        validate_panel(bad)


def test_empty():
    with pytest.raises(ContractError, match="empty"):
        validate_panel(pd.DataFrame())
