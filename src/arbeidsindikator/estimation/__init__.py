"""The estimation engine: OLS, probit and LPM on integer-coded dummy designs (sufficient statistics).

Import the public API from here (``from arbeidsindikator.estimation import build_design, fit``);
the modules behind it may be split further.
"""

from arbeidsindikator.estimation.models import Design, DesignError, FitResult, SeparationWarning, build_design, fit

__all__ = ["Design", "DesignError", "FitResult", "SeparationWarning", "build_design", "fit"]
