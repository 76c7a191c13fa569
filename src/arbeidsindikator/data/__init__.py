"""Layer 1, the raw data: what a folder of register extracts must look like and how it is read.

:mod:`~arbeidsindikator.data.contract` (column specs, code lists, the panel contract),
:mod:`~arbeidsindikator.data.extracts` (table specs, DuckDB readers, validation with one error
listing every violation), :mod:`~arbeidsindikator.data.reference` (the published reference
tables, e.g. table 4 of seed 002) and :mod:`~arbeidsindikator.data.grunnbelop` (the one G table
and the one month index). Imports only config/spec/io.
"""
