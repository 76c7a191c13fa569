"""Bounded calibration weights (Deville & Särndal 1992, "logit" distance) for the generator.

The synthetic generator simulates whole person histories from a structural model; the model
alone does not reach every published marginal of seed 002 appendix A (see ``data/README.md``).
The last step of the generator therefore *tilts* the sample of persons: each simulated
candidate person ``i`` carries a vector ``z_i`` of its contributions to the calibration
equations (for a published mean ``t`` of ``y`` over the rows of group ``g``:
``sum over i's rows in g of (y - t) / t``; for a share: ``(x - t)``), and is kept with
probability ``w_i / U``, where

    w_i = F(z_i · λ),   F the logit calibration function with F(0) = 1 and L < F < U,

and ``λ`` solves the calibration equations ``sum_i F(z_i · λ) z_i = 0`` on a large pilot
sample. This is calibration weighting as official statistics use it, turned into selection:
the kept persons are complete, unmodified simulated lives; only their mix moves towards the
published margins. ``L`` and ``U`` bound how far the mix may move (and ``1 / U`` is about the
share of candidates kept).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

__all__ = ["logit_weight", "logit_weight_derivative", "solve_tilt", "TiltFit"]


def _a(lower: float, upper: float) -> float:
    return (upper - lower) / ((1.0 - lower) * (upper - 1.0))


def _check(lower: float, upper: float) -> None:
    if not (0.0 <= lower < 1.0 < upper):
        raise ValueError(f"bounds must satisfy 0 <= lower < 1 < upper, got ({lower}, {upper})")


def logit_weight(u: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """Deville–Särndal logit calibration function: F(0) = 1, F'(0) = 1, lower < F < upper.

    Written as ``F(u) = L + (U - L) σ(A u + c)`` with ``A = (U - L) / ((1 - L)(U - 1))`` and
    ``c = log((1 - L) / (U - 1))``.
    """
    _check(lower, upper)
    c = np.log((1.0 - lower) / (upper - 1.0))
    return lower + (upper - lower) * expit(_a(lower, upper) * np.asarray(u, float) + c)


def logit_weight_derivative(u: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """dF/du of :func:`logit_weight` (used for the Newton step)."""
    w = logit_weight(u, lower, upper)
    return (w - lower) * (upper - w) / ((1.0 - lower) * (upper - 1.0))


def _primitive(u: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """Φ(u) = ∫_0^u F: the dual objective whose gradient gives the calibration equations."""
    A = _a(lower, upper)
    c = np.log((1.0 - lower) / (upper - 1.0))
    return lower * u + (upper - lower) / A * (np.logaddexp(0.0, A * u + c) - np.logaddexp(0.0, c))


@dataclass(frozen=True)
class TiltFit:
    """Solution of the calibration equations."""

    lam: np.ndarray  # (K,) multipliers
    weights: np.ndarray  # (N,) F(Z λ)
    residual: np.ndarray  # (K,) mean_i w_i z_i - target after the fit (0 when feasible)
    iterations: int
    converged: bool  # every equation met to ``tol`` (relative to the column's scale)


def solve_tilt(Z: np.ndarray, lower: float, upper: float, *, target: np.ndarray | None = None,
               tol: float = 1e-7, max_iter: int = 100, ridge: float = 1e-8) -> TiltFit:
    """Solve ``mean_i F(z_i · λ) z_i = target`` (default 0) for λ.

    Newton's method with backtracking on the convex dual ``mean_i Φ(z_i · λ) − λ · target +
    ridge/2 · |s λ|²`` (``s`` the columns' root mean squares). The small ridge keeps λ finite
    when an equation cannot be met within the bounds: the fit then ends in a compromise with
    ``converged=False`` (see ``residual``) instead of diverging.
    """
    _check(lower, upper)
    Z = np.asarray(Z, float)
    n, k = Z.shape
    t = np.zeros(k) if target is None else np.asarray(target, float)
    s2 = (Z ** 2).mean(axis=0) + 1e-12
    scale = np.sqrt(s2)
    lam = np.zeros(k)

    def objective(lm: np.ndarray) -> tuple[float, np.ndarray]:
        u = Z @ lm
        return float(_primitive(u, lower, upper).mean() - lm @ t + 0.5 * ridge * np.sum(s2 * lm ** 2)), u

    f, u = objective(lam)
    it = 0
    for it in range(1, max_iter + 1):
        w = logit_weight(u, lower, upper)
        grad = Z.T @ w / n - t + ridge * s2 * lam
        if np.max(np.abs(grad) / scale) < tol * 1e-2:
            break
        d = logit_weight_derivative(u, lower, upper)
        H = (Z * d[:, None]).T @ Z / n + np.diag(ridge * s2)
        step = -np.linalg.solve(H, grad)
        step_len = 1.0
        while step_len > 1e-10:
            f_new, u_new = objective(lam + step_len * step)
            if f_new <= f + 1e-4 * step_len * float(grad @ step):
                break
            step_len *= 0.5
        lam, f, u = lam + step_len * step, f_new, u_new
    w = logit_weight(u, lower, upper)
    r = Z.T @ w / n - t
    return TiltFit(lam, w, r, it, bool(np.max(np.abs(r) / scale) < tol))
