"""Engines beyond one process: the main models and the indicator cube on Dask or as SQL (issue 11).

Layer between ``indicator`` and ``pipeline`` (tests/test_layers.py). The in-process path
(:func:`arbeidsindikator.pipeline.fit_main_models`, :func:`arbeidsindikator.indicator.cube.build`)
stays the default and the reference; these modules compute the *same* quantities over a
partitioned panel:

* :mod:`~arbeidsindikator.engines.design`: the global design (panel-wide inflow quantiles and
  level columns) from two small reductions over partitions;
* :mod:`~arbeidsindikator.engines.stats`: each model's row passes as per-partition sums and the
  fit from their totals (the estimation engine's algorithm, kernels and finishing);
* :mod:`~arbeidsindikator.engines.dask_backend`: models, predictions and cube on a
  ``dask.distributed`` cluster (a ``LocalCluster`` or a scheduler address);
* :mod:`~arbeidsindikator.engines.sql`: the OLS sufficient statistics and the cube as portable
  SQL, run by DuckDB here and by the warehouse where the tables live.

The run configuration's ``engine`` section (:class:`arbeidsindikator.config.EngineConfig`)
selects the backend.
"""
