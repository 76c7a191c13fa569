"""The static recipes chapters 08 and 10 call show exactly what the defining modules give."""

from __future__ import annotations

import pandas as pd

from arbeidsindikator import windows
from arbeidsindikator.book import recipes
from arbeidsindikator.config import load_config
from arbeidsindikator.data import contract, extracts
from arbeidsindikator.profiling import contract as profiling_contract


def test_contract_recipes_are_the_contracts() -> None:
    pd.testing.assert_frame_equal(recipes.panel_contract(), contract.contract_table())
    pd.testing.assert_frame_equal(recipes.extracts_contract(), extracts.contract_table())
    pd.testing.assert_frame_equal(recipes.profiling_contract(), profiling_contract.contract_table())
    assert len(recipes.panel_contract()) and len(recipes.extracts_contract()) and len(recipes.profiling_contract())


def test_windows_recipe_is_the_rule_table() -> None:
    cfg = load_config(None)
    t = recipes.windows_table(cfg)
    pd.testing.assert_frame_equal(t, windows.windows_table(cfg))
    assert t["setting"].iloc[0] == "period" and t["value"].iloc[0] == f"{cfg.start}–{cfg.end}"
