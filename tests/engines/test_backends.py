"""The Dask and DuckDB-SQL backends give the in-process path's models, predictions and cube.

The reference is the default (in-process) build of the tiny configuration. The Dask run uses a
``LocalCluster`` of 2 worker processes with 1 GB each and partitions of ~3 000 person-months
(so the tiny panel is spread over ~14 partitions); the same code runs on a multi-node cluster
given ``engine.scheduler``. Equality to 1e-10 (only the order of float64 additions differs).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from arbeidsindikator import pipeline
from arbeidsindikator.config import EngineConfig
from arbeidsindikator.estimation import SeparationWarning
from arbeidsindikator.indicator import cube as cb

TOL = dict(rtol=1e-10, atol=1e-10)
OUTCOMES = ("atid3", "atid12", "jobb3", "jobb12")


@pytest.fixture(scope="module")
def unpooled_cfg(tiny_cfg):
    """The tiny configuration without the pooling of rare levels (pooling is tested on its own below)."""
    return dataclasses.replace(tiny_cfg, pool_min_persons=0, pool_no_variation=False)


@pytest.fixture(scope="module")
def reference(unpooled_cfg):
    pipeline.prepare(unpooled_cfg)
    return pipeline.main_models(unpooled_cfg), pipeline.cube(unpooled_cfg)


def _assert_cube_equal(cells: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert len(cells) == len(ref)
    for k in cb.KEYS:
        a, b = cells[k], ref[k]
        if k == "month":
            np.testing.assert_array_equal(pd.DatetimeIndex(a).to_numpy(), pd.DatetimeIndex(b).to_numpy())
        else:
            np.testing.assert_array_equal(a.astype(str).to_numpy() if a.dtype != np.int64 else a.to_numpy(),
                                          b.astype(str).to_numpy() if b.dtype != np.int64 else b.to_numpy())
    for k in cb.STATS:
        np.testing.assert_allclose(cells[k].to_numpy(float), ref[k].to_numpy(float), **TOL, err_msg=k)


def _assert_fits_equal(fits: dict, ref: dict) -> None:
    for o in OUTCOMES:
        a, b = fits[o], ref[o]
        pd.testing.assert_index_equal(a.params.index, b.params.index)
        np.testing.assert_allclose(a.params, b.params, **TOL, err_msg=o)
        np.testing.assert_allclose(a.bse, b.bse, **TOL, err_msg=o)
        assert (a.nobs, a.n_excluded, a.n_iter, a.converged) == (b.nobs, b.n_excluded, b.n_iter, b.converged)


@pytest.mark.slow
def test_dask_local_cluster_equals_in_process(unpooled_cfg, reference):
    from arbeidsindikator.engines import run as engines_run

    mm_ref, cube_ref = reference
    ec = EngineConfig(backend="dask", workers=2, threads_per_worker=1, memory_limit="1GB", partition_rows=3000)
    cfg = dataclasses.replace(unpooled_cfg, engine=ec)
    assert pipeline.store_dir(cfg) != pipeline.store_dir(unpooled_cfg)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SeparationWarning)
            mm = pipeline.main_models(cfg)
            c = pipeline.cube(cfg)
        _assert_fits_equal(mm.fits, mm_ref.fits)
        pd.testing.assert_frame_equal(mm.regressors, mm_ref.regressors)
        # predictions: the store's expected values, row for row
        cols = ["person_id", "month", *[f"exp_{o}" for o in OUTCOMES], "ungdomsgaranti", "landgruppe3"]
        got = pd.read_parquet(pipeline.store_panel_path(cfg), columns=cols)
        want = pd.read_parquet(pipeline.store_panel_path(unpooled_cfg), columns=cols)
        np.testing.assert_array_equal(got["person_id"], want["person_id"])
        np.testing.assert_array_equal(got[["ungdomsgaranti", "landgruppe3"]], want[["ungdomsgaranti", "landgruppe3"]])
        for o in OUTCOMES:
            np.testing.assert_allclose(got[f"exp_{o}"], want[f"exp_{o}"], **TOL, equal_nan=True)
        import pyarrow.parquet as pq

        assert pq.ParquetFile(pipeline.store_panel_path(cfg)).num_row_groups > 5  # spread over partitions
        _assert_cube_equal(c.cells, cube_ref.cells)
        for k, v in cube_ref.summaries.items():
            pd.testing.assert_frame_equal(c.summaries[k], v, check_exact=False, rtol=1e-10)

        # person-clustered SEs on the cluster: the per-partition meats add (partitions hold whole persons)
        from arbeidsindikator.engines.partitions import plan_partitions
        from arbeidsindikator.estimation import build_design, fit
        from arbeidsindikator.panel.covariates import build_covariates

        eng = engines_run.dask_engine(ec)
        panel_path = unpooled_cfg.cache_dir / f"panel-{pipeline._cache_key(unpooled_cfg)}.parquet"
        parts = plan_partitions(panel_path, 3000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SeparationWarning)
            fits, _, _ = eng.fit_models(parts, pipeline.covariate_options(unpooled_cfg), ("atid3", "jobb3"), cov_type="cluster")
            panel = pipeline.load_panel(unpooled_cfg).panel
            d = build_design(build_covariates(panel, 3, pipeline.covariate_options(unpooled_cfg)))
            for o, fam in (("atid3", "ols"), ("jobb3", "probit")):
                ref = fit(d, panel[o].to_numpy(float), family=fam, outcome=o, cov_type="cluster",
                          groups=panel["person_id"].to_numpy())
                np.testing.assert_allclose(fits[o].params, ref.params, **TOL)
                np.testing.assert_allclose(fits[o].bse, ref.bse, **TOL)
                assert fits[o].n_groups == ref.n_groups
        peaks = eng.worker_peak_mb()
        assert len(peaks) == 2 and all(v > 0 for v in peaks.values())
    finally:
        engines_run._close_all()


@pytest.mark.slow
def test_dask_with_pooling_equals_in_process_with_pooling(tiny_cfg):
    """The default specification (pooling on) on a LocalCluster: same merges, fits and predictions."""
    from arbeidsindikator.engines import run as engines_run

    assert pipeline.covariate_options(tiny_cfg).pooling.active
    pipeline.prepare(tiny_cfg)
    mm_ref = pipeline.main_models(tiny_cfg)
    assert sum(len(v) for v in mm_ref.pooled.values()) > 0  # the tiny panel has rare levels: something is pooled
    ec = EngineConfig(backend="dask", workers=2, threads_per_worker=1, memory_limit="1GB", partition_rows=3000)
    cfg = dataclasses.replace(tiny_cfg, engine=ec)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SeparationWarning)
            mm = pipeline.main_models(cfg)
        assert mm.pooled == mm_ref.pooled
        _assert_fits_equal(mm.fits, mm_ref.fits)
        pd.testing.assert_frame_equal(mm.regressors, mm_ref.regressors)
        cols = ["person_id", *[f"exp_{o}" for o in OUTCOMES]]
        got = pd.read_parquet(pipeline.store_panel_path(cfg), columns=cols)
        want = pd.read_parquet(pipeline.store_panel_path(tiny_cfg), columns=cols)
        np.testing.assert_array_equal(got["person_id"], want["person_id"])
        for o in OUTCOMES:
            np.testing.assert_allclose(got[f"exp_{o}"], want[f"exp_{o}"], **TOL, equal_nan=True)
    finally:
        engines_run._close_all()


def test_sql_cube_equals_in_process_cube_on_a_chunk(unpooled_cfg, reference, tmp_path):
    """The portable SQL (run by DuckDB) gives the in-process cube of the same rows."""
    from arbeidsindikator.engines.sql import sql_cube

    _, cube_ref = reference
    chunk = next(pipeline.iter_chunks(unpooled_cfg, pipeline.store._CUBE_COLUMNS)).iloc[:6000]
    chunk.to_parquet(tmp_path / "chunk.parquet", index=False)
    want, _ = cb.build(iter([chunk]), cube_ref.levels)
    got = sql_cube(tmp_path / "chunk.parquet", cube_ref.levels)
    _assert_cube_equal(got, want)


@pytest.mark.slow
def test_duckdb_backend_cube_equals_in_process(unpooled_cfg, reference):
    mm_ref, cube_ref = reference
    cfg = dataclasses.replace(unpooled_cfg, engine=EngineConfig(backend="duckdb"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeparationWarning)
        c = pipeline.cube(cfg)
    _assert_cube_equal(c.cells, cube_ref.cells)
    for k, v in cube_ref.summaries.items():
        pd.testing.assert_frame_equal(c.summaries[k], v)
