"""Indicator, seasonal adjustment, suppression and tertials against direct computation and truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from arbeidsindikator.indicator import indicator
from arbeidsindikator.indicator import seasonal
from arbeidsindikator.config import Window


def _frame(seed=0, n=4000):
    rng = np.random.default_rng(seed)
    months = pd.date_range("2018-01-01", periods=36, freq="MS")
    df = pd.DataFrame({"month": rng.choice(months, n), "fylke": rng.choice(["A", "B", "C"], n)})
    df["exp_atid3"] = rng.uniform(0, 20, n)
    df["atid3"] = df["exp_atid3"] + rng.normal(0, 3, n)
    df.loc[df.index[:50], "atid3"] = np.nan
    return df


def test_indicator_equals_groupby():
    df = _frame()
    t = indicator.indicator_table(df, "atid3", ["fylke"])
    obs = df.dropna(subset=["atid3"])
    direct = obs.groupby("fylke")["atid3"].mean() - obs.groupby("fylke")["exp_atid3"].mean()
    np.testing.assert_allclose(t["indicator"].to_numpy(), direct.to_numpy(), rtol=1e-12)
    assert t["n"].sum() == len(obs)
    assert t["n_not_observable"].sum() == 50


def test_residual_interval_narrower_when_expected_tracks_actual():
    df = _frame()
    t = indicator.indicator_table(df, "atid3", ["fylke"])
    assert ((t["upper_resid"] - t["lower_resid"]) < (t["upper_printed"] - t["lower_printed"])).all()


def test_seasonal_adjustment_removes_known_pattern():
    months = pd.date_range("2017-12-01", periods=48, freq="MS")
    rng = np.random.default_rng(1)
    pattern = np.array([0.3, -0.2, 0.1, 0.0, 0.2, -0.1, 0.4, -0.3, 0.0, 0.1, -0.2, -0.3])
    pattern -= pattern.mean()
    s = pd.Series(0.2 + pattern[months.month - 1] + rng.normal(0, 1e-3, 48), index=months)
    w = (Window(pd.Period("2017-12", "M"), pd.Period("2021-11", "M")),)
    np.testing.assert_allclose(seasonal.seasonal_effects(s, w).to_numpy(), pattern, atol=3e-3)
    adj = seasonal.adjust(s, w)
    assert adj.std() < 3e-3 and abs(adj.mean() - 0.2) < 3e-3


def test_seasonal_adjustment_uses_only_reference_months():
    """A shock outside the reference windows must not leak into the seasonal effects."""
    months = pd.date_range("2017-12-01", periods=48, freq="MS")
    s = pd.Series(np.zeros(48), index=months)
    s.iloc[30:34] = 5.0  # a 'COVID' shock
    w = (Window(pd.Period("2017-12", "M"), pd.Period("2019-11", "M")),)
    np.testing.assert_allclose(seasonal.seasonal_effects(s, w).to_numpy(), 0.0)
    pd.testing.assert_series_equal(seasonal.adjust(s, w), s)


def test_seasonal_needs_all_calendar_months():
    s = pd.Series(np.ones(30), index=pd.date_range("2018-01-01", periods=30, freq="MS"))
    with pytest.raises(seasonal.SeasonalError, match="calendar month"):
        seasonal.adjust(s, (Window(pd.Period("2018-01", "M"), pd.Period("2018-06", "M")),))


def test_suppression_marks_and_blanks_small_cells():
    t = pd.DataFrame({"n": [5, 50], "indicator": [1.0, 2.0]})
    out = indicator.suppress_small_cells(t, "n", 10)
    assert out["suppressed"].tolist() == [True, False]
    assert np.isnan(out.loc[0, "indicator"]) and out.loc[1, "indicator"] == 2.0
    assert out["n"].tolist() == [5, 50]  # counts stay, rows stay


def test_tertials():
    s = pd.Series(np.arange(12.0), index=pd.date_range("2020-01-01", periods=12, freq="MS"))
    t = indicator.tertial_means(s)
    assert t.tolist() == [1.5, 5.5, 9.5]


def test_vectorised_adjustment_equals_per_series():
    rng = np.random.default_rng(3)
    months = pd.date_range("2017-12-01", periods=40, freq="MS")
    idx = pd.MultiIndex.from_product([months, ["A", "B"]], names=["month", "fylke"])
    t = pd.DataFrame({"actual": rng.normal(size=80), "expected": rng.normal(size=80)}, index=idx)
    t["indicator"] = t["actual"] - t["expected"]
    t["lower"] = t["indicator"] - 1
    w = (Window(pd.Period("2017-12", "M"), pd.Period("2019-11", "M")),)
    res = seasonal.adjust_table(t, w, group_levels=["fylke"])
    for f in ["A", "B"]:
        one = seasonal.adjust(t.xs(f, level="fylke")["indicator"], w)
        np.testing.assert_allclose(res.xs(f, level="fylke")["indicator"].to_numpy(), one.to_numpy(), atol=1e-12)
    np.testing.assert_allclose((res["indicator"] - res["lower"]).to_numpy(), 1.0)
    assert res["adjusted"].all()


def test_adjusted_interval_is_the_variance_of_the_linear_combination():
    """The adjusted series is C·I; with independent months Var(A) = diag(C Σ C'). Checked against
    the explicit matrix and, as known truth, against simulated independent monthly indicators."""
    rng = np.random.default_rng(11)
    months = pd.date_range("2017-12-01", periods=48, freq="MS")
    sigma = rng.uniform(0.2, 1.0, len(months))
    w = (Window(pd.Period("2017-12", "M"), pd.Period("2019-11", "M")), Window(pd.Period("2021-01", "M"), pd.Period("2021-12", "M")))
    t = pd.DataFrame({"actual": rng.normal(size=48), "expected": 0.0, "se_resid": sigma}, index=pd.Index(months, name="month"))
    t["indicator"] = t["actual"]
    t["lower_resid"] = t["indicator"] - 1.96 * sigma
    t["upper_resid"] = t["indicator"] + 1.96 * sigma
    t["lower"] = t["indicator"] - 1.0  # a bound without its standard error is only shifted
    t["upper"] = t["indicator"] + 1.0
    res = seasonal.adjust_table(t, w)
    # explicit C
    ref = seasonal.reference_mask(months, w)
    cal = months.month.to_numpy()
    C = np.eye(48)
    K = ref.sum()
    for i in range(48):
        same = ref & (cal == cal[i])
        C[i, same] -= 1.0 / same.sum()
        C[i, ref] += 1.0 / K
    var = np.einsum("ij,j,ij->i", C, sigma ** 2, C)
    np.testing.assert_allclose(res["se_resid"].to_numpy(), np.sqrt(var), rtol=1e-12)
    np.testing.assert_allclose(((res["upper_resid"] - res["lower_resid"]) / 2).to_numpy(), 1.96 * np.sqrt(var), rtol=1e-12)
    np.testing.assert_allclose((res["upper"] - res["indicator"]).to_numpy(), 1.0)
    assert (res["se_resid"].to_numpy()[ref] < sigma[ref]).any() and (res["se_resid"].to_numpy()[~ref] > sigma[~ref]).all()
    # known truth: simulate independent monthly indicators and adjust each draw
    draws = rng.normal(size=(4000, 48)) * sigma
    adj = np.stack([seasonal.adjust(pd.Series(d, index=months), w).to_numpy() for d in draws[:400]])
    emp = adj.std(axis=0, ddof=1)
    assert np.max(np.abs(emp / np.sqrt(var) - 1)) < 0.25  # 400 draws: sd of a ratio ~3.5 %
    np.testing.assert_allclose((draws @ C.T).std(axis=0, ddof=1) / np.sqrt(var), 1.0, atol=0.08)


def test_adjusted_interval_edge_cases():
    """A zero standard error still gets the seasonal effect's uncertainty; a reference month
    without a standard error makes the adjusted one uncomputable (NaN), not silently narrower."""
    months = pd.date_range("2017-12-01", periods=36, freq="MS")
    w = (Window(pd.Period("2017-12", "M"), pd.Period("2019-11", "M")),)
    rng = np.random.default_rng(5)
    t = pd.DataFrame({"actual": rng.normal(size=36), "expected": 0.0, "se_resid": 0.5}, index=pd.Index(months, name="month"))
    t["indicator"] = t["actual"]
    t.loc[months[30], "se_resid"] = 0.0  # outside the reference months
    t["lower_resid"] = t["indicator"] - 1.96 * t["se_resid"]
    t["upper_resid"] = t["indicator"] + 1.96 * t["se_resid"]
    res = seasonal.adjust_table(t, w)
    assert res.loc[months[30], "se_resid"] > 0
    assert res.loc[months[30], "upper_resid"] - res.loc[months[30], "indicator"] == pytest.approx(1.96 * res.loc[months[30], "se_resid"])
    t2 = t.copy()
    t2.loc[months[3], "se_resid"] = np.nan
    res2 = seasonal.adjust_table(t2, w)
    assert res2["se_resid"].isna().all()
