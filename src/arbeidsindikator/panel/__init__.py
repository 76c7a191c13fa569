"""Layer 2, the analysis panel: one row per person-month of the population (seed 002 ch. 2–4).

:mod:`~arbeidsindikator.panel.build` (extracts → panel, in bounded person chunks),
:mod:`~arbeidsindikator.panel.population` (the §14a population rule),
:mod:`~arbeidsindikator.panel.outcomes` (atid3/atid12/jobb3/jobb12 from hours) and
:mod:`~arbeidsindikator.panel.covariates` (regressors as categoricals, reference level first).
Imports only data and config/spec/io.
"""
