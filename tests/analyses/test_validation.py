"""The coverage study: person-clustered intervals hold their nominal level."""

from __future__ import annotations

import pytest

from arbeidsindikator.analyses import validation as val


@pytest.mark.slow
def test_person_clustered_intervals_cover_95_percent():
    spec = val.SimSpec(n_persons=600, n_months=24, replications=200, multiplier_replicates=0, refit_replications=0,
                       levels=("person",), seed=7)
    out = val.run_study(spec)
    cov = out["coverage"]
    a = cov[cov["method"] == "analytic_person"]
    pooled = (a["coverage_95"] * a["cells"]).sum() / a["cells"].sum()
    assert 0.93 <= pooled <= 0.97, pooled
    # the printed formula under-covers the multi-month means of units
    p = cov[(cov["method"] == "printed") & (cov["statistic"] == "period") & (cov["grouping"] == "county")]
    assert p["coverage_95"].iloc[0] < 0.9
    rec = out["recovery"].set_index(["grouping", "kind"])
    assert rec.loc[("county", "raw"), "correlation"] > 0.8
    assert rec.loc[("office", "shrunken"), "rmse"] <= rec.loc[("office", "raw"), "rmse"]
