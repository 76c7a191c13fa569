"""The chapter's alternatives from compact codes read in chunks equal the in-memory path.

The reference below is the in-memory implementation the chunked one replaced (the whole store
frame in pandas, ``build_covariates`` on it, an int32 design): every table chapter 05 shows is
compared at 1e-10, with the store forced into chunks of at most 701 person-months.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arbeidsindikator import pipeline
from arbeidsindikator.analyses import alternatives as alt
from arbeidsindikator.estimation import build_design, fit
from arbeidsindikator.indicator import cube as cb
from arbeidsindikator.indicator import indicator, seasonal
from arbeidsindikator.panel.covariates import CovariateOptions, build_covariates, horizon_of
from arbeidsindikator.spec import FAMILY

TOL = dict(rtol=1e-10, atol=1e-10)

pytestmark = pytest.mark.slow  # builds its own chunked store of the tiny panel (~1-3 min)

_COLUMNS = ["person_id", "month", "hovedgruppe", "fylke", "alder", "kvinne", "gift", "barn", "landgruppe", "botid",
            "hoyere_utd", "lonn_desil", "pgi_desil", "nav_historikk", "nav_varighet", "ufor", "permittert",
            "helse_ytelse", "arbeid_ytelse", "timer_t", "innstrom3", "innstrom12"]


# --- the in-memory reference (the implementation before issue 11) -----------------------------

def _ref_fit(panel, outcome, options, *, fit_rows=None, extra=None, family=None):
    X = build_covariates(panel, horizon_of(outcome), options)
    for name, col in (extra or {}).items():
        X[name] = col
    y = panel[outcome].to_numpy(dtype=float).copy()
    if fit_rows is not None:
        y[~fit_rows] = np.nan
        X, _ = alt.pool_unseen(X, fit_rows & ~np.isnan(panel[outcome].to_numpy(dtype=float)))
    design = build_design(X, mask=~np.isnan(y))
    res = fit(design, y, family=family or FAMILY[outcome], outcome=outcome)
    return res.predict(design, unseen="nan")


def _ref_frame(cfg, outcome):
    # every outcome of the horizon: the pooling rule counts the probit outcome's variation too
    same = [o for o in ("atid3", "atid12", "jobb3", "jobb12") if horizon_of(o) == horizon_of(outcome)]
    return pipeline.store_frame(cfg, [*_COLUMNS, *same, f"exp_{outcome}"], memo=False)


def _ref_national(df, outcome, expected, cfg, by=None, by_values=None):
    t = cb.monthly_from_arrays(df["month"], df[outcome].to_numpy(dtype=float), np.asarray(expected, dtype=float),
                               outcome, None if by is None else (df[by] if by_values is None else by_values), by)
    return seasonal.adjust_table(t, seasonal.windows_for(cfg, outcome), group_levels=[by] if by else [])


def _ref_compare(cfg, df, outcome, variants):
    cols = {"main model": pipeline.indicator_series(cfg, outcome)["indicator"]}
    for name, exp in variants.items():
        cols[name] = _ref_national(df, outcome, exp, cfg)["indicator"]
    return pd.DataFrame(cols)


def _assert_frames(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=False, check_freq=False, **TOL)


# --- the comparisons ----------------------------------------------------------------------------

def test_codes_equal_build_covariates_on_the_whole_frame(chunked_cfg, tiny_cfg):
    df = _ref_frame(tiny_cfg, "atid3")
    c = alt.coded(chunked_cfg, 3)
    for opts in (CovariateOptions(), CovariateOptions(61, False), CovariateOptions(2)):
        ref = build_covariates(df, 3, opts).reset_index(drop=True)
        pd.testing.assert_frame_equal(c.covariates(opts), ref)
    rows = (df["nav_varighet"] == 0).to_numpy()
    ref = build_covariates(df[rows], 3, CovariateOptions(2)).reset_index(drop=True)
    pd.testing.assert_frame_equal(c.covariates(CovariateOptions(2), rows=rows).reset_index(drop=True), ref)


@pytest.mark.parametrize("outcome", ["atid3", "atid12"])
def test_covid_out_of_sample(chunked_cfg, tiny_cfg, outcome):
    df = _ref_frame(tiny_cfg, outcome)
    fit_rows = ~np.asarray(tiny_cfg.covid_window.contains(pd.DatetimeIndex(df["month"]).to_period("M")))
    ref = _ref_compare(tiny_cfg, df, outcome, {"COVID stocks left out of estimation":
                                               _ref_fit(df, outcome, pipeline.covariate_options(tiny_cfg), fit_rows=fit_rows)})
    got, v = alt.covid_out_of_sample(chunked_cfg, outcome)
    _assert_frames(got, ref)
    assert v.n_fit == int((fit_rows & df[outcome].notna().to_numpy()).sum())


@pytest.mark.parametrize("outcome", ["atid3", "atid12"])
def test_calendar_time(chunked_cfg, tiny_cfg, outcome):
    df = _ref_frame(tiny_cfg, outcome)
    m = pd.DatetimeIndex(df["month"]).strftime("%Y-%m")
    exp = _ref_fit(df, outcome, pipeline.covariate_options(tiny_cfg), extra={"maaned": pd.Categorical(m, categories=sorted(set(m)))})
    k = tiny_cfg.min_cell_count
    ref_time = indicator.wide(_ref_national(df, outcome, exp, tiny_cfg, by="fylke"), "indicator", "fylke", k)
    ref_main = indicator.wide(pipeline.indicator_series(tiny_cfg, outcome, "fylke"), "indicator", "fylke", k)
    main, with_time = alt.calendar_time(chunked_cfg, outcome)
    _assert_frames(main, ref_main)
    _assert_frames(with_time, ref_time)


@pytest.mark.parametrize("outcome", ["atid3", "jobb12"])
def test_separate_by_main_group(chunked_cfg, tiny_cfg, outcome):
    df = _ref_frame(tiny_cfg, outcome)
    group = df["hovedgruppe"].astype(str).map(alt.MAIN_GROUP_SPLIT)
    exp = np.full(len(df), np.nan)
    for g in sorted(group.unique()):
        rows = (group == g).to_numpy()
        exp[rows] = _ref_fit(df[rows], outcome, pipeline.covariate_options(tiny_cfg))
    g = group.to_numpy()
    common = _ref_national(df, outcome, df[f"exp_{outcome}"].to_numpy(), tiny_cfg, by="split_group", by_values=g)
    separate = _ref_national(df, outcome, exp, tiny_cfg, by="split_group", by_values=g)
    ref = indicator.wide(common, "indicator", "split_group").add_suffix(" (common)").join(
        indicator.wide(separate, "indicator", "split_group").add_suffix(" (separate)"))
    _assert_frames(alt.separate_by_main_group(chunked_cfg, outcome), ref)


def test_lpm_vs_probit(chunked_cfg, tiny_cfg):
    df = _ref_frame(tiny_cfg, "jobb3")
    ref = _ref_compare(tiny_cfg, df, "jobb3", {"linear probability model":
                                              _ref_fit(df, "jobb3", pipeline.covariate_options(tiny_cfg), family="lpm")})
    got, info = alt.lpm_vs_probit(chunked_cfg, "jobb3")
    _assert_frames(got, ref)
    assert info["max_abs_diff_pp"] == pytest.approx(100 * (ref.iloc[:, 0] - ref.iloc[:, 1]).abs().max(), abs=1e-8)
    assert info["lpm_s"] > 0 and info["probit_s"] > 0


def test_specification_variants(chunked_cfg, tiny_cfg):
    df = _ref_frame(tiny_cfg, "atid3")
    base = pipeline.covariate_options(tiny_cfg)
    ref = _ref_compare(tiny_cfg, df, "atid3", {
        "without hours at t": _ref_fit(df, "atid3", CovariateOptions(base.duration_categories, False)),
        "61 duration categories": _ref_fit(df, "atid3", CovariateOptions(61, base.include_hours_at_t)),
    })
    _assert_frames(alt.specification_variants(chunked_cfg, "atid3"), ref)


def test_entry_cohorts(chunked_cfg, tiny_cfg):
    df = _ref_frame(tiny_cfg, "atid3")
    entrants = df[(df["nav_varighet"] == 0).to_numpy()]
    exp = _ref_fit(entrants, "atid3", CovariateOptions(2, True))
    ref = pd.DataFrame({"main model (all person-months)": pipeline.indicator_series(tiny_cfg, "atid3")["indicator"],
                        "entry cohorts (first month of spell)": _ref_national(entrants, "atid3", exp, tiny_cfg)["indicator"]})
    _assert_frames(alt.entry_cohorts(chunked_cfg, "atid3"), ref)


def test_spell_gap(chunked_cfg, tiny_cfg):
    other = 2 if tiny_cfg.gap_months == 3 else 3
    folder = Path(str(pipeline.panel_meta(tiny_cfg).report["extracts"]))
    alt_cfg = dataclasses.replace(tiny_cfg, gap_months=other, source="extracts", data_path=folder)
    panel = pipeline.load_panel(alt_cfg).panel  # the whole rebuilt panel, validated (the reference)
    pipeline.forget(alt_cfg)
    exp = _ref_fit(panel, "atid3", pipeline.covariate_options(alt_cfg))
    ref_curve = _ref_national(panel, "atid3", exp, alt_cfg)["indicator"]
    d_main = _ref_frame(tiny_cfg, "atid3")["nav_varighet"].to_numpy(float)
    d_alt = panel["nav_varighet"].to_numpy(float)
    curves, summary = alt.spell_gap(chunked_cfg, "atid3")
    pd.testing.assert_series_equal(curves.iloc[:, 1], ref_curve, check_names=False, check_exact=False, check_freq=False, **TOL)
    assert summary["share_rows_changed"] == pytest.approx(float((d_main != d_alt).mean()), abs=1e-15)
    assert summary["mean_duration_other"] == pytest.approx(float(d_alt.mean()), rel=1e-12)
    assert summary["mean_duration_main"] == pytest.approx(float(d_main.mean()), rel=1e-12)
    assert 0 < summary["share_rows_changed"] < 1
