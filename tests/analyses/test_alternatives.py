"""Alternative models: properties that must hold by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd

from arbeidsindikator.analyses import alternatives
from arbeidsindikator.indicator import indicator
from arbeidsindikator.pipeline import covariate_options, panel_with_expected


def test_month_dummies_make_every_national_month_zero(tiny_cfg):
    """With a dummy per month, OLS residuals average zero within every month (alternative 2)."""
    df = panel_with_expected(tiny_cfg)
    m = pd.DatetimeIndex(df["month"]).strftime("%Y-%m")
    cats = sorted(set(m))
    v = alternatives.fit_variant(df, "atid3", covariate_options(tiny_cfg), extra={"maaned": pd.Categorical(m, categories=cats)})
    t = indicator.monthly(df.assign(exp_atid3=v.expected), "atid3")
    np.testing.assert_allclose(t["indicator"].to_numpy(), 0.0, atol=1e-8)


def test_out_of_sample_fit_uses_only_fit_rows(tiny_cfg):
    df = panel_with_expected(tiny_cfg)
    rows = (pd.DatetimeIndex(df["month"]).year != 2020)
    v = alternatives.fit_variant(df, "atid3", covariate_options(tiny_cfg), fit_rows=np.asarray(rows))
    used = rows & df["atid3"].notna().to_numpy()
    assert v.n_fit == int(used.sum())
    assert abs(float((df.loc[used, "atid3"] - v.expected[used]).mean())) < 1e-8


def test_pool_unseen_maps_to_nearest_seen_level():
    X = pd.DataFrame({
        "innstromming": pd.Categorical(["q01", "q02", "q05", "q03"], categories=["q01", "q02", "q03", "q04", "q05"]),
        "kvinne": pd.Categorical(["no", "yes", "yes", "no"], categories=["no", "yes"]),
    })
    fit_rows = np.array([True, True, False, True])
    out, n = alternatives.pool_unseen(X, fit_rows)
    assert out["innstromming"].tolist() == ["q01", "q02", "q03", "q03"]  # q05 -> nearest seen q03
    assert out["kvinne"].tolist() == ["no", "yes", "yes", "no"]
    assert n == 1


def test_alternatives_survive_unobservable_months(tiny_cfg):
    """12-month outcomes are missing in the last year: month dummies there have no fit rows."""
    main, with_time = alternatives.calendar_time(tiny_cfg, "atid12")
    assert main.shape == with_time.shape
    sep = alternatives.separate_by_main_group(tiny_cfg, "atid12")
    assert sep.notna().any().all()


def test_spell_gap_changes_durations_not_rows(tiny_cfg):
    curves, summary = alternatives.spell_gap(tiny_cfg, "atid3")
    assert summary["other_gap"] == (2 if tiny_cfg.gap_months == 3 else 3)
    # a shorter gap splits spells, so durations can only fall (and some do on generated data)
    assert 0 < summary["share_rows_changed"] < 1
    if tiny_cfg.gap_months == 3:
        assert summary["mean_duration_other"] < summary["mean_duration_main"]
    assert curves.shape[1] == 2 and curves.notna().any().all()


def test_spell_gap_on_a_folder_of_extracts(tiny_cfg):
    """With source: extracts the alternative must rebuild the panel, not reuse the main one's cache."""
    import dataclasses
    from pathlib import Path

    from arbeidsindikator.pipeline import load_panel

    folder = Path(load_panel(tiny_cfg).report["extracts"])
    cfg_x = dataclasses.replace(tiny_cfg, source="extracts", data_path=folder)
    assert dataclasses.replace(cfg_x, gap_months=2).fingerprint() != cfg_x.fingerprint()
    _, summary = alternatives.spell_gap(cfg_x, "atid3")
    assert 0 < summary["share_rows_changed"] < 1


def test_chapter_05_imports_only_pipeline_analyses_book_config_spec():
    """Chapter 05 reads results through analyses and book recipes, never lower layers."""
    import re
    from pathlib import Path

    md = (Path(__file__).resolve().parents[2] / "chapters" / "05_alternatives.md").read_text(encoding="utf-8")
    cells = re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", md, re.S | re.M)
    mods = re.findall(r"^\s*(?:from|import)\s+arbeidsindikator\.?(\w*)", "\n".join(cells), re.M)
    subs = set(re.findall(r"^\s*from\s+arbeidsindikator\s+import\s+(\w+)", "\n".join(cells), re.M))
    layers = {m for m in mods if m} | subs
    assert layers and layers <= {"pipeline", "analyses", "book", "config", "spec"}, layers
