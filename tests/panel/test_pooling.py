"""Pooling of rare levels before the probit (panel.covariates.PoolingRule; issue 13).

A constructed panel with known rare cells: the rule must pool exactly those cells into the
documented neighbours, nothing when no cell is rare, and after pooling the probit converges and
equals statsmodels' Probit on the pooled dummy design.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from arbeidsindikator.estimation import build_design, fit
from arbeidsindikator.estimation.fitting import SeparationWarning
from arbeidsindikator.panel.covariates import (
    NO_POOLING,
    CovariateOptions,
    PoolingRule,
    build_covariates,
    neighbour_map,
    pooling_table,
)


def make_panel(n_persons: int = 2500, months: int = 4, seed: int = 3, rare: bool = True) -> pd.DataFrame:
    """Persons × months with every block well populated, plus (``rare``) three planted rare cells:

    * 3 persons of country group 3 with residence ≤ 12 months (fewer than 10 persons);
    * 40 persons aged 67+ who never have a job at t+3 (no variation in jobb3);
    * 4 persons aged 29 (next to 30, which is well populated): fewer than 10 persons.
    """
    rng = np.random.default_rng(seed)
    age = rng.integers(30, 51, n_persons)
    lg = np.zeros(n_persons, dtype=int)
    botid = np.full(n_persons, np.nan)
    imm = rng.choice(n_persons, 400, replace=False)
    lg[imm] = 3
    botid[imm] = np.where(np.arange(imm.size) % 2, rng.uniform(13, 24, imm.size), 200.0)  # 3:13-24 and > 120
    if rare:
        few = rng.choice(np.setdiff1d(np.arange(n_persons), imm), 3, replace=False)
        lg[few], botid[few] = 3, 6.0  # 3:<=12
        rest = np.setdiff1d(np.arange(n_persons), np.r_[imm, few])
        old = rng.choice(rest, 40, replace=False)
        age[old] = 70
        young = rng.choice(np.setdiff1d(rest, old), 4, replace=False)
        age[young] = 29
    pid = np.repeat(np.arange(1, n_persons + 1), months)
    n = pid.size
    P = lambda a: np.repeat(a, months)  # noqa: E731
    kvinne = P(rng.random(n_persons) < 0.5)
    timer = np.where(rng.random(n) < 0.4, rng.uniform(1, 45, n), 0.0)
    eta = -0.6 + 0.5 * kvinne + 0.02 * (timer > 0) * timer + 0.3 * (P(lg) == 3)
    jobb3 = (eta + rng.normal(size=n) > 0).astype(float)
    if rare:
        jobb3[np.isin(pid, old + 1)] = 0.0
    return pd.DataFrame({
        "person_id": pid,
        "month": np.tile(pd.period_range("2019-01", periods=months, freq="M").to_timestamp(), n_persons),
        "alder": P(age), "barn": 0, "landgruppe": P(lg), "botid": P(botid),
        "gift": False, "kvinne": kvinne, "hoyere_utd": False,
        "lonn_desil": rng.integers(0, 11, n).astype(float), "pgi_desil": np.nan,
        "nav_historikk": rng.integers(0, 61, n), "nav_varighet": rng.integers(0, 30, n),
        "ufor": False, "permittert": False, "helse_ytelse": rng.random(n) < 0.5, "arbeid_ytelse": False,
        "timer_t": timer, "innstrom3": rng.uniform(0.002, 0.01, n), "innstrom12": rng.uniform(0.002, 0.01, n),
        "atid3": rng.uniform(0, 30, n), "jobb3": jobb3,
    })


def test_pools_exactly_the_planted_cells() -> None:
    panel = make_panel()
    X = build_covariates(panel, 3, CovariateOptions(pooling=PoolingRule(min_persons=10, no_variation=True)))
    got = pooling_table(X)[["block", "level", "merged into", "reason", "persons"]]
    got = got.sort_values(["block", "level"]).reset_index(drop=True)
    want = pd.DataFrame([
        ("alder", "29", "30", "fewer than 10 persons", 4),
        ("alder", "67+", "50", "no variation in jobb3 (all 0)", 40),  # 66..51: nobody has them
        ("landgruppe_botid", "3:<=12", "3:13-24", "fewer than 10 persons", 3),
    ], columns=got.columns)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    # the rows of a pooled level now carry the neighbour's label; nothing else moved
    X0 = build_covariates(panel, 3, CovariateOptions(pooling=NO_POOLING))
    moved = (X.astype(str) != X0.astype(str)).any(axis=1)
    planted = panel["alder"].isin([29, 70]) | ((panel["landgruppe"] == 3) & (panel["botid"] <= 12))
    assert (moved == planted).all()
    assert set(X.loc[panel["alder"] == 70, "alder"].astype(str)) == {"50"}


def test_nothing_changes_without_rare_cells() -> None:
    panel = make_panel(rare=False)
    X = build_covariates(panel, 3, CovariateOptions())
    X0 = build_covariates(panel, 3, CovariateOptions(pooling=NO_POOLING))
    assert pooling_table(X).empty
    pd.testing.assert_frame_equal(X, X0)


def test_a_chain_stops_when_the_pooled_cell_passes() -> None:
    """Age 29 (4 persons) goes into 30, which is then tested again with 29's persons in it."""
    panel = make_panel()
    n30 = panel.loc[panel["alder"] == 30, "person_id"].nunique()
    # 30 alone (n30) and 30 + 29 (n30 + 4) pass at n30 + 4: only 29 moves
    X = build_covariates(panel, 3, CovariateOptions(pooling=PoolingRule(min_persons=n30 + 4, no_variation=False)))
    t = pooling_table(X).set_index("level")
    assert t.loc["29", "merged into"] == "30" and "30" not in t.index
    # at n30 + 5 the pooled cell fails too and moves on towards the reference (31)
    X = build_covariates(panel, 3, CovariateOptions(pooling=PoolingRule(min_persons=n30 + 5, no_variation=False)))
    t = pooling_table(X).set_index("level")
    assert t.loc["30", "persons"] == n30 + 4
    assert t.loc["29", "merged into"] == t.loc["30", "merged into"] != "30"


def test_neighbours_are_the_documented_ones() -> None:
    X = build_covariates(make_panel(1000, 1, rare=False), 3, CovariateOptions(duration_categories=20, pooling=NO_POOLING))
    nb = {b: neighbour_map(b, [str(c) for c in X[b].cat.categories]) for b in X.columns}
    assert nb["alder"]["18"] == "19" and nb["alder"]["67+"] == "66" and nb["alder"]["41"] == "40"
    assert nb["nav_historikk"][">60"] == "37-60" and nb["nav_historikk"]["1-6"] == "0"
    assert nb["nav_varighet"]["19+"] == "18"
    assert nb["inntekt"]["lonn_d1"] == "lonn_ingen" and nb["inntekt"]["pgi_d3"] == "pgi_d2"
    assert nb["inntekt"]["pgi_ingen"] == "lonn_ingen"
    assert nb["landgruppe_botid"]["-1:<=12"] == "-1:13-24" and nb["landgruppe_botid"]["2:49-120"] == "ref"
    assert nb["landgruppe"]["-1"] == "0" and nb["kvinne"]["yes"] == "no"
    assert nb["innstromming"]["q20"] == "q19"


def _dense(X: pd.DataFrame) -> pd.DataFrame:
    """Constant + one dummy per non-reference level that has rows (statsmodels' design)."""
    cols = {"const": np.ones(len(X))}
    for b in X.columns:
        s = X[b]
        for c in s.cat.categories[1:]:
            d = (s == c).to_numpy(dtype=float)
            if d.any():
                cols[f"{b}[{c}]"] = d
    return pd.DataFrame(cols, index=X.index)


def test_pooled_probit_converges_and_equals_statsmodels() -> None:
    panel = make_panel()
    y = panel["jobb3"].to_numpy(dtype=float)
    X0 = build_covariates(panel, 3, CovariateOptions(pooling=NO_POOLING))
    with pytest.warns(SeparationWarning):
        r0 = fit(build_design(X0), y, family="probit", outcome="jobb3")
    assert not r0.converged  # the planted 67+ cell separates without pooling
    X = build_covariates(panel, 3, CovariateOptions())
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeparationWarning)
        r = fit(build_design(X), y, family="probit", outcome="jobb3")
    assert r.converged
    D = _dense(X)
    ref = sm.Probit(y, D).fit(disp=0, method="newton", tol=1e-12, maxiter=100)
    assert ref.mle_retvals["converged"]
    ours = r.params.reindex(D.columns)
    assert ours.notna().all()
    np.testing.assert_allclose(ours.to_numpy(), ref.params.to_numpy(), rtol=0, atol=1e-7)
    np.testing.assert_allclose(r.bse.reindex(D.columns).to_numpy(), ref.bse.to_numpy(), rtol=1e-6)


def test_the_rule_and_the_growth_option_are_read_from_the_run_configuration(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from conftest import write_config

    from arbeidsindikator.config import ConfigError, load_config
    from arbeidsindikator.pipeline import covariate_options

    default = covariate_options(load_config(write_config(tmp_path)))
    assert default.pooling == PoolingRule(10, True) and not default.include_growth
    cfg = load_config(write_config(tmp_path, **{"model.pooling": {"min_persons": 0, "no_variation": False},
                                                "model.growth": True}))
    opts = covariate_options(cfg)
    assert opts.pooling == NO_POOLING and not opts.pooling.active and opts.include_growth
    with pytest.raises(ConfigError, match="model.pooling.min_persons"):
        load_config(write_config(tmp_path, **{"model.pooling.min_persons": -1}))
    with pytest.raises(ConfigError, match="model.growth: expected true/false"):
        load_config(write_config(tmp_path, **{"model.growth": "yes"}))
    with pytest.raises(ConfigError, match="did you mean 'model.pooling.min_persons'"):
        load_config(write_config(tmp_path, **{"model.pooling.min_person": 5}))


def test_chunks_with_the_whole_panels_merges_equal_the_whole_pooled_design(tiny_panel, tiny_cfg):
    """apply_pooling: chunk covariates built unpooled + the whole panel's recorded merges = the
    whole panel's pooled covariates, row for row (a chunk's own counts would pool other levels)."""
    import dataclasses

    from arbeidsindikator import pipeline
    from arbeidsindikator.panel.covariates import NO_POOLING, apply_pooling, build_covariates

    opts = pipeline.covariate_options(tiny_cfg)
    assert opts.pooling.active
    for h in (3, 12):
        whole = build_covariates(tiny_panel, h, opts)
        recs = whole.attrs.get("pooled", [])
        assert recs, "the tiny panel has rare levels (else this test proves nothing)"
        raw = dataclasses.replace(opts, pooling=NO_POOLING)
        pid = tiny_panel["person_id"].to_numpy()
        cuts = [0, *np.flatnonzero(pid[1:] != pid[:-1])[[len(pid) // 5, len(pid) // 3]] + 1, len(pid)] \
            if len(np.flatnonzero(pid[1:] != pid[:-1])) > len(pid) // 3 else [0, len(pid) // 2, len(pid)]
        parts = [apply_pooling(build_covariates(tiny_panel.iloc[a:b], h, raw), recs) for a, b in zip(cuts[:-1], cuts[1:])]
        got = pd.concat(parts)
        for b in whole.columns:
            if b == "innstromming":  # quantile classes of the chunk, not of the panel (handled by the callers)
                continue
            np.testing.assert_array_equal(got[b].cat.codes.to_numpy(), whole[b].cat.codes.to_numpy(), err_msg=b)
        # and applying nothing to an unpooled chunk changes nothing
        assert apply_pooling(parts[0], []) is parts[0]
