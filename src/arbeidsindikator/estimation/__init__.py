"""The estimation engine: OLS, probit and LPM on integer-coded dummy designs (sufficient statistics).

Layer 3 (after data and panel; below indicator). Import the public API from here
(``from arbeidsindikator.estimation import build_design, fit``); the modules behind it are split
by concern: :mod:`~arbeidsindikator.estimation.design` (the coded design),
:mod:`~arbeidsindikator.estimation._kernels` (numba kernels, the fast path),
:mod:`~arbeidsindikator.estimation.fitting` (fit, solvers, separation handling) and
:mod:`~arbeidsindikator.estimation.results` (:class:`FitResult`: inference and prediction).
"""

from arbeidsindikator.estimation.design import Design, DesignError, build_design
from arbeidsindikator.estimation.fitting import SeparationWarning, fit, fit_from_totals
from arbeidsindikator.estimation.results import FitResult

__all__ = ["Design", "DesignError", "FitResult", "SeparationWarning", "build_design", "fit", "fit_from_totals"]
