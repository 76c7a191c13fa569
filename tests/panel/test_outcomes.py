"""Outcome rules of seed 002 ch. 3 on hand-made and generated hour histories."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from arbeidsindikator.panel.outcomes import WEEKS_PER_MONTH, compute_outcomes

M0 = pd.Timestamp("2020-01-01")


def _months(n: int) -> list[pd.Timestamp]:
    return [M0 + pd.DateOffset(months=i) for i in range(n)]


def test_hand_made_history():
    # 40 weekly hours in Feb-Apr, nothing after; measured in January
    hours = pd.DataFrame({"person_id": 1, "month": _months(4)[1:], "hours": [40 * WEEKS_PER_MONTH] * 3})
    keys = pd.DataFrame({"person_id": [1], "month": [M0]})
    out = compute_outcomes(keys, hours, last_hours_month=M0 + pd.DateOffset(months=12))
    assert out.loc[0, "atid3"] == np.float64(3 * 40 * WEEKS_PER_MONTH / 13)
    assert out.loc[0, "atid12"] == 3 * 40 * WEEKS_PER_MONTH / 52
    assert out.loc[0, "jobb3"] == 1.0  # month t+3 = April: 40 h/week
    assert out.loc[0, "jobb12"] == 0.0  # month t+12: no record = 0 hours


def test_threshold_is_strictly_more_than_19_hours():
    keys = pd.DataFrame({"person_id": [1, 2], "month": [M0, M0]})
    t3 = M0 + pd.DateOffset(months=3)
    hours = pd.DataFrame({"person_id": [1, 2], "month": [t3, t3], "hours": [19 * WEEKS_PER_MONTH, 19.01 * WEEKS_PER_MONTH]})
    out = compute_outcomes(keys, hours, last_hours_month=t3)
    assert out["jobb3"].tolist() == [0.0, 1.0]


def test_unobservable_outcomes_are_empty_not_zero():
    keys = pd.DataFrame({"person_id": [1, 1], "month": [M0, M0 + pd.DateOffset(months=10)]})
    hours = pd.DataFrame({"person_id": [1], "month": [M0 + pd.DateOffset(months=1)], "hours": [100.0]})
    out = compute_outcomes(keys, hours, last_hours_month=M0 + pd.DateOffset(months=12))
    assert out.loc[0].notna().all()
    assert np.isnan(out.loc[1, "atid3"]) and np.isnan(out.loc[1, "atid12"]) and np.isnan(out.loc[1, "jobb12"])


def test_duplicate_hours_rejected():
    hours = pd.DataFrame({"person_id": [1, 1], "month": [M0, M0], "hours": [1.0, 2.0]})
    keys = pd.DataFrame({"person_id": [1], "month": [M0]})
    try:
        compute_outcomes(keys, hours, M0)
    except ValueError as exc:
        assert "duplicate" in str(exc)
    else:
        raise AssertionError("duplicates accepted")


@settings(max_examples=60, deadline=None)
@given(
    h=st.lists(st.floats(0, 300, allow_nan=False), min_size=24, max_size=24),
    t=st.integers(0, 11),
    last=st.integers(0, 23),
    chunk=st.integers(1, 5),
)
def test_property_matches_definition(h, t, last, chunk):
    """For any history: atid = window sum / weeks, jobb from month t+h, NaN past the last month."""
    months = _months(24)
    hours = pd.DataFrame({"person_id": 7, "month": months, "hours": h})
    keys = pd.DataFrame({"person_id": [7] * 12, "month": months[:12]})
    out = compute_outcomes(keys, hours, last_hours_month=months[last], chunk_rows=chunk)
    r = out.iloc[t]
    if t + 3 <= last:
        assert np.isclose(r["atid3"], sum(h[t + 1 : t + 4]) / 13)
        assert r["jobb3"] == float(h[t + 3] / WEEKS_PER_MONTH > 19)
    else:
        assert np.isnan(r["atid3"]) and np.isnan(r["jobb3"])
    if t + 12 <= last:
        assert np.isclose(r["atid12"], sum(h[t + 1 : t + 13]) / 52)
    else:
        assert np.isnan(r["atid12"])
