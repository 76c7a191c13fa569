"""Bootstrap of the national curve: against analytic truth and against the refit bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from arbeidsindikator.indicator import seasonal
from arbeidsindikator.analyses import uncertainty
from arbeidsindikator.panel.covariates import build_covariates
from arbeidsindikator.estimation import build_design, fit
from arbeidsindikator.pipeline import covariate_options, indicator_series, panel_with_expected


@pytest.fixture(scope="module")
def simulated(tiny_cfg):
    """The tiny panel with atid3 replaced by expected value + iid N(0, σ²) noise: known truth."""
    df = panel_with_expected(tiny_cfg).copy()
    rng = np.random.default_rng(5)
    obs = df["atid3"].notna()
    df.loc[obs, "atid3"] = df.loc[obs, "exp_atid3"] + rng.normal(0, 4.0, int(obs.sum()))
    return df


def test_multiplier_se_matches_analytic_truth(tiny_cfg, simulated):
    """OLS with iid errors: Var(I_m) = σ²(1/n_m − x̄_m'(X'X)⁻¹x̄_m) exactly."""
    df = simulated
    opts = covariate_options(tiny_cfg)
    b = uncertainty.multiplier_bootstrap(df, "atid3", opts, seasonal.windows_for(tiny_cfg, "atid3"), replicates=2000, seed=3, adjust=False)
    obs = df["atid3"].notna().to_numpy()
    design = build_design(build_covariates(df, 3, opts), mask=obs)
    res = fit(design, df["atid3"].to_numpy(float), family="ols")
    _, months, month_idx, _ = uncertainty._setup(df, "atid3")
    p = len(design.names)
    pos = np.array([design.names.index(n) for n in res.params.index])
    D = uncertainty._month_means_of_x(np.ascontiguousarray(design.codes[obs]), month_idx[obs], np.ones(obs.sum()), len(months), p)[:, pos]
    xtx_inv = res.cov.to_numpy() / res.scale
    n_m = np.bincount(month_idx[obs], minlength=len(months))
    true_sd = 4.0 * np.sqrt(1 / n_m - np.einsum("mi,ij,mj->m", D, xtx_inv, D))
    ratio = b.replicates.std(axis=0, ddof=1).to_numpy() / true_sd
    assert abs(np.median(ratio) - 1) < 0.05, np.median(ratio)
    assert (np.abs(ratio - 1) < 0.2).all()


@pytest.mark.parametrize("outcome", ["atid3", "jobb3"])
def test_multiplier_agrees_with_refit_bootstrap(tiny_cfg, outcome):
    df = panel_with_expected(tiny_cfg)
    opts = covariate_options(tiny_cfg)
    w = seasonal.windows_for(tiny_cfg, outcome)
    refit = uncertainty.refit_bootstrap(df, outcome, opts, w, replicates=60, seed=1)
    mult = uncertainty.multiplier_bootstrap(df, outcome, opts, w, replicates=600, seed=2)
    r = refit.replicates.std(axis=0).mean() / mult.replicates.std(axis=0).mean()
    assert 0.8 < r < 1.25, r
    # both are centred on the book's seasonally adjusted national curve
    nat = indicator_series(tiny_cfg, outcome)["indicator"].to_numpy()
    np.testing.assert_allclose(refit.point.to_numpy(), nat, atol=1e-10)
    np.testing.assert_allclose(mult.point.to_numpy(), nat, atol=1e-10)


def test_intervals_are_nested(tiny_cfg):
    df = panel_with_expected(tiny_cfg)
    b = uncertainty.multiplier_bootstrap(df, "atid3", covariate_options(tiny_cfg), seasonal.windows_for(tiny_cfg, "atid3"), replicates=200, seed=1)
    iv = uncertainty.intervals(b)
    assert (iv["lower_95"] < iv["lower_80"]).all() and (iv["lower_80"] < iv["lower_50"]).all()
    assert (iv["upper_50"] < iv["upper_80"]).all() and (iv["upper_80"] < iv["upper_95"]).all()


def test_bootstrap_is_deterministic_given_seed(tiny_cfg):
    df = panel_with_expected(tiny_cfg)
    opts, w = covariate_options(tiny_cfg), seasonal.windows_for(tiny_cfg, "atid3")
    a = uncertainty.multiplier_bootstrap(df, "atid3", opts, w, replicates=20, seed=9, level="person")
    b = uncertainty.multiplier_bootstrap(df, "atid3", opts, w, replicates=20, seed=9, level="person")
    assert a.replicates.equals(b.replicates)
