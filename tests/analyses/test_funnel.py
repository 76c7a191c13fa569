"""Funnel limits and overdispersion against Spiegelhalter's (2005) formulas computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from arbeidsindikator.analyses import funnel as fn


def test_limits_and_overdispersion_by_hand():
    y = np.array([0.5, -0.2, 1.4, 0.1, -0.9, 0.3])
    s = np.array([0.3, 0.2, 0.5, 0.1, 0.4, 0.25])
    units = pd.DataFrame({"unit": list("abcdef"), "persons": [100, 220, 40, 900, 60, 150], "n": [1] * 6,
                          "indicator": y, "se": s})
    res = fn.funnel(units, target=0.0, winsor=0.0)
    z = y / s
    phi = np.sum(z**2) / 6
    w = 1 / s**2
    tau2 = max(0.0, (6 * phi - 5) / (w.sum() - (w**2).sum() / w.sum()))
    assert np.isclose(res.phi, phi) and np.isclose(res.tau2, tau2)
    assert np.isclose(res.p_overdispersion, stats.chi2.sf(6 * phi, 5))
    u = res.units
    np.testing.assert_allclose(u["upper_95"], 1.959963984540054 * s)
    np.testing.assert_allclose(u["lower_99.8"], -3.090232306167813 * s)
    np.testing.assert_allclose(u["upper_99.8_mult"], 3.090232306167813 * np.sqrt(phi) * s)
    np.testing.assert_allclose(u["upper_95_add"], 1.959963984540054 * np.sqrt(s**2 + tau2))
    np.testing.assert_allclose(u["shrunken"], tau2 / (tau2 + s**2) * y)
    assert u.set_index("unit").loc["d", "flag_unadjusted"] == "within"
    assert u.set_index("unit").loc["c", "flag_unadjusted"] == "above 95 %"
    # the curve: σ₁ = √median(s²n)
    c = fn.funnel_curve(res, np.array([100.0]))
    assert np.isclose(c["half_95"].iloc[0], 1.959963984540054 * np.sqrt(np.median(s**2 * units["persons"])) / 10)


def test_winsorising_clips_at_percentiles():
    z = np.arange(11.0)
    np.testing.assert_allclose(fn.winsorise(z, 0.1), np.clip(z, 1.0, 9.0))


def _units(tau: float, k: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    persons = rng.integers(30, 3000, k)
    s = 5.0 / np.sqrt(persons)
    y = rng.normal(0, tau, k) + rng.normal(0, s)
    return pd.DataFrame({"unit": np.arange(k), "persons": persons, "n": persons, "indicator": y, "se": s})


def test_overdispersion_near_one_without_between_unit_variation():
    phis = [fn.funnel(_units(0.0, seed=i), target=0.0, winsor=0.0).phi for i in range(20)]
    assert 0.9 < np.mean(phis) < 1.1
    assert fn.funnel(_units(0.0), target=0.0).tau2 < 0.005
    # winsorised at 10 % (SHMI's default) φ̂ is biased low under the null: E[min(z², 1.28²)]-like
    assert np.mean([fn.funnel(_units(0.0, seed=i), target=0.0).phi for i in range(20)]) < 0.8


def test_overdispersion_above_one_with_between_unit_variation():
    res = fn.funnel(_units(0.3), target=0.0)
    assert res.phi > 1.5 and res.p_overdispersion < 1e-6
    assert 0.05 < res.tau2 < 0.15  # τ² = 0.09 planted
    # shrinkage pulls small units most
    u = res.units
    small, large = u.nsmallest(20, "persons"), u.nlargest(20, "persons")
    assert small["shrinkage_weight"].mean() < large["shrinkage_weight"].mean()
