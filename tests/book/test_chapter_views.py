"""The chapters' recipe modules (book/result_views, regression_view, alternatives_view, changes,
profiling_view) give what the chapters used to compose themselves (issue 10)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from arbeidsindikator import pipeline
from arbeidsindikator.book import changes, profiling_view, regression_view, result_views
from arbeidsindikator.indicator import indicator


def test_county_view_is_the_wide_tables_and_period_means(tiny_cfg):
    v = result_views.county_view(tiny_cfg)
    county = pipeline.indicator_series(tiny_cfg, "atid3", "fylke")
    for col in ("actual", "indicator"):
        ref = indicator.wide(county, col, "fylke", min_count=tiny_cfg.min_cell_count)
        pd.testing.assert_frame_equal(v.wide[col], ref)
        # small cells are blank, not dropped
        small = county["n"].unstack("fylke") < tiny_cfg.min_cell_count
        assert v.wide[col][small].isna().all().all()
    means = indicator.period_means(pipeline.indicator_series(tiny_cfg, "atid3", "fylke", adjust=False), "fylke")
    pd.testing.assert_frame_equal(v.means, means)
    assert v.glue["res_county_best"] == means["indicator"].idxmax()
    assert v.glue["res_county_worst_v"].value == means["indicator"].min()


def test_programme_view_pairs_and_ranking(tiny_cfg):
    v = result_views.programme_view(tiny_cfg)
    j12 = pipeline.indicator_series(tiny_cfg, "jobb12", "tiltak")
    ref = indicator.wide(j12, "indicator", "tiltak", min_count=tiny_cfg.min_cell_count)
    for pair, got in zip(indicator.PROGRAMME_PAIRS, v.pairs):
        assert got["label"] == " vs ".join(pair)
        pd.testing.assert_frame_equal(got["jobb12"], ref.reindex(columns=list(pair)))
    assert v.glue["res_prog_first"] == v.name == indicator.PROGRAMME_TWO_COUNTIES[0]
    assert list(v.two_counties.columns) == list(indicator.PROGRAMME_TWO_COUNTIES[1])
    assert "ingen" != v.glue["res_prog_top_ind"]


def test_national_and_measures_views(tiny_cfg):
    nat = result_views.national_view(tiny_cfg)
    a3 = pipeline.indicator_series(tiny_cfg, "atid3")
    pd.testing.assert_frame_equal(nat.series["atid3"], a3)
    assert nat.glue["res_a3_max"].value == a3["indicator"].max() and nat.glue["res_a3_max"].decimals == 2
    b = result_views.band(a3)
    np.testing.assert_array_equal(b["lower"], a3["lower_resid"])
    m = result_views.measures_view(nat)
    pd.testing.assert_frame_equal(m.pct, indicator.percent_deviation_all(nat.series))
    tert = indicator.tertial_means(a3["indicator"])
    # the tertial column holds each complete tertial's mean in its four months
    t = m.tertial_atid3["tertial mean"].dropna()
    assert len(t) == 4 * len(tert) and np.allclose(t.groupby(np.arange(len(t)) // 4).first().to_numpy(), tert.to_numpy())


def test_convergence_sentence_names_the_failed_models():
    ok = pd.DataFrame({"outcome": ["atid3", "jobb3"], "converged": [True, True]})
    bad = pd.DataFrame({"outcome": ["atid3", "jobb3"], "converged": [True, False]})
    assert regression_view.convergence_glue(ok)["reg_all_converged"] == "all four models converged"
    assert regression_view.convergence_glue(bad)["reg_all_converged"] == "not every model converged: jobb3"


def _report() -> SimpleNamespace:
    coefficients = pd.DataFrame({"variable": list("abcde"), "status": ["both", "both", "new", "both", "both"],
                                 "z": [0.5, -3.0, 9.0, 2.0, np.nan]})
    ranks = pd.DataFrame({"level": ["county", "county", "office", "county"], "ORG_STED": ["x", "y", "z", "w"],
                          "rank_change": [1.0, -4.0, 7.0, np.nan]})
    summary = {"coefficients_compared": 4, "coefficients_beyond_sampling_error": 2, "values_compared": 10,
               "values_revised": 3, "national_max_abs_revision": 0.01234, "ranks_changed": 2, "verdicts_changed": 0}
    return SimpleNamespace(coefficients=coefficients, ranks=ranks, summary=summary, old_key="2024-03_ab",
                           months={"added": ["2024-04", "2024-06"], "dropped": [], "common": ["2024-01"]})


def test_change_views():
    rep = _report()
    assert list(changes.largest_coefficient_changes(rep, 2)["variable"]) == ["b", "d"]  # |z| order, status both
    assert list(changes.county_rank_movers(rep, 5)["ORG_STED"]) == ["y", "x"]  # counties only, |change| order
    text = changes.summary_text(rep)
    assert "**2 month(s) added** (2024-04–2024-06), **0 dropped** (none), 1 in common" in text
    assert "revision is 0.0123." in text


def test_per_month_formats():
    t = pd.DataFrame(columns=["sorting", "noe_per_month", "share_to_noe", "stable_to_noe_per_month"])
    assert profiling_view.per_month_formats(t) == {"noe_per_month": 0, "stable_to_noe_per_month": 0}


def test_uncertainty_page_glue_comes_from_its_tables(tiny_cfg):
    from arbeidsindikator.analyses import interval_views, uncertainty
    from arbeidsindikator.book import uncertainty_view

    p = uncertainty_view.page(tiny_cfg)
    res = uncertainty.book_intervals(tiny_cfg)
    pd.testing.assert_frame_equal(p.table, res.table)
    pd.testing.assert_frame_equal(p.comparison, interval_views.method_comparison(res.table))
    nat = p.comparison.set_index(["outcome", "statistic"])
    assert p.glue["unc_nat_printed_ratio"].value == nat.loc[("atid3", "month_adjusted"), "ratio printed/analytic_person"]
    cov = p.coverage.set_index(["grouping", "statistic", "method"])
    g = p.glue["unc_cov_person_cty_period"]
    assert g.pct and g.value == cov.loc[("county", "period", "analytic_person"), "coverage_95"]
    assert p.glue["unc_n_offices"] == int((p.view.outcome == "atid12").sum())
    assert p.glue["unc_n_differ"] == len(p.differ)
    assert set(p.funnels) == set(uncertainty_view.OFFICE_OUTCOMES)
    assert set(p.county_funnels) == set(uncertainty_view.COUNTY_OUTCOMES)


def test_refit_sample_text_names_the_sample():
    from arbeidsindikator.book.uncertainty_view import refit_sample_text

    sub = pd.DataFrame({"sample": ["person subsample"] * 2, "persons": [1000, 1200], "person_months": [15000, 17000]})
    text = refit_sample_text(sub, 2_000_000)
    assert "1,100 persons" in text and "16,000 person-months" in text and "2,000,000" in text
    assert refit_sample_text(sub.assign(sample="whole panel"), 10) == "the whole panel"
    assert "see the table" in refit_sample_text(sub.assign(sample=["whole panel", "person subsample"]), 10)


def test_population_outcomes_and_intro_glue(tiny_cfg):
    from arbeidsindikator.book import recipes

    s = recipes.population_summary(tiny_cfg)
    g = recipes.population_glue(tiny_cfg)
    assert g["pop_rows"] == s["person_months"] and g["pop_persons"] == s["persons"]
    assert g["pop_mean"].value == s["mean_per_month"] and g["pop_mean"].decimals == 0
    shares = recipes.main_group_table(tiny_cfg)["share_of_person_months"]
    assert g["pop_share_helt"].pct and g["pop_share_helt"].value == shares["helt_ledige"]
    season = recipes.seasonal_profile(tiny_cfg)
    assert season[g["pop_month_max"]] == season.max() and season[g["pop_month_min"]] == season.min()

    o = recipes.outcomes_glue(tiny_cfg)
    means = recipes.outcome_monthly_means(tiny_cfg)
    overall = recipes.outcome_overall_means(tiny_cfg)
    assert o["out_atid3_first"].value == means["atid3"].iloc[0] and not o["out_atid3_first"].pct
    assert o["out_jobb12_first"].pct and o["out_jobb12_first"].decimals == 0
    assert o["out_jobb3_mean"].value == overall["jobb3"] * 100 and o["out_atid12_mean"].value == overall["atid12"]
    obs = recipes.observability_summary(tiny_cfg).set_index("outcome")
    assert o["out_na12"] == obs.loc["atid12", "rows not yet observable"] and o["out_last3"] == obs.loc["atid3", "last month observed"]

    i = recipes.intro_glue(tiny_cfg)
    assert i["intro_rows"] == s["person_months"] and i["intro_fp"] == recipes.intro(tiny_cfg)["fingerprint"]


def test_national_adjusted_and_last_month_rows():
    from arbeidsindikator.book.uncertainty_view import last_month, national_adjusted

    months = pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-01"])
    t = pd.DataFrame({"outcome": ["atid3"] * 3 + ["jobb3"] * 3, "grouping": "national", "statistic": "month_adjusted",
                      "period": list(months) * 2, "indicator": [1.0, 2.0, 3.0, 0.01, 0.02, np.nan],
                      "se": 0.1, "lower_95": 0.0, "upper_95": 1.0})
    t = pd.concat([t, t.assign(grouping="county")], ignore_index=True)
    nat = national_adjusted(t)
    assert len(nat) == 6 and list(nat.index) == list(range(6))
    assert nat.loc[nat.outcome == "jobb3", "indicator"].iloc[0] == 1.0  # percentage points
    last = last_month(nat)
    # each outcome's last month with an indicator: March for atid3, February for jobb3 (March is empty)
    assert dict(zip(last.outcome, last.period)) == {"atid3": "2020-03", "jobb3": "2020-02"}
