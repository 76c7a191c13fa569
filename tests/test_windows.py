"""The rule that moves the period and the seasonal reference windows with the data (issue 15)."""

from __future__ import annotations

import ast
import inspect
import json
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbeidsindikator import config as config_module
from arbeidsindikator import windows as windows_module
from arbeidsindikator.config import ConfigError, Window, load_config
from arbeidsindikator.windows import (MonthError, WindowRuleError, parse_month, reference_windows, resolve_period,
                                      windows_table)
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


# --- the one month parser (windows.parse_month: configuration, window rule and manifest) --------

@settings(max_examples=200, deadline=None)
@given(year=st.integers(1000, 9999), month=st.integers(1, 12), pad=st.sampled_from(["", " ", "  "]))
def test_parse_month_round_trips_yyyy_mm(year, month, pad):
    text = f"{year:04d}-{month:02d}"
    p = parse_month(pad + text + pad, "k")
    assert (p.year, p.month, p.freqstr) == (year, month, "M")
    assert str(p) == text and parse_month(p, "k") == p


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(
    st.integers(-10_000, 10_000), st.floats(allow_nan=True), st.booleans(), st.none(),
    st.text(max_size=12).filter(lambda s: not re.fullmatch(r"\s*\d{4}-(0[1-9]|1[0-2])\s*", s)),
    st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(1000, 9999), st.sampled_from([0, 13, 99])),
    st.builds(lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}", st.integers(1000, 9999), st.integers(1, 12), st.integers(1, 28)),
))
def test_parse_month_rejects_everything_else_naming_key_and_value(value):
    with pytest.raises(MonthError) as exc:
        parse_month(value, "indicator.covid_window[0]")
    msg = str(exc.value)
    assert msg.startswith("indicator.covid_window[0]: expected a month as 'YYYY-MM', got ") and repr(value) in msg


def test_parse_month_raises_the_callers_error_with_hints():
    with pytest.raises(ConfigError, match=r"^k: expected a month as 'YYYY-MM', got 2017 \(a bare year is ambiguous; "
                                          r"write the month quoted, e.g. '2017-12'\)$"):
        parse_month(2017, "k", error=ConfigError)
    with pytest.raises(WindowRuleError, match=r"got '2024-6' \(or 'auto'; write the month quoted, e.g. '2024-06'\)"):
        parse_month("2024-6", "period.end", error=WindowRuleError, auto=True, example="2024-06")
    with pytest.raises(MonthError, match="got Period"):
        parse_month(pd.Period("2024-06-01", freq="D"), "k")  # a daily period is not a month


def test_one_month_parser():
    """config and windows parse months only through windows.parse_month (no second parser)."""
    for mod in (config_module, windows_module):
        tree = ast.parse(inspect.getsource(mod))
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) in ("pd.Period", "pandas.Period")]
        allowed = [n for n in calls if mod is windows_module and n.lineno in _parse_month_lines()]
        assert calls == allowed, f"{mod.__name__} builds a Period outside parse_month at lines {[n.lineno for n in calls]}"


def _parse_month_lines() -> range:
    src, first = inspect.getsourcelines(windows_module.parse_month)
    return range(first, first + len(src))


def test_bad_months_in_the_manifest_are_named(tmp_path):
    folder = _manifest(tmp_path / "ex", "2017-12-01", "2024-09")
    with pytest.raises(ConfigError, match=r"manifest period.start: expected a month as 'YYYY-MM', got '2017-12-01'"):
        load_config(write_config(tmp_path, **{"data.source": "extracts", "data.path": str(folder),
                                              "period": {"start": "auto", "end": "auto"}}))
    folder = _manifest(tmp_path / "ex2", "2017-12", "2024-09", timer_end=202409)
    with pytest.raises(ConfigError, match=r"manifest coverage.timer\[1\]: expected a month as 'YYYY-MM', got 202409"):
        load_config(write_config(tmp_path, **{"data.source": "extracts", "data.path": str(folder),
                                              "period": {"start": "auto", "end": "auto"}}))


@pytest.mark.parametrize("key, value, message", [
    ("period.start", 2017, "period.start: expected a month as 'YYYY-MM', got 2017 (or 'auto'; a bare year is ambiguous"),
    ("period.end", "2024-13", "period.end: expected a month as 'YYYY-MM', got '2024-13' (or 'auto'"),
    ("indicator.covid_window", ["2020-03", "2022-2"], "indicator.covid_window[0][1]: expected a month as 'YYYY-MM', got '2022-2'"),
    ("profiling.periods", [["2018-09", 201903]], "profiling.periods[0][1]: expected a month as 'YYYY-MM', got 201903 (a bare year"),
])
def test_config_names_the_key_of_a_bad_month(tmp_path, key, value, message):
    with pytest.raises(ConfigError) as exc:
        load_config(write_config(tmp_path, **{key: value}))
    assert message in str(exc.value)
