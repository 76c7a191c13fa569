"""arbeidsindikator: NAV's work indicator (arbeidsindikatoren) re-implemented as a library.

The modules follow the steps of the method in seed 002 (population, outcomes, covariates,
models, indicator, seasonal adjustment, uncertainty, alternatives) and seed 003 (profiling).
"""

__version__ = "0.1.0"
