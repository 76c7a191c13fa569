"""Layer 8, analyses that re-run the chain through the pipeline: alternatives and uncertainty.

:mod:`~arbeidsindikator.analyses.alternatives` (method choices the source leaves open) and
:mod:`~arbeidsindikator.analyses.uncertainty` (bootstrap and analytic intervals). They call
:mod:`arbeidsindikator.pipeline`, never a data source directly.
"""
