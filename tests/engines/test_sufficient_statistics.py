"""The partitioned fit (engines.design + engines.stats) equals the in-process estimation engine,
and recovers planted coefficients (known truth)."""

from __future__ import annotations

import dataclasses

import contextlib
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbeidsindikator import pipeline
from arbeidsindikator.engines import design as gd
from arbeidsindikator.engines import sql, stats
from arbeidsindikator.engines.partitions import Partition, plan_partitions, read_partition
from arbeidsindikator.estimation import SeparationWarning, build_design, fit
from arbeidsindikator.panel.covariates import NO_POOLING, build_covariates

TOL = 1e-10


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=400), st.integers(2, 25))
def test_quantile_edges_equal_numpy_on_the_concatenated_values(values, n):
    v = np.asarray(values, dtype=float) / 7.0  # ties and non-representable fractions
    expected = np.unique(np.quantile(v, np.linspace(0, 1, n + 1)[1:-1]))
    half = len(v) // 2
    counts = gd.merge_counts([gd.value_counts(v[:half]) if half else (np.empty(0), np.empty(0, np.int64)),
                              gd.value_counts(v[half:])])
    np.testing.assert_array_equal(gd.quantile_edges(*counts, n), expected)


def test_partitions_hold_whole_persons_and_cover_every_row(tmp_path):
    pid = np.repeat(np.arange(50), np.random.default_rng(1).integers(1, 30, 50))
    pd.DataFrame({"person_id": pid, "v": np.arange(len(pid))}).to_parquet(tmp_path / "p.parquet", row_group_size=97)
    parts = plan_partitions(tmp_path / "p.parquet", 100)
    assert len(parts) > 3
    assert parts[0].start == 0 and parts[-1].stop == len(pid)
    assert all(a.stop == b.start for a, b in zip(parts, parts[1:]))
    seen: set[int] = set()
    for p in parts:
        df = read_partition(p, ["person_id", "v"])
        np.testing.assert_array_equal(df["v"].to_numpy(), np.arange(p.start, p.stop))
        ids = set(df["person_id"])
        assert not ids & seen
        seen |= ids


def test_unsorted_panel_is_refused(tmp_path):
    pd.DataFrame({"person_id": [1, 1, 3, 2]}).to_parquet(tmp_path / "p.parquet")
    with pytest.raises(ValueError, match="not sorted by person_id"):
        plan_partitions(tmp_path / "p.parquet", 2)


@pytest.fixture(scope="module")
def split(tiny_panel):
    """The tiny panel in four partitions of whole persons (uneven sizes)."""
    pid = tiny_panel["person_id"].to_numpy()
    cuts = np.searchsorted(pid, np.quantile(pid, [0.3, 0.55, 0.8]))
    return [tiny_panel.iloc[a:b] for a, b in zip([0, *cuts], [*cuts, len(tiny_panel)])]


@pytest.mark.parametrize("outcome, family, horizon", [("atid3", "ols", 3), ("jobb12", "probit", 12)])
@pytest.mark.parametrize("cov_type", ["classical", "HC1", "cluster"])
def test_partitioned_fit_equals_in_process(tiny_cfg, tiny_panel, split, outcome, family, horizon, cov_type):
    opts = dataclasses.replace(pipeline.covariate_options(tiny_cfg), pooling=NO_POOLING)
    g = gd.build_global(horizon, opts, split)
    d = build_design(build_covariates(tiny_panel, horizon, opts))
    assert g.names == d.names
    designs = [g.design_for(gd.covariate_codes(f, horizon, opts, g.edges)[0]) for f in split]
    ys = [f[outcome].to_numpy(float) for f in split]
    groups = [f["person_id"].to_numpy() for f in split]
    pid = tiny_panel["person_id"].to_numpy()
    with _quiet():
        ref = fit(d, tiny_panel[outcome].to_numpy(float), family=family, outcome=outcome, cov_type=cov_type,
                  groups=pid if cov_type == "cluster" else None)

    def run(kind, **kw):
        return stats.add_passes([stats.partition_pass(kind, dd, yy, groups=gg, **kw)
                                 for dd, yy, gg in zip(designs, ys, groups)])

    with _quiet():
        res = stats.fit_from_passes(run, g, family=family, outcome=outcome, cov_type=cov_type, n_rows=len(tiny_panel))
    pd.testing.assert_index_equal(res.params.index, ref.params.index)
    np.testing.assert_allclose(res.params, ref.params, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(res.bse, ref.bse, rtol=TOL, atol=TOL)
    assert (res.nobs, res.n_excluded, res.n_iter, res.n_groups) == (ref.nobs, ref.n_excluded, ref.n_iter, ref.n_groups)
    np.testing.assert_allclose(res.llf, ref.llf, rtol=TOL)
    e = np.concatenate([res.predict(dd, unseen="nan") for dd in designs])
    np.testing.assert_allclose(e, ref.predict(d, unseen="nan"), rtol=TOL, atol=TOL, equal_nan=True)
    # the regressor table of chapter 3 from the level counts
    if horizon == 3:
        from arbeidsindikator.panel.covariates import regressor_summary

        X = build_covariates(tiny_panel, 3, opts)
        pd.testing.assert_frame_equal(g.regressor_summary(), regressor_summary(X))


@contextlib.contextmanager
def _quiet():
    """The tiny panel has a separated level in the probit (both paths warn alike)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeparationWarning)
        yield


def _planted(n: int, seed: int):
    """Three categorical regressors with planted OLS coefficients; noise sd 2."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "a": pd.Categorical.from_codes(rng.integers(0, 4, n), categories=["r", "a1", "a2", "a3"]),
        "b": pd.Categorical.from_codes(rng.integers(0, 3, n), categories=["r", "b1", "b2"]),
        "c": pd.Categorical.from_codes(rng.integers(0, 2, n), categories=["r", "c1"]),
    })
    beta = pd.Series({"const": 10.0, "a[a1]": 1.5, "a[a2]": -2.0, "a[a3]": 0.5, "b[b1]": 3.0, "b[b2]": -1.0, "c[c1]": 0.75})
    d = build_design(X)
    xb = np.full(n, beta["const"])
    for b, block in enumerate(X.columns):
        for j, name in enumerate(d.names):
            if name.startswith(f"{block}["):
                xb += beta[name] * (d.codes[:, b] == j)
    y = xb + rng.normal(0, 2.0, n)
    y[rng.random(n) < 0.05] = np.nan  # missing outcomes are excluded, not zero-filled
    return d, y, beta


def test_known_truth_partitioned_and_sql_ols_recover_planted_coefficients():
    d, y, beta = _planted(40_000, seed=7)
    n = d.n_rows
    cuts = [0, 9_000, 22_000, 31_000, n]
    from arbeidsindikator.estimation import Design

    parts = [Design(codes=d.codes[a:b], names=d.names, blocks=d.blocks, categories=d.categories,
                    level_columns=d.level_columns, col_block=d.col_block) for a, b in zip(cuts, cuts[1:])]

    def run(kind, **kw):
        return stats.add_passes([stats.partition_pass(kind, p, y[a:b], **kw) for p, a, b in zip(parts, cuts, cuts[1:])])

    res = stats.fit_from_passes(run, d, family="ols", outcome="y", n_rows=n)
    rows = sql.run_duckdb(sql.ols_sql('"t"', d.codes.shape[1]), {"t": sql.design_table(d, y)})
    res_sql = sql.ols_fit(rows, d, "y", n_rows=n)
    for r in (res, res_sql):
        assert r.nobs == int((~np.isnan(y)).sum())
        z = (r.params - beta[r.params.index]) / r.bse
        assert np.all(np.abs(z) < 4.5), z  # within sampling error (7 coefficients)
        assert abs(np.sqrt(r.scale) - 2.0) < 0.05
    np.testing.assert_allclose(res_sql.params, res.params, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(res_sql.bse, res.bse, rtol=TOL, atol=TOL)


def test_sql_ols_equals_in_process_on_the_tiny_panel(tiny_cfg, tiny_panel):
    opts = dataclasses.replace(pipeline.covariate_options(tiny_cfg), pooling=NO_POOLING)
    d = build_design(build_covariates(tiny_panel, 12, opts))
    y = tiny_panel["atid12"].to_numpy(float)
    ref = fit(d, y, family="ols", outcome="atid12")
    rows = sql.run_duckdb(sql.ols_sql('"design"', d.codes.shape[1], "atid12"), {"design": sql.design_table(d, y, "atid12")})
    res = sql.ols_fit(rows, d, "atid12", n_rows=d.n_rows)
    pd.testing.assert_index_equal(res.params.index, ref.params.index)
    np.testing.assert_allclose(res.params, ref.params, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(res.bse, ref.bse, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(res.rsquared, ref.rsquared, rtol=TOL)
    assert res.nobs == ref.nobs
    with pytest.raises(ValueError, match="fits OLS/LPM only"):
        sql.ols_fit(rows, d, "atid12", n_rows=d.n_rows, family="probit")


@pytest.mark.parametrize("horizon, outcome, family", [(3, "jobb3", "probit"), (12, "atid12", "ols")])
@pytest.mark.parametrize("cut", ["persons", "rows"])
def test_partitioned_pooling_equals_in_process(tiny_cfg, tiny_panel, split, horizon, outcome, family, cut):
    """The default pooling rule over partitions: same merges, same pooled design, same fit.

    ``rows`` cuts the panel at arbitrary rows, so persons span partitions: distinct persons per
    level must still be counted once (a per-partition sum would count them twice).
    """
    opts = pipeline.covariate_options(tiny_cfg)
    assert opts.pooling.active
    frames = split if cut == "persons" else [tiny_panel.iloc[a:b] for a, b in
                                             zip([0, 997, 2500, 4001], [997, 2500, 4001, len(tiny_panel)])]
    if cut == "rows":
        pids = [set(f["person_id"]) for f in frames]
        assert any(a & b for a, b in zip(pids, pids[1:]))  # some person really spans two partitions
    X = build_covariates(tiny_panel, horizon, opts)
    from arbeidsindikator.panel.covariates import pooling_table

    want = pooling_table(X)
    assert len(want) > 0  # the tiny panel has rare levels: something is pooled
    g = gd.build_global(horizon, opts, frames)
    pd.testing.assert_frame_equal(pd.DataFrame(list(g.pooled), columns=want.columns), want)
    d = build_design(X)
    assert g.names == d.names
    designs = [g.design_for(gd.covariate_codes(f, horizon, opts, g.edges)[0]) for f in frames]
    np.testing.assert_array_equal(np.concatenate([dd.codes for dd in designs]), d.codes)
    ys = [f[outcome].to_numpy(float) for f in frames]
    with _quiet():
        ref = fit(d, tiny_panel[outcome].to_numpy(float), family=family, outcome=outcome)
        res = stats.fit_from_passes(lambda kind, **kw: stats.add_passes(
            [stats.partition_pass(kind, dd, yy, **kw) for dd, yy in zip(designs, ys)]),
            g, family=family, outcome=outcome, n_rows=len(tiny_panel))
    pd.testing.assert_index_equal(res.params.index, ref.params.index)
    np.testing.assert_allclose(res.params, ref.params, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(res.bse, ref.bse, rtol=TOL, atol=TOL)
    if horizon == 3:
        from arbeidsindikator.panel.covariates import regressor_summary

        pd.testing.assert_frame_equal(g.regressor_summary(), regressor_summary(X))


def test_partitioned_pooling_counts_persons_of_a_large_failing_level_once(tiny_cfg, tiny_panel):
    """A level with many rows that fails the no-variation test: its record's distinct persons are
    counted over the union of the partitions (persons spanning partitions count once)."""
    opts = pipeline.covariate_options(tiny_cfg)
    panel = tiny_panel.copy()
    married = panel["gift"].astype(bool) & panel["jobb3"].notna()
    assert married.sum() > 1000  # a level far above min_persons × months rows
    panel.loc[married, "jobb3"] = 0.0  # no variation in jobb3 among the married
    X = build_covariates(panel, 3, opts)
    from arbeidsindikator.panel.covariates import pooling_table

    want = pooling_table(X)
    row = want[want["block"] == "gift"]
    assert len(row) == 1 and row["reason"].iloc[0].startswith("no variation in jobb3")
    frames = [panel.iloc[a:b] for a, b in zip([0, 1501, 3333], [1501, 3333, len(panel)])]  # cuts inside persons
    assert set(frames[0]["person_id"]) & set(frames[1]["person_id"])
    g = gd.build_global(3, opts, frames)
    got = pd.DataFrame(list(g.pooled), columns=want.columns)
    pd.testing.assert_frame_equal(got, want)
    codes = np.concatenate([g.design_for(gd.covariate_codes(f, 3, opts, g.edges)[0]).codes for f in frames])
    np.testing.assert_array_equal(codes, build_design(X).codes)


def test_partition_codes_refuse_a_design_wider_than_int16():
    """The partitioned codes are int16: a design with more columns than int16 holds is refused
    with a clear error instead of wrapping around into wrong columns."""
    n = 40_000
    g = gd.GlobalDesign.from_counts(["wide"], [pd.Index([f"l{i}" for i in range(n)])],
                                    [np.ones(n, dtype=np.int64)], np.array([]))
    assert len(g.names) > np.iinfo(np.int16).max
    with pytest.raises(ValueError, match="int16"):
        g.design_for(np.zeros((3, 1), dtype=np.int16))
