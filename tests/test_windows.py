"""The rule that moves the period and the seasonal reference windows with the data (issue 15)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from arbeidsindikator.config import ConfigError, Window, load_config
from arbeidsindikator.windows import WindowRuleError, reference_windows, resolve_period, windows_table
from conftest import write_config

M = lambda s: pd.Period(s, freq="M")  # noqa: E731
COVID = Window(M("2020-03"), M("2022-02"))


def _str(ws):
    return [str(w) for w in ws]


def test_rule_gives_the_reports_windows_for_the_reports_period():
    short, _ = reference_windows(M("2017-12"), M("2024-06"), COVID, 3)
    long, why = reference_windows(M("2017-12"), M("2024-06"), COVID, 12)
    assert _str(short) == ["2017-12–2019-11", "2022-04–2024-03"]
    assert _str(long) == ["2017-12–2018-11", "2022-04–2023-06"]
    assert "whole year" in why and "observable" in why


def test_rule_extends_the_post_covid_window_one_quarter_later():
    short, _ = reference_windows(M("2017-12"), M("2024-09"), COVID, 3)
    long, _ = reference_windows(M("2017-12"), M("2024-09"), COVID, 12)
    assert _str(short) == ["2017-12–2019-11", "2022-04–2024-06"]
    assert _str(long) == ["2017-12–2018-11", "2022-04–2023-09"]


def test_rule_with_fixed_length_drops_the_oldest_months():
    p = resolve_period({"start": "auto", "end": "2024-09", "length_months": 79}, lambda: None)
    assert (str(p.start), str(p.end)) == ("2018-03", "2024-09")
    short, _ = reference_windows(p.start, p.end, COVID, 3)
    long, _ = reference_windows(p.start, p.end, COVID, 12)
    # 21 pre-COVID months with observable 3-month outcomes -> one whole year from the start
    assert _str(short) == ["2018-03–2019-02", "2022-04–2024-06"]
    assert _str(long) == ["2018-03–2019-02", "2022-04–2023-09"]


def test_hours_observed_after_the_period_make_later_outcomes_observable():
    short, _ = reference_windows(M("2017-12"), M("2024-03"), COVID, 3, hours_last=M("2024-06"))
    assert _str(short)[-1] == "2022-04–2024-03"
    short, _ = reference_windows(M("2017-12"), M("2024-03"), COVID, 3)
    assert _str(short)[-1] == "2022-04–2023-12"


def test_rule_refuses_windows_missing_calendar_months():
    with pytest.raises(WindowRuleError, match="calendar"):
        reference_windows(M("2019-06"), M("2022-12"), COVID, 12)


def _manifest(folder, start, end, timer_end=None):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps({
        "period": {"start": start, "end": end},
        "coverage": {"timer": [start, timer_end or end]}}))
    return folder


def test_config_auto_follows_the_extracts_and_explicit_values_win(tmp_path):
    folder = _manifest(tmp_path / "ex", "2017-12", "2024-09")
    cfg = load_config(write_config(tmp_path, **{
        "data.source": "extracts", "data.path": str(folder), "period": {"start": "auto", "end": "auto"},
        "indicator.seasonal_reference": "auto"}))
    assert (str(cfg.start), str(cfg.end)) == ("2017-12", "2024-09")
    assert _str(cfg.seasonal_windows_short) == ["2017-12–2019-11", "2022-04–2024-06"]
    assert _str(cfg.seasonal_windows_long) == ["2017-12–2018-11", "2022-04–2023-09"]
    assert "manifest.json" in cfg.provenance["period"]
    assert cfg.provenance["seasonal_reference.long"].startswith("rule:")
    t = windows_table(cfg)
    assert t["why"].str.contains("rule").sum() == 2
    # explicit windows win, for one horizon only
    cfg2 = load_config(write_config(tmp_path, **{
        "data.source": "extracts", "data.path": str(folder), "period": {"start": "auto", "end": "auto"},
        "indicator.seasonal_reference": {"short": [["2017-12", "2019-11"]], "long": "auto"}}))
    assert _str(cfg2.seasonal_windows_short) == ["2017-12–2019-11"]
    assert cfg2.provenance["seasonal_reference.short"].startswith("from the configuration (the rule would give 2017-12")
    assert cfg2.fingerprint() != cfg.fingerprint()


def test_config_auto_with_synthetic_data_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="auto"):
        load_config(write_config(tmp_path, **{"period": {"start": "2017-12", "end": "auto"}}))
    with pytest.raises(ConfigError, match="length_months"):
        load_config(write_config(tmp_path, **{"period": {"start": "2017-12", "end": "2024-06", "length_months": 30}}))


def test_missing_windows_follow_the_rule_and_equal_the_reports(tmp_path):
    cfg = load_config(write_config(tmp_path, **{"indicator.seasonal_reference": "auto"}))
    assert _str(cfg.seasonal_windows_short) == ["2017-12–2019-11", "2022-04–2024-03"]
    assert _str(cfg.seasonal_windows_long) == ["2017-12–2018-11", "2022-04–2023-06"]


def test_explicit_report_windows_are_confirmed_by_the_rule(tmp_path):
    cfg = load_config(write_config(tmp_path))
    assert cfg.provenance["seasonal_reference.short"] == "from the configuration (the rule gives the same)"
    assert cfg.provenance["seasonal_reference.long"] == "from the configuration (the rule gives the same)"
