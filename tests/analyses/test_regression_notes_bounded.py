"""Chapter 03's refits (pooling effect, growth comparison) read the store in chunks (issue 11, item 4)
and give the fits the in-memory refit on the whole store frame gives.

The refits of a horizon share one set of compact codes (``alternatives.coded``) and its blocks,
made and pooled once (issue 11): the variants are fitted in an order that reuses them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arbeidsindikator.analyses import regression_notes as rn
from arbeidsindikator.config import load_config
from arbeidsindikator.estimation import build_design, fit
from arbeidsindikator.panel.covariates import NO_POOLING, build_covariates, horizon_of
from arbeidsindikator.pipeline import covariate_options, main_models, store_panel_path
from tests.conftest import write_config


@pytest.fixture(scope="module")
def cfg(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("rn")
    # a store of several row groups: the codes are read chunk by chunk
    c = load_config(write_config(root, **{"output.cache_dir": str(root / "cache"), "output.chunk_rows": 7000}))
    main_models(c)
    return c


def _variants(cfg) -> dict[str, object]:  # type: ignore[no-untyped-def]
    base = covariate_options(cfg)
    return {"book": base, "unpooled": dataclasses.replace(base, pooling=NO_POOLING),
            "table4": dataclasses.replace(base, include_growth=True, duration_categories=61)}


@pytest.mark.parametrize("variant", ["book", "unpooled", "table4"])
@pytest.mark.parametrize("outcome", rn.OLS_OUTCOMES)
def test_chunked_refit_equals_the_whole_frame_refit(cfg, outcome: str, variant: str) -> None:  # type: ignore[no-untyped-def]
    import pyarrow.parquet as pq

    assert pq.ParquetFile(store_panel_path(cfg)).num_row_groups > 1
    opts = _variants(cfg)[variant]
    df = pd.read_parquet(store_panel_path(cfg))
    if variant == "table4" and "sysselsettingsvekst" not in df.columns:
        pytest.skip("the tiny extracts hold no growth table")
    design = build_design(build_covariates(df, horizon_of(outcome), opts))
    ref = fit(design, df[outcome].to_numpy(dtype=float), family="ols", outcome=outcome)
    res, pred = rn._fit(cfg, outcome, opts)
    assert len(df) > 7000
    assert list(res.params.index) == list(ref.params.index)
    np.testing.assert_allclose(res.params.to_numpy(), ref.params.to_numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(pred, ref.predict(design, unseen="nan"), rtol=1e-9, atol=1e-9, equal_nan=True)
    assert res.nobs == ref.nobs


def test_growth_comparison_and_pooling_effect_run_on_the_store(cfg) -> None:  # type: ignore[no-untyped-def]
    pe = rn.pooling_effect(cfg)
    assert pe["n_pooled"] >= 0 and np.isfinite(pe["coef_max_change"])
    g = rn.growth_comparison(cfg)
    if g.available:
        assert set(g.fits["model"]) == set(rn.VARIANTS)
        assert (g.fits["rows used"] > 0).all()
