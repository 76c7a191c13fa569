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


def _simulated(n=4000, seed=7):
    """Three categorical regressors with planted effects; level 'c' of x1 only in the last rows."""
    rng = np.random.default_rng(seed)
    x1 = rng.choice(["a", "b"], n)
    x1[-300:] = "c"  # a level seen only out of sample
    x2 = rng.choice(["u", "v", "w"], n)
    x3 = rng.choice(["0", "1"], n)
    eff1 = {"a": 0.0, "b": 1.5, "c": 3.0}
    eff2 = {"u": 0.0, "v": -1.0, "w": 0.5}
    xb = 2.0 + np.vectorize(eff1.get)(x1) + np.vectorize(eff2.get)(x2) + 0.8 * (x3 == "1")
    X = pd.DataFrame({"x1": pd.Categorical(x1, categories=["a", "b", "c"]),
                      "x2": pd.Categorical(x2, categories=["u", "v", "w"]),
                      "x3": pd.Categorical(x3, categories=["0", "1"])})
    return X, xb, rng


def test_fit_covariates_equals_statsmodels_ols_and_probit_in_and_out_of_sample():
    """fit_covariates (int16 design, out-of-sample pooling) against statsmodels on the fit rows."""
    import statsmodels.api as sm

    X, xb, rng = _simulated()
    y_ols = xb + rng.normal(0, 1, len(X))
    y_bin = (xb - 3.0 + rng.normal(0, 1, len(X)) > 0).astype(float)
    fit_rows = np.ones(len(X), bool)
    fit_rows[-300:] = False
    fit_rows[:200] = False  # some ordinary rows out of sample too
    # statsmodels on the fit rows; the unseen level 'c' of x1 (not ordered) borrows the reference 'a'
    Xp, n = alternatives.pool_unseen(X, fit_rows)
    assert n == 300 and (Xp["x1"].iloc[-300:] == "a").all()
    D = pd.get_dummies(Xp, drop_first=True, dtype=float)
    D = sm.add_constant(D[[c for c in D.columns if D.loc[fit_rows, c].sum() > 0]])
    for family, y, model in (("ols", y_ols, sm.OLS), ("probit", y_bin, sm.Probit)):
        ref = model(y[fit_rows], D[fit_rows]).fit(**({"disp": 0} if family == "probit" else {}))
        pred = ref.predict(D)
        v = alternatives.fit_covariates(X, y, "y", fit_rows=fit_rows, family=family)
        assert v.n_fit == int(fit_rows.sum()) and v.pooled_rows == 300
        np.testing.assert_allclose(v.expected, np.asarray(pred), rtol=1e-8, atol=1e-9)


def test_fit_covariates_recovers_planted_effects_and_merges_aliased_levels():
    """Known truth: on a large sample the OLS predictions approach the planted mean; a level
    collinear with another block is merged into the reference (and counted), not an error."""
    X, xb, rng = _simulated(n=60_000, seed=3)
    y = xb + rng.normal(0, 1, len(X))
    v = alternatives.fit_covariates(X, y, "y", family="ols")
    assert np.abs(v.expected - xb).max() < 0.05
    # x4 duplicates x3: its level '1' is aliased and merged into its reference
    X4 = X.assign(x4=pd.Categorical(np.asarray(X["x3"]), categories=["0", "1"]))
    w = alternatives.fit_covariates(X4, y, "y", family="ols")
    assert w.pooled_rows == int((X["x3"] == "1").sum())
    np.testing.assert_allclose(w.expected, v.expected, rtol=1e-10, atol=1e-10)


def test_memoised_blocks_equal_build_covariates_in_any_order(tiny_cfg):
    """The codes keep each block of all rows once made and pooled (issue 11); whatever the order of
    the variants, each frame equals build_covariates on the whole store (pooling included)."""
    import dataclasses

    from arbeidsindikator.panel.covariates import build_covariates
    from arbeidsindikator.pipeline import store_frame

    base = covariate_options(tiny_cfg)
    c = alternatives.coded(tiny_cfg, 3)
    df = store_frame(tiny_cfg, list(panel_with_expected(tiny_cfg).columns), memo=False)
    has_growth = c.growth is not None
    variants = [dataclasses.replace(base, duration_categories=61), base,
                dataclasses.replace(base, include_hours_at_t=False),
                *([dataclasses.replace(base, include_growth=True, duration_categories=61),
                   dataclasses.replace(base, include_growth=True)] if has_growth else []),
                dataclasses.replace(base, pooling=alternatives.NO_POOLING)]
    for opts in variants + variants[::-1]:
        ref = build_covariates(df, 3, opts).reset_index(drop=True)
        ref.attrs = {}
        pd.testing.assert_frame_equal(c.covariates(opts), ref)
    assert len(c._pooled) >= 1 and len(c._made) > len(c.order)


def test_codes_of_the_other_horizon_equal_a_fresh_pass(tiny_cfg):
    """coded(cfg, 12) made from the horizon-3 codes in memory (only inflow and outcomes read)
    equals the codes of a pass over the whole store (issue 11)."""
    alternatives.forget()
    fresh = alternatives.coded(tiny_cfg, 12)
    alternatives.coded(tiny_cfg, 3)
    derived = alternatives.coded(tiny_cfg, 12)
    alternatives.forget()
    assert derived is not fresh and derived.order == fresh.order
    for name in ("duration", "inflow", "month", "person"):
        np.testing.assert_array_equal(getattr(derived, name), getattr(fresh, name))
    for o in fresh.y:
        np.testing.assert_array_equal(derived.y[o], fresh.y[o])
    opts = covariate_options(tiny_cfg)
    pd.testing.assert_frame_equal(derived.covariates(opts), fresh.covariates(opts))
