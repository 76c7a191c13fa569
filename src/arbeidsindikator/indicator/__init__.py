"""Layer 4, the indicator: observed minus expected outcomes by any grouping (seed 002 ch. 5–6).

:mod:`~arbeidsindikator.indicator.indicator` (aggregation, small-cell suppression),
:mod:`~arbeidsindikator.indicator.seasonal` (the one seasonal adjustment) and
:mod:`~arbeidsindikator.indicator.export` (the published tables). Imports estimation and below.
"""
