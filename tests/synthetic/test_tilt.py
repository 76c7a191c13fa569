"""Bounded calibration weights (the generator's tilt): against scipy and against known truth."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import root

from arbeidsindikator.synthetic.tilt import logit_weight, logit_weight_derivative, solve_tilt


@given(st.floats(-50, 50), st.floats(0.0, 0.9), st.floats(1.1, 10.0))
@settings(max_examples=200, deadline=None)
def test_logit_weight_is_bounded_increasing_and_one_at_zero(u: float, lower: float, upper: float) -> None:
    w = float(logit_weight(np.array([u]), lower, upper)[0])
    assert lower - 1e-12 <= w <= upper + 1e-12
    assert float(logit_weight(np.array([0.0]), lower, upper)[0]) == pytest.approx(1.0, abs=1e-12)
    assert float(logit_weight(np.array([u + 0.1]), lower, upper)[0]) >= w - 1e-12
    h = 1e-6
    num = (logit_weight(np.array([u + h]), lower, upper) - logit_weight(np.array([u - h]), lower, upper)) / (2 * h)
    assert float(logit_weight_derivative(np.array([u]), lower, upper)[0]) == pytest.approx(float(num[0]), rel=1e-4, abs=1e-7)


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="bounds"):
        logit_weight(np.zeros(2), 1.2, 3.0)


def _two_way(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    b = (rng.random(n) < 0.35 + 0.2 * (a == 2)).astype(float)
    y = rng.normal(10 + 3 * b, 2.0)
    return a, b, y


def _equations(a: np.ndarray, b: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Shares of a (targets 0.4, 0.35), share of b (0.45), mean of y among b = 1 (13.5, relative)."""
    return np.column_stack([(a == 0) - 0.40, (a == 1) - 0.35, b - 0.45, b * (y - 13.5) / 13.5])


def test_solution_equals_scipy_root_and_meets_the_margins() -> None:
    a, b, y = _two_way(20_000, 1)
    Z = _equations(a, b, y)
    fit = solve_tilt(Z, 0.2, 4.0)
    assert fit.converged
    w = fit.weights
    assert np.average(a == 0, weights=w) == pytest.approx(0.40, abs=1e-7)
    assert np.average(a == 1, weights=w) == pytest.approx(0.35, abs=1e-7)
    assert np.average(b, weights=w) == pytest.approx(0.45, abs=1e-7)
    assert np.average(y[b == 1], weights=w[b == 1]) == pytest.approx(13.5, rel=1e-6)
    assert w.min() > 0.2 and w.max() < 4.0
    # an independent solver of the same equations (MINPACK's hybrid method) finds the same λ
    ref = root(lambda lm: Z.T @ logit_weight(Z @ lm, 0.2, 4.0) / len(Z), np.zeros(Z.shape[1]), method="hybr", tol=1e-12)
    assert ref.success
    np.testing.assert_allclose(fit.lam, ref.x, atol=1e-6)


def test_infeasible_margin_is_reported_not_diverging() -> None:
    a, b, y = _two_way(5_000, 2)
    Z = np.column_stack([b - 0.95])  # 95 % of b = 1 cannot be reached with weights in (0.5, 2)
    fit = solve_tilt(Z, 0.5, 2.0, max_iter=50)
    assert not fit.converged
    assert np.isfinite(fit.lam).all() and fit.weights.min() >= 0.5 and fit.weights.max() <= 2.0
    assert np.average(b, weights=fit.weights) > b.mean()  # moved as far as the bounds allow


def test_selection_with_probability_w_over_upper_reaches_the_margins_in_a_new_sample() -> None:
    """Known truth: λ fitted on one sample; a second sample, each unit kept with probability
    w / U, has the target margins up to sampling error (this is how the generator uses it)."""
    lower, upper = 0.25, 2.5
    a, b, y = _two_way(40_000, 3)
    fit = solve_tilt(_equations(a, b, y), lower, upper)
    a2, b2, y2 = _two_way(200_000, 4)
    w2 = logit_weight(_equations(a2, b2, y2) @ fit.lam, lower, upper)
    keep = np.random.default_rng(5).random(len(w2)) * upper < w2
    n = keep.sum()
    assert n / len(w2) == pytest.approx(fit.weights.mean() / upper, abs=0.01)
    for got, target in (((a2[keep] == 0).mean(), 0.40), ((a2[keep] == 1).mean(), 0.35), (b2[keep].mean(), 0.45)):
        assert abs(got - target) < 4 * np.sqrt(target * (1 - target) / n)
    assert y2[keep & (b2 == 1)].mean() == pytest.approx(13.5, abs=0.05)
    # and the untilted sample is clearly off: the test could fail
    assert abs((a2 == 0).mean() - 0.40) > 0.05
