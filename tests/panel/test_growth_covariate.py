"""Expected employment growth as a regressor (model.growth; seed 002 ch. 4: 20 equal intervals)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from arbeidsindikator.data.contract import GROWTH_COLUMN
from arbeidsindikator.panel.covariates import NO_POOLING, CovariateOptions, build_covariates, growth_category
from test_pooling import make_panel


def test_twenty_equal_intervals_with_the_lowest_as_reference() -> None:
    v = pd.Series([-0.10, -0.0951, -0.09, 0.0, 0.0999, 0.10])
    c = growth_category(v, 20)  # width 0.01: [-0.10, -0.09), …, [0.09, 0.10]
    assert list(c.categories[:2]) == ["g01", "g02"]
    assert list(np.asarray(c).astype(str)) == ["g01", "g01", "g02", "g11", "g20", "g20"]


def test_growth_block_is_added_only_when_asked() -> None:
    panel = make_panel(600, 2, rare=False)
    panel[GROWTH_COLUMN] = np.linspace(-0.05, 0.05, len(panel))
    X0 = build_covariates(panel, 3, CovariateOptions(pooling=NO_POOLING))
    X1 = build_covariates(panel, 3, CovariateOptions(pooling=NO_POOLING, include_growth=True))
    assert GROWTH_COLUMN not in X0.columns
    assert list(X1.columns[:-1]) == list(X0.columns)
    counts = X1[GROWTH_COLUMN].value_counts()
    assert len(counts) == 20 and counts.max() - counts.min() <= 1  # a uniform spread fills equal intervals equally


def test_growth_without_the_column_or_with_gaps_is_a_clear_error() -> None:
    panel = make_panel(1000, 1, rare=False)
    with pytest.raises(ValueError, match="optional table sysselsettingsvekst"):
        build_covariates(panel, 3, CovariateOptions(include_growth=True))
    panel[GROWTH_COLUMN] = 0.01
    panel.loc[panel.index[:5], GROWTH_COLUMN] = np.nan
    with pytest.raises(ValueError, match="5 of 1,000 panel row"):
        build_covariates(panel, 3, CovariateOptions(include_growth=True))


def test_the_synthetic_panel_carries_growth_and_the_model_of_table_4_runs(tiny_panel) -> None:  # type: ignore[no-untyped-def]
    from arbeidsindikator.pipeline import fit_main_models

    assert GROWTH_COLUMN in tiny_panel.columns and tiny_panel[GROWTH_COLUMN].notna().all()
    # one value per commuting region and month
    assert (tiny_panel.groupby(["ba_region", "month"], observed=True)[GROWTH_COLUMN].nunique() == 1).all()
    mm = fit_main_models(tiny_panel, CovariateOptions(duration_categories=61, include_growth=True), outcomes=("atid3",))
    names = mm.fits["atid3"].params.index
    assert any(n.startswith(f"{GROWTH_COLUMN}[g") for n in names)
    assert "nav_varighet[40]" in names  # 61 duration categories
