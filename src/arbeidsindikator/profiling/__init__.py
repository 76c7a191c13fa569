"""Layer 5, the evaluation of NAV's profiling of new job seekers (seed 003; digest Parts 2–3).

:mod:`~arbeidsindikator.profiling.contract` (the four input tables),
:mod:`~arbeidsindikator.profiling.params` (every threshold, with the sources' defaults),
:mod:`~arbeidsindikator.profiling.wages` (wages in G, outcome sequences, history features),
:mod:`~arbeidsindikator.profiling.rules` (today's rule tree as coded, routing to NOE),
:mod:`~arbeidsindikator.profiling.model` (the proposed logistic model and its sortings),
:mod:`~arbeidsindikator.profiling.metrics` (table 5, accuracy, AUC, calibration, McNemar,
bootstrap, fairness) and :mod:`~arbeidsindikator.profiling.evaluation` (the population and
:func:`~arbeidsindikator.profiling.evaluation.evaluate`). Imports data and config/spec/io only.
"""
