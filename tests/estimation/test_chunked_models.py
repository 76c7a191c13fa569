"""The models stage's chunked path equals the in-memory one (covariates, fits, predictions, store).

The models stage (:func:`arbeidsindikator.pipeline.fit_main_models_from_file`) never holds the
panel: it builds the covariates from the panel file in chunks of rows, one outcome column at a
time, and spills the expected values to disk. Here it runs with chunks of a few hundred rows
(so the tiny panel is split into many) and is compared with :func:`fit_main_models` on the whole
panel in memory: coefficients, standard errors and predictions to 1e-10.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from arbeidsindikator import pipeline
from arbeidsindikator.panel.covariates import build_covariates

CHUNK = 333  # rows per chunk: the tiny panel (~50 000 rows) in ~150 chunks


@pytest.fixture(scope="module")
def panel_file(tiny_cfg, tiny_panel):
    path = pipeline.panel_path(tiny_cfg)
    assert path.exists()
    return path


@pytest.mark.parametrize("horizon", [3, 12])
def test_covariates_from_file_equal_build_covariates(tiny_cfg, tiny_panel, panel_file, horizon):
    opts = pipeline.covariate_options(tiny_cfg)
    ref = build_covariates(tiny_panel, horizon, opts)
    got = pipeline.covariates_from_file(panel_file, horizon, opts, chunk_rows=CHUNK)
    pd.testing.assert_frame_equal(ref.reset_index(drop=True), got, check_exact=True)


def test_covariates_reuse_the_other_horizons_blocks(tiny_cfg, tiny_panel, panel_file, tmp_path):
    opts = pipeline.covariate_options(tiny_cfg)
    x3 = pipeline.covariates_from_file(panel_file, 3, opts, chunk_rows=CHUNK)
    x3.to_parquet(tmp_path / "x3.parquet")  # as the models stage keeps it between the horizons
    base = pd.read_parquet(tmp_path / "x3.parquet")
    got = pipeline.covariates_from_file(panel_file, 12, opts, chunk_rows=CHUNK, base=base)
    ref = build_covariates(tiny_panel, 12, opts)
    pd.testing.assert_frame_equal(ref.reset_index(drop=True), got, check_exact=True)
    # the horizon's own block differs from the base's (it is rebuilt, not reused)
    assert not got["innstromming"].equals(x3["innstromming"])


def test_reused_blocks_are_not_copied(tiny_cfg, panel_file):
    """The 12-month covariates hold the 3-month arrays of the blocks they reuse (no second copy).

    At 24.8 M rows a copy is 0.35 GB of the models stage's peak (pandas copies a dict's arrays
    when it builds a frame unless told not to).
    """
    opts = pipeline.covariate_options(tiny_cfg)
    x3 = pipeline.covariates_from_file(panel_file, 3, opts, chunk_rows=CHUNK, pool=False)
    x12 = pipeline.covariates_from_file(panel_file, 12, opts, chunk_rows=CHUNK, base=x3, pool=False)
    shared = [b for b in x12.columns if b in x3.columns and np.shares_memory(x12[b].array.codes, x3[b].array.codes)]
    assert set(shared) == set(x12.columns) - {"innstromming"}, shared


def test_design_takes_codes_without_copying():
    """``build_design`` reads each block's codes in place (``.cat.codes`` would copy every block)."""
    from arbeidsindikator.estimation.design import _raw_codes

    s = pd.Series(pd.Categorical.from_codes(np.array([0, 1, 1, 0], dtype=np.int8), categories=["a", "b"]))
    assert np.shares_memory(_raw_codes(s, "x"), s.array.codes)


def test_read_column_over_row_groups(tmp_path):
    """One column of a file of many row groups: float64, NaN where missing, row order kept."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from arbeidsindikator.pipeline.models import read_column

    rng = np.random.default_rng(3)
    x = rng.normal(size=1000)
    x[rng.random(1000) < 0.2] = np.nan
    k = rng.integers(0, 5, 1000)
    t = pa.table({"x": pa.array(x, from_pandas=True), "k": k})
    pq.write_table(t, tmp_path / "f.parquet", row_group_size=77)
    assert pq.ParquetFile(tmp_path / "f.parquet").num_row_groups == 13
    got = read_column(tmp_path / "f.parquet", "x")
    assert got.dtype == np.float64 and np.array_equal(got, x, equal_nan=True)
    assert np.array_equal(read_column(tmp_path / "f.parquet", "k"), k.astype(float))


@pytest.fixture(scope="module")
def both_paths(tiny_cfg, tiny_panel, panel_file, tmp_path_factory):
    opts = pipeline.covariate_options(tiny_cfg)
    ref = pipeline.fit_main_models(tiny_panel, opts)
    spill = tmp_path_factory.mktemp("spill")
    got, spills = pipeline.fit_main_models_from_file(panel_file, opts, spill, chunk_rows=CHUNK)
    return ref, got, spills


def test_chunked_fits_equal_in_memory(both_paths):
    ref, got, _ = both_paths
    assert list(got.fits) == list(ref.fits)
    for o, r in ref.fits.items():
        g = got.fits[o]
        pd.testing.assert_index_equal(r.params.index, g.params.index)
        np.testing.assert_allclose(g.params.to_numpy(), r.params.to_numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(g.bse.to_numpy(), r.bse.to_numpy(), rtol=1e-10, atol=1e-12)
        assert g.nobs == r.nobs and g.n_excluded == r.n_excluded
    pd.testing.assert_frame_equal(ref.regressors, got.regressors)


def test_chunked_predictions_equal_in_memory(both_paths):
    ref, _, spills = both_paths
    for o in ref.expected.columns:
        e = np.fromfile(spills[o], dtype=np.float64)
        r = ref.expected[o].to_numpy()
        assert e.shape == r.shape
        np.testing.assert_array_equal(np.isnan(e), np.isnan(r))
        np.testing.assert_allclose(e, r, rtol=1e-10, atol=1e-10, equal_nan=True)


def test_store_from_file_equals_store_from_memory(tiny_cfg, tiny_panel, panel_file, both_paths, tmp_path):
    ref, _, spills = both_paths
    a, b = tmp_path / "memory.parquet", tmp_path / "file.parquet"
    pipeline.store._write_store_panel(tiny_panel, ref.expected, a, CHUNK)
    pipeline.store._write_store_from_file(panel_file, spills, b, CHUNK)
    import pyarrow.parquet as pq

    fa, fb = pq.ParquetFile(a), pq.ParquetFile(b)
    assert fa.num_row_groups == fb.num_row_groups > 10
    assert [fa.metadata.row_group(i).num_rows for i in range(fa.num_row_groups)] == [
        fb.metadata.row_group(i).num_rows for i in range(fb.num_row_groups)
    ]
    pd.testing.assert_frame_equal(pd.read_parquet(a), pd.read_parquet(b), check_exact=False, rtol=1e-10, atol=1e-10)


def test_store_from_file_rejects_short_expected_values(panel_file, both_paths, tmp_path):
    _, _, spills = both_paths
    short = tmp_path / "short.f8"
    np.fromfile(spills["atid3"], dtype=np.float64)[:-1].tofile(short)
    with pytest.raises(ValueError, match="expected values for 'atid3'"):
        pipeline.store._write_store_from_file(panel_file, {**spills, "atid3": short}, tmp_path / "x.parquet", CHUNK)


def _assert_same_design(got, ref):
    np.testing.assert_array_equal(got.codes, ref.codes)
    assert got.codes.dtype == ref.codes.dtype
    assert got.names == ref.names and got.blocks == ref.blocks
    np.testing.assert_array_equal(got.col_block, ref.col_block)
    for a, b in zip(got.level_columns, ref.level_columns, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(got.categories, ref.categories, strict=True):
        pd.testing.assert_index_equal(a, b)
    assert got.dropped_levels == ref.dropped_levels


def test_rebuild_design_equals_build_design(tiny_panel):
    """The 12-month design rebuilt from the 3-month one (inflow block refilled) is build_design's."""
    from arbeidsindikator.estimation import build_design
    from arbeidsindikator.estimation.design import rebuild_design
    from arbeidsindikator.panel.covariates import CovariateOptions

    opts = CovariateOptions()
    x3, x12 = build_covariates(tiny_panel, 3, opts), build_covariates(tiny_panel, 12, opts)
    same = {c for c in x12.columns if x3[c].equals(x12[c])}
    assert "innstromming" not in same and len(same) > 10
    ref = build_design(x12, code_dtype=np.int16)
    got = rebuild_design(build_design(x3, code_dtype=np.int16), x12.drop(columns=sorted(same)), same)
    _assert_same_design(got, ref)


def test_rebuild_design_moves_later_blocks():
    """A refilled block with fewer levels in the data moves the columns of the blocks after it."""
    from arbeidsindikator.estimation import build_design
    from arbeidsindikator.estimation.design import rebuild_design

    rng = np.random.default_rng(5)
    n = 500
    cat = lambda codes, k: pd.Categorical.from_codes(codes, categories=[f"l{i}" for i in range(k)])  # noqa: E731
    a, b, c = rng.integers(0, 6, n), rng.integers(0, 4, n), rng.integers(0, 5, n)
    x1 = pd.DataFrame({"a": cat(a, 6), "b": cat(b, 4), "c": cat(c, 5)})
    b2 = np.where(b == 2, 0, b)  # level l2 of b has no rows: its column is dropped, c's move down
    x2 = x1.assign(b=cat(b2, 4))
    for dt in (np.int16, np.int32):
        got = rebuild_design(build_design(x1, code_dtype=dt), x2[["b"]], {"a", "c"})
        _assert_same_design(got, build_design(x2, code_dtype=dt))
        assert got.dropped_levels == {"b": ["l2"]}
