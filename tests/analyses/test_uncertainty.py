"""Intervals: closed forms, agreement between methods, robustness of the refit bootstrap."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from arbeidsindikator.analyses import interval_views as iv_views
from arbeidsindikator.analyses import uncertainty as unc
from arbeidsindikator.analyses import validation as val
from arbeidsindikator.config import Window
from arbeidsindikator.estimation import build_design, fit
from arbeidsindikator.indicator import indicator, seasonal


def _small(n_persons: int = 300, n_months: int = 12, seed: int = 3):
    spec = val.SimSpec(n_persons=n_persons, n_months=n_months, seed=seed)
    d0 = val.simulate_design(spec)
    codes, labels, mi = val._layout_parts(d0)
    design = build_design(d0.frame[["age", "sex", "benefit"]])
    return spec, d0, codes, labels, mi, design


def _influence(d0, design, codes, labels, mi, y, level="person", replicates=0, seed=0, chunk_rows=250_000):
    res = fit(design, y, family="ols")
    layout, chunks = unc.design_chunks(design, y, res, d0.frame["person_id"].to_numpy(), mi, d0.months, codes, labels,
                                       outcome="sim", family="ols", level=level, chunk_rows=chunk_rows)
    return res, unc.accumulate(layout, res, chunks, replicates=replicates, seed=seed)


def test_streamed_covariance_equals_dense_closed_form():
    """Σ_gh = Σ_p ψ_gp ψ_hp with ψ from dense X, (X'X)⁻¹ and residuals; chunking does not matter."""
    spec, d0, codes, labels, mi, design = _small()
    rng = np.random.default_rng(1)
    pid = d0.frame["person_id"].to_numpy()
    y = d0.f + rng.normal(0, 3, pid.max() + 1)[pid] + rng.normal(0, 4, pid.size)
    res, inf = _influence(d0, design, codes, labels, mi, y, chunk_rows=500)
    X = unc._csr(design.codes, design.n_columns).toarray()
    r = y - X @ np.nan_to_num(res.params.reindex(design.names).to_numpy())
    xtx_inv = np.linalg.inv(X.T @ X)
    T = len(d0.months)
    for g in ("national", "county"):
        gid = codes[g] * T + mi
        for u in range(len(labels[g])):
            C, idx = unc.unit_covariance(inf, g, u)
            psi = []
            for k in idx:
                m = gid == k
                n = m.sum()
                a = np.where(m, (r - r[m].mean()) / n, 0.0)
                D = X[m].mean(axis=0)
                psi.append(a - (X @ (xtx_inv @ D)) * r)
            psi = np.array(psi)
            P = np.zeros((len(idx), pid.max() + 1))
            for j in range(len(idx)):
                P[j] = np.bincount(pid, weights=psi[j], minlength=pid.max() + 1)
            np.testing.assert_allclose(C, P @ P.T, rtol=1e-8, atol=1e-12)


def test_analytic_person_variance_matches_exact_variance():
    """Mean of the clustered variance over draws = the exact a'MΩMa with Ω = σ_u²ZZ' + σ_e²I."""
    spec, d0, codes, labels, mi, design = _small(n_persons=400, n_months=12, seed=5)
    pid = d0.frame["person_id"].to_numpy()
    X = unc._csr(design.codes, design.n_columns).toarray()
    xtx_inv = np.linalg.inv(X.T @ X)
    T = len(d0.months)
    gid = codes["county"] * T + mi
    win = (Window(d0.months[0].to_period("M"), d0.months[-1].to_period("M")),)
    # exact variance of the county period means (person-month weighted residual means)
    exact = []
    for u in range(len(labels["county"])):
        a = (codes["county"] == u) / (codes["county"] == u).sum()
        c = a - X @ (xtx_inv @ (X.T @ a))
        exact.append(9.0 * np.sum(np.bincount(pid, weights=c) ** 2) + 16.0 * np.sum(c**2))
    est = []
    rng = np.random.default_rng(11)
    for _ in range(150):
        y = d0.f + rng.normal(0, 3, pid.max() + 1)[pid] + rng.normal(0, 4, pid.size)
        _, inf = _influence(d0, design, codes, labels, mi, y)
        t = unc.summarise(inf, win, ["analytic_person"], statistics=("period",))
        est.append(t[t["grouping"] == "county"]["se"].to_numpy() ** 2)
    ratio = np.mean(est, axis=0) / np.array(exact)
    assert np.all(np.abs(ratio - 1) < 0.12), ratio
    assert abs(ratio.mean() - 1) < 0.05, ratio


def test_multiplier_matches_analytic_within_monte_carlo_error():
    spec, d0, codes, labels, mi, design = _small()
    rng = np.random.default_rng(2)
    pid = d0.frame["person_id"].to_numpy()
    y = d0.f + rng.normal(0, 3, pid.max() + 1)[pid] + rng.normal(0, 4, pid.size)
    R = 2000
    _, inf = _influence(d0, design, codes, labels, mi, y, replicates=R, seed=4)
    win = (Window(d0.months[0].to_period("M"), d0.months[-1].to_period("M")),)
    t = unc.summarise(inf, win, ["analytic_person", "multiplier_person"])
    a = t[t["method"] == "analytic_person"]["se"].to_numpy()
    m = t[t["method"] == "multiplier_person"]["se"].to_numpy()
    ratio = (m / a) ** 2
    # one-person cells have no clustered variance (G − 1 = 0): NaN in both, not estimable
    assert np.array_equal(np.isnan(a), np.isnan(m)) and np.isnan(a).mean() < 0.05
    ratio = ratio[~np.isnan(ratio)]
    tol = 4 * np.sqrt(2 / R)
    assert np.all(np.abs(ratio - 1) < tol), (ratio.min(), ratio.max())
    assert abs(ratio.mean() - 1) < 0.02


@pytest.mark.parametrize("outcome", ["atid3", "jobb3"])
def test_fast_methods_agree_with_refit_bootstrap_by_person(tiny_cfg, outcome):
    df, f = unc.read_panel(tiny_cfg, outcome)
    from arbeidsindikator.pipeline import covariate_options

    iv = unc.clustered_intervals(df, outcome, covariate_options(tiny_cfg), seasonal.windows_for(tiny_cfg, outcome),
                                 fit_result=f, groupings=("national", "county"), levels=("person",), replicates=400,
                                 seed=1, refit_replicates=60, statistics=("month", "tertial"))
    t = iv.table
    assert iv.failed_replicates <= 3
    for g in ("national", "county"):
        for st in ("month", "tertial"):
            s = t[(t["grouping"] == g) & (t["statistic"] == st)].groupby("method")["se"].mean()
            # 60 replicates: the SE of one SE is ~9 %; averaged over many cells much less
            assert 0.85 < s["refit_person"] / s["analytic_person"] < 1.15, (g, st, s.to_dict())
            assert 0.92 < s["multiplier_person"] / s["analytic_person"] < 1.08, (g, st, s.to_dict())


def test_points_and_printed_formula_match_the_indicator_tables(tiny_cfg):
    df, f = unc.read_panel(tiny_cfg, "atid3")
    from arbeidsindikator.pipeline import covariate_options, indicator_series

    iv = unc.clustered_intervals(df, "atid3", covariate_options(tiny_cfg), seasonal.windows_for(tiny_cfg, "atid3"),
                                 fit_result=f, groupings=("national", "county"), levels=("person",))
    t = iv.table
    nat = indicator_series(tiny_cfg, "atid3")
    adj = t[(t.grouping == "national") & (t.method == "printed") & (t.statistic == "month_adjusted")]
    np.testing.assert_allclose(adj["indicator"].to_numpy(), nat["indicator"].to_numpy(), atol=1e-10)
    raw = indicator.monthly(df, "atid3", "fylke")
    mine = t[(t.grouping == "county") & (t.statistic == "month")].pivot_table(index=["unit", "period"], columns="method", values="se")
    ref = raw[["se_printed", "se_resid"]].rename_axis(["period", "unit"]).swaplevel().sort_index()
    np.testing.assert_allclose(mine.loc[ref.index, "printed"].to_numpy(), ref["se_printed"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(mine.loc[ref.index, "residual"].to_numpy(), ref["se_resid"].to_numpy(), rtol=1e-9)
    # nested 50 ⊂ 80 ⊂ 95
    a = t[t.method == "analytic_person"]
    assert (a["lower_95"] <= a["lower_80"]).all() and (a["lower_80"] <= a["lower_50"]).all()
    # observation-level methods give monthly statistics only
    iv2 = unc.clustered_intervals(df, "atid3", covariate_options(tiny_cfg), seasonal.windows_for(tiny_cfg, "atid3"),
                                  fit_result=f, groupings=("national",), levels=("observation",))
    assert set(iv2.table.loc[iv2.table.method == "analytic_observation", "statistic"]) == {"month", "month_adjusted"}


def test_adjustment_matrix_is_the_seasonal_adjustment():
    months = pd.date_range("2017-12-01", periods=40, freq="MS")
    s = pd.Series(np.random.default_rng(0).normal(size=40), index=months)
    w = (Window(pd.Period("2017-12", "M"), pd.Period("2019-11", "M")), Window(pd.Period("2021-01", "M"), pd.Period("2021-12", "M")))
    L = seasonal.adjustment_matrix(months, w)
    eff = seasonal.seasonal_effects(s, w)
    np.testing.assert_allclose(L @ s.to_numpy(), (s - eff.reindex(months.month).to_numpy()).to_numpy(), atol=1e-12)
    frame = seasonal.adjust_frame(pd.DataFrame({"month": months, "indicator": s.to_numpy()}), ["indicator"], [], w)
    np.testing.assert_allclose(L @ s.to_numpy(), frame["indicator"].to_numpy(), atol=1e-12)


def test_appendix_c_is_a_90_percent_interval():
    reps = np.random.default_rng(0).permutation(np.arange(1.0, 201.0))[None, :]
    lo, hi = unc.appendix_c_bounds(reps)
    assert (lo[0], hi[0]) == (10.0, 190.0)


def test_rank_deficient_replicate_drops_the_aliased_column():
    """Two rare levels that coincide in a resample: the replicate is fitted, not fatal."""
    n = 400
    rng = np.random.default_rng(0)
    a = np.zeros(n, dtype=int)
    b = np.zeros(n, dtype=int)
    a[[0, 1, 2]] = 1
    b[[0, 1, 3]] = 1
    X = pd.DataFrame({"a": pd.Categorical(a), "b": pd.Categorical(b), "c": pd.Categorical(rng.integers(0, 3, n))})
    y = rng.normal(size=n) + a
    d = build_design(X)
    w = np.ones(n)
    w[[2, 3]] = 0  # now a[1] and b[1] are the same column among the used rows
    with pytest.raises(Exception):
        fit(d, y, family="ols", weights=w)
    res, d2, aliased, _ = unc.fit_replicate(d, y, "ols", "y", w)
    assert aliased and res is not None
    keep = w > 0
    Xd = unc._csr(d.codes, d.n_columns).toarray()[keep]
    beta = np.linalg.lstsq(Xd, y[keep], rcond=None)[0]
    np.testing.assert_allclose(res.predict(d2)[keep], Xd @ beta, atol=1e-8)


def test_refit_bootstrap_survives_small_configuration(tiny_cfg):
    """2 500 persons, probit with rare levels: replicates that alias or separate are counted."""
    df, f = unc.read_panel(tiny_cfg, "jobb12")
    from arbeidsindikator.pipeline import covariate_options

    rb = unc.refit_bootstrap(df, "jobb12", covariate_options(tiny_cfg), replicates=20, seed=3, level="person",
                             groupings=("national",))
    assert rb.curves["national"].shape[1] == 20
    assert rb.failed < 20 and np.isfinite(rb.curves["national"]).any()


def test_separated_dummy_is_not_estimable():
    n = 300
    rng = np.random.default_rng(1)
    g = rng.integers(0, 3, n)
    y = (rng.normal(size=n) > 0).astype(float)
    y[g == 2] = 1.0  # every row at level 2 has y = 1: the MLE is +∞
    d = build_design(pd.DataFrame({"g": pd.Categorical(g)}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = unc.clustered_coefficients(d, y, "probit", np.arange(n))
    assert not t.loc["g[2]", "estimable"] and np.isnan(t.loc["g[2]", "se_cluster"])
    assert t.loc["g[1]", "estimable"] and np.isfinite(t.loc["g[1]", "se_cluster"])


def test_export_columns(tiny_cfg):
    from arbeidsindikator.indicator.export import long_format
    from arbeidsindikator.pipeline import covariate_options

    df, f = unc.read_panel(tiny_cfg, "atid3")
    iv = unc.clustered_intervals(df, "atid3", covariate_options(tiny_cfg), seasonal.windows_for(tiny_cfg, "atid3"),
                                 fit_result=f, groupings=("national", "county"), levels=("person",))
    long = long_format(df, tiny_cfg, outcomes=("atid3",))
    out = iv_views.add_export_intervals(long, iv.table)
    assert len(out) == len(long) and set(iv_views.EXPORT_COLUMNS) <= set(out.columns)
    nat = out[(out.ORG_NIVAA == 1) & (out.NEDBRYTNING == "Alle")]
    assert nat[iv_views.EXPORT_COLUMNS].notna().all().all()
    assert (nat["NEDRE_95_PERSON"] < nat["INDIKATOR"]).all() and (nat["INDIKATOR"] < nat["OVRE_95_PERSON"]).all()
    assert out.loc[out.PRIKKET, iv_views.EXPORT_COLUMNS].isna().all().all()


def test_effective_clusters_and_few_cluster_bounds():
    """G = (Σn_p)²/Σn_p² per key; analytic bounds are point ± t(G−1)·√(G/(G−1))·raw SE."""
    from scipy import stats

    from arbeidsindikator.analyses import influence

    keys = np.array([0, 0, 0, 0, 1, 1, 1, -1])
    persons = np.array([5, 5, 5, 6, 7, 8, 9, 9])
    G, sq = influence._cluster_counts(keys, persons, 2)
    np.testing.assert_array_equal(G, [2, 3])
    np.testing.assert_allclose(sq, [3**2 + 1, 3])
    np.testing.assert_allclose((np.array([4, 3]) ** 2) / sq, [1.6, 3.0])  # unbalanced: fewer than 2
    assert unc.cr1_factor(np.array([1.0]))[0] != unc.cr1_factor(np.array([1.0]))[0]  # NaN: not estimable
    q = unc._t_quantile(0.95, np.array([1.6 - 1, 2.0, 30.0, 1e6]))
    np.testing.assert_allclose(q[1:], [stats.t.ppf(0.975, 2), stats.t.ppf(0.975, 30), 1.959963984540054], rtol=1e-4)
    spec, d0, codes, labels, mi, design = _small()
    rng = np.random.default_rng(8)
    pid = d0.frame["person_id"].to_numpy()
    y = d0.f + rng.normal(0, 3, pid.max() + 1)[pid] + rng.normal(0, 4, pid.size)
    _, inf = _influence(d0, design, codes, labels, mi, y)
    win = (Window(d0.months[0].to_period("M"), d0.months[-1].to_period("M")),)
    t = unc.summarise(inf, win, ["analytic_person"], statistics=("period",))
    gs = inf.groups["office"]
    row = t[t["grouping"] == "office"].iloc[0]
    u = list(labels["office"]).index(row["unit"])
    C, idx = unc.unit_covariance(inf, "office", u)
    n = gs.n[idx]
    raw = float(np.sqrt((n / n.sum()) @ C @ (n / n.sum())))
    Ge = gs.clusters_unit[u]
    assert 1 < Ge <= gs.persons[u]
    np.testing.assert_allclose(row["se"], raw * np.sqrt(Ge / (Ge - 1)), rtol=1e-10)
    np.testing.assert_allclose(row["upper_95"] - row["indicator"], stats.t.ppf(0.975, np.floor(Ge - 1)) * row["se"], rtol=1e-6)


# --- independent cross-checks of the person-clustered (CR1) variance: linearmodels, statsmodels ---


def _crosscheck_data(seed: int = 12, probit: bool = False):
    spec, d0, codes, labels, mi, design = _small(n_persons=250, n_months=10, seed=seed)
    rng = np.random.default_rng(seed)
    pid = d0.frame["person_id"].to_numpy()
    y = d0.f + rng.normal(0, 3, pid.max() + 1)[pid] + rng.normal(0, 4, pid.size)
    if probit:
        y = (y > np.median(y)).astype(float)
    X = unc._csr(design.codes, design.n_columns).toarray()
    return d0, codes, labels, mi, design, pid, y, X


def test_coefficient_covariance_of_the_influence_functions_equals_linearmodels():
    """H⁻¹MH⁻¹ (M = Σ_p S_pS_p') is linearmodels' one-way clustered covariance without correction;
    × G/(G−1)·(N−1)/(N−p) its debiased one and the engine's cluster covariance."""
    from linearmodels.iv import IV2SLS

    d0, codes, labels, mi, design, pid, y, X = _crosscheck_data()
    res, inf = _influence(d0, design, codes, labels, mi, y)
    V = inf.Hinv @ inf.M @ inf.Hinv
    lm = IV2SLS(y, X, None, None).fit(cov_type="clustered", clusters=pid, debiased=False)
    np.testing.assert_allclose(lm.params, res.params.reindex(design.names).to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(V, lm.cov.to_numpy(), rtol=1e-8, atol=1e-14)
    N, p, G = X.shape[0], X.shape[1], np.unique(pid).size
    lm_c = IV2SLS(y, X, None, None).fit(cov_type="clustered", clusters=pid, debiased=True)
    np.testing.assert_allclose(V * G / (G - 1) * (N - 1) / (N - p), lm_c.cov.to_numpy(), rtol=1e-8, atol=1e-14)
    eng = fit(design, y, family="ols", cov_type="cluster", groups=pid)
    np.testing.assert_allclose(eng.cov.to_numpy(), lm_c.cov.to_numpy(), rtol=1e-8, atol=1e-14)


def test_indicator_covariance_equals_linearmodels_stacked_iv():
    """A county's monthly indicators I_t = mean residual of month t, with β, are the exactly
    identified IV estimate of a stacked system: copy A (all rows: x_i, instrument x_i), copy B
    (the county's rows: x_i plus month dummies, instruments the month dummies alone). Its
    person-clustered covariance (linearmodels, no correction) is the unit covariance the
    influence functions give; the book's SE is it × G/(G−1) with G the effective persons."""
    from linearmodels.iv import IV2SLS

    d0, codes, labels, mi, design, pid, y, X = _crosscheck_data()
    res, inf = _influence(d0, design, codes, labels, mi, y)
    T = len(d0.months)
    win = (Window(d0.months[0].to_period("M"), d0.months[-1].to_period("M")),)
    table = unc.summarise(inf, win, ["analytic_person"], statistics=("month", "period"))
    p = X.shape[1]
    for u in range(len(labels["county"])):
        rows = np.flatnonzero(codes["county"] == u)
        months = np.unique(mi[rows])
        E = (mi[rows][:, None] == months[None, :]).astype(float)
        k = months.size
        Xs = np.block([[X, np.zeros((X.shape[0], k))], [X[rows], E]])
        Zs = np.block([[X, np.zeros((X.shape[0], k))], [np.zeros((rows.size, p)), E]])
        ys = np.r_[y, y[rows]]
        lm = IV2SLS(ys, None, Xs, Zs).fit(cov_type="clustered", clusters=np.r_[pid, pid[rows]], debiased=False)
        C, idx = unc.unit_covariance(inf, "county", u)
        np.testing.assert_array_equal(idx, u * T + months)
        np.testing.assert_allclose(lm.params.to_numpy()[p:], inf.groups["county"].indicator[idx], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(C, lm.cov.to_numpy()[p:, p:], rtol=1e-7, atol=1e-13)
        # the corrected SEs of the table: CR1 with the effective persons G = (Σn_p)²/Σn_p²
        t = table[(table.grouping == "county") & (table.unit == labels["county"][u])]
        n_p = np.bincount(pid[rows])
        n_p = n_p[n_p > 0]
        G = n_p.sum() ** 2 / (n_p**2).sum()
        n = E.sum(axis=0)
        var_period = (n / n.sum()) @ lm.cov.to_numpy()[p:, p:] @ (n / n.sum())
        se = t[t.statistic == "period"]["se"].to_numpy()
        np.testing.assert_allclose(se, np.sqrt(var_period * G / (G - 1)), rtol=1e-7)
        Gm = E.sum(axis=0)  # a month: one row per person, so G = persons in the cell
        se_m = t[t.statistic == "month"]["se"].to_numpy()
        np.testing.assert_allclose(se_m, np.sqrt(np.diag(lm.cov.to_numpy()[p:, p:]) * Gm / (Gm - 1)), rtol=1e-7)


def test_probit_influence_equals_statsmodels_and_a_numerical_delta_method():
    """Probit: H⁻¹MH⁻¹ equals statsmodels' clustered covariance without correction; a county's
    indicator covariance equals Σ_p ψ_p ψ_p' with ψ_p = a_p − ∇I' H⁻¹ S_p built from statsmodels'
    per-row scores and Hessian and a finite-difference gradient of I(β) (the delta method done
    independently of the analytic φ(η)x derivative)."""
    import statsmodels.api as sm
    from scipy.special import ndtr

    d0, codes, labels, mi, design, pid, y, X = _crosscheck_data(seed=21, probit=True)
    res = fit(design, y, family="probit")
    layout, chunks = unc.design_chunks(design, y, res, pid, mi, d0.months, codes, labels, outcome="simp",
                                       family="probit", level="person")
    inf = unc.accumulate(layout, res, chunks)
    mod = sm.Probit(y, X)
    sf = mod.fit(disp=0, tol=1e-12, cov_type="cluster", cov_kwds={"groups": pid, "use_correction": False})
    beta = sf.params
    np.testing.assert_allclose(beta, res.params.reindex(design.names).to_numpy(), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(inf.Hinv @ inf.M @ inf.Hinv, sf.cov_params(), rtol=1e-5, atol=1e-12)
    Hinv = np.linalg.inv(-mod.hessian(beta))
    _, pc = np.unique(pid, return_inverse=True)
    S = np.stack([np.bincount(pc, weights=c) for c in mod.score_obs(beta).T], axis=1)  # persons × p
    T = len(d0.months)
    for u in range(len(labels["county"])):
        C, idx = unc.unit_covariance(inf, "county", u)
        psi = []
        for cell in idx:
            m = (codes["county"] == u) & (mi == cell - u * T)
            n = m.sum()

            def ind(b, m=m):  # type: ignore[no-untyped-def]
                return np.mean(y[m] - ndtr(X[m] @ b))

            h = 1e-6
            grad = np.array([(ind(beta + h * e) - ind(beta - h * e)) / (2 * h) for e in np.eye(X.shape[1])])
            r = y - ndtr(X @ beta)
            a = np.bincount(pc, weights=np.where(m, (r - ind(beta)) / n, 0.0), minlength=pc.max() + 1)
            psi.append(a + S @ (Hinv @ grad))
        psi = np.array(psi)
        np.testing.assert_allclose(C, psi @ psi.T, rtol=1e-5, atol=1e-12)


def test_book_refit_bootstrap_runs_for_every_outcome_on_a_bounded_subsample(tiny_cfg):
    """Chapter 06's refit bootstrap covers all four outcomes; above max_refit_rows it runs on a
    person subsample, compared with the analytic intervals of that subsample at both levels."""
    from arbeidsindikator.spec import OUTCOMES

    res = unc.book_intervals(tiny_cfg, max_refit_rows=12_000, refit_outcomes=tuple(OUTCOMES))
    summ = iv_views.refit_summary(res.table, res.diagnostics)
    assert list(summ["outcome"]) == list(OUTCOMES)
    assert iv_views.refit_outcomes_text(summ) == ", ".join(OUTCOMES)
    assert iv_views.refit_cost_text(summ).count("by probit") == 2
    assert not any(c.startswith("s_per_replicate") for c in iv_views.refit_table(summ).columns)  # deterministic
    assert (summ["sample"] == "person subsample").all()
    assert (summ["person_months"] < 0.5 * res.diagnostics["rows"]).all()
    assert (summ["replicates"] == tiny_cfg.bootstrap_replicates).all()
    for lv in ("observation", "person"):
        r = summ[f"ratio refit/analytic ({lv})"]
        assert r.between(0.6, 1.6).all(), summ.to_dict()
        assert (summ[f"s_per_replicate_{lv}"] > 0).all()
    methods = set(res.table["method"])
    assert {"refit_person_subsample", "refit_observation_subsample", "analytic_person_subsample",
            "analytic_observation_subsample"} <= methods
