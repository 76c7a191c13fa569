"""The synthetic raw-extract generator (issue 3 (b)).

Fast tests: determinism (same seed -> byte-identical files), validity of the generated extracts
and panel, the planted truth, and the configuration entry point. Slow tests (marker ``slow``:
run by ``make test`` and CI, left out by ``make test-fast``) generate a larger population once and check the calibration against
appendix A tables 1–3 (printing the comparison), the table-4 pattern of the main OLS model on
atid3, the COVID jump, the seasonal pattern and the programme differences.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arbeidsindikator.synthetic import calibrate as cal
from arbeidsindikator.synthetic import generator as se
from arbeidsindikator.synthetic import simulate, targets, world
from arbeidsindikator.config import load_config
from arbeidsindikator.data.contract import validate_panel
from arbeidsindikator.data.extracts import validate_extracts
from arbeidsindikator.panel.build import PanelOptions, build_panel
from arbeidsindikator.pipeline import panel_from_config

REPO = Path(__file__).resolve().parents[2]
# slow tests: enough persons for 5 % / 2 pp checks by county (at 100 000 persons the sampling
# error of a small county's mean outcome is about half the tolerance)
BIG_PERSONS = 200_000
BIG_SEED = 424_242  # neither the structural calibration's seed nor the tilt's


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "_COMPLETE.json"}


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    a = se.generate_extracts(tmp_path / "a", n_persons=1500, seed=11)
    b = se.generate_extracts(tmp_path / "b", n_persons=1500, seed=11)
    c = se.generate_extracts(tmp_path / "c", n_persons=1500, seed=12)
    da, db, dc = _digest(tmp_path / "a"), _digest(tmp_path / "b"), _digest(tmp_path / "c")
    assert set(da) >= {"personer.parquet", "status.parquet", "timer.parquet", "lonn.parquet", "pgi.parquet",
                       "kontor.parquet", "ba_region.parquet", "grunnbelop.csv", "manifest.json",
                       "truth/by_fylke.parquet", "truth/parameters.json"}
    assert da == db
    assert da["status.parquet"] != dc["status.parquet"]
    assert a["rows"] == b["rows"]
    assert not list((tmp_path / "a").glob(".*.tmp"))  # written atomically: no temporary files left


def test_worker_processes_give_the_same_files(tmp_path: Path) -> None:
    """Chunks of candidates depend only on (seed, chunk): two processes write what one writes."""
    one = se.generate_extracts(tmp_path / "one", n_persons=1500, seed=21, chunk_persons=1000, workers=1)
    two = se.generate_extracts(tmp_path / "two", n_persons=1500, seed=21, chunk_persons=1000, workers=2)
    assert one["candidates"] == two["candidates"] > 2000  # several chunks of candidates
    assert _digest(tmp_path / "one") == _digest(tmp_path / "two")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, dict]:
    folder = tmp_path_factory.mktemp("small")
    se.generate_extracts(folder, n_persons=4000, seed=5, chunk_persons=1500)  # many chunks of candidates (in worker processes)
    with validate_extracts(folder) as ex:
        panel, rep = build_panel(ex)
    return folder, panel, rep


def test_generated_extracts_validate_and_give_a_valid_panel(small: tuple[Path, pd.DataFrame, dict]) -> None:
    folder, panel, rep = small
    out = validate_panel(panel, period=(pd.Period("2017-12", "M"), pd.Period("2024-06", "M")))
    assert len(out) == len(panel)
    # every generated person is in the population at least once in the period
    assert rep["persons"]["in_personer"] == 4000 == rep["persons"]["in_panel"]
    assert rep["rows"]["status_in_period"] == len(panel) + rep["excluded_total"]
    assert rep["excluded"]["varig_tilpasset"] > 0  # the generator plants varig tilpasset months
    ids = pd.read_parquet(folder / "personer.parquet")["person_id"]
    assert ids.is_unique and ids.min() == 1 and ids.max() == 4000
    # the last 3 / 12 months have no outcome yet (hours observed through the period's end)
    assert panel.loc[panel["month"] > "2024-03-01", "atid3"].isna().all()
    assert panel.loc[panel["month"] <= "2024-03-01", "atid3"].notna().all()
    assert panel.loc[panel["month"] > "2023-06-01", "jobb12"].isna().all()


def test_planted_truth(small: tuple[Path, pd.DataFrame, dict]) -> None:
    folder, panel, _ = small
    truth = se.load_truth(folder)
    assert {"by_fylke", "by_nav_kontor", "by_tiltak", "by_month", "by_fylke_month", "parameters"} <= set(truth)
    by_f = truth["by_fylke"].set_index("fylke")
    assert by_f["n_rows"].sum() == len(panel)  # truth is aggregated over exactly the panel rows
    # the realised effect follows the planted county parameter (μ units ≈ weekly hours)
    planted = pd.Series(truth["parameters"]["county_effect"])
    assert np.corrcoef(planted.reindex(by_f.index), by_f["atid3_effect"])[0, 1] > 0.7
    tt = truth["by_tiltak"].set_index("tiltak")
    # programmes planted with a positive contribution beat AMO (planted −0.5). Not the wage
    # subsidy: its participants hold the subsidised job, so its planted μ acts only once it ends
    # and its realised effect is small and noisy at this size
    for prog in ("Oppfølging", "Arbeid med støtte"):
        assert tt.loc[prog, "atid12_effect"] > tt.loc["AMO-kurs", "atid12_effect"], prog
    assert truth["nav_time_effect"].index[0] == pd.Period("2017-12", "M")


def test_panel_from_config_synthetic_and_extracts(tmp_path: Path) -> None:
    cfg = dataclasses.replace(load_config(REPO / "tests" / "configs" / "tiny.yml"), cache_dir=tmp_path / "cache")
    panel, rep = panel_from_config(cfg)
    folder = Path(rep["extracts"])
    assert folder == tmp_path / "cache" / f"extracts-{cfg.fingerprint()}"
    assert rep["persons"]["in_panel"] == cfg.n_persons and Path(rep["truth"]).is_dir()
    assert set(rep["seconds_by_stage"]) == {"generate", "validate", "build"}
    assert len(rep["extracts_fingerprint"]) == 16 and rep["rows"]["panel"] == len(panel)
    validate_panel(panel, period=(cfg.start, cfg.end))
    stamp = (folder / "_COMPLETE.json").stat().st_mtime_ns
    panel2, rep2 = panel_from_config(cfg)  # complete extracts are reused, not regenerated
    assert (folder / "_COMPLETE.json").stat().st_mtime_ns == stamp
    pd.testing.assert_frame_equal(panel, panel2)
    # the same folder as an analyst's extracts gives the same panel
    cfg_x = dataclasses.replace(cfg, source="extracts", data_path=folder)
    panel3, rep3 = panel_from_config(cfg_x)
    pd.testing.assert_frame_equal(panel, panel3)
    assert rep3["truth"] is None and rep3["extracts_fingerprint"] == rep["extracts_fingerprint"]
    # the spell-gap parameter reaches the builder
    p2, _ = panel_from_config(dataclasses.replace(cfg_x, gap_months=2))
    assert (p2["nav_varighet"] <= panel["nav_varighet"]).all() and (p2["nav_varighet"] < panel["nav_varighet"]).any()


def test_generator_side_panel_columns_equal_the_built_panel() -> None:
    """The tilt scores candidates from the generator's own arrays (before anything is written):
    those columns must be exactly what the panel builder makes of the written extracts."""
    prm = {"tilt": None, "burn_in": False}  # (with burn-in, candidates without a period row are skipped)
    panel, flags, _ = cal.pilot(prm, 2500, 5)
    start, end = pd.Period("2017-12", "M"), pd.Period("2024-06", "M")
    su = world._setup(5, start, end, end, {**se.CALIBRATED, **prm})
    ch = simulate._simulate(su, 0, 1, 2500, int(round(se.CALIBRATED["covid_share"] * 2500)))
    r, c, res = simulate._chunk_rows(su, ch)
    gp, gf = simulate._chunk_panel(su, ch, r, c, res["actual"])
    assert len(gp) == len(panel)
    key = pd.Series(ch.pid[r] * 10_000 + su.start + c)
    pkey = panel["person_id"] * 10_000 + panel["month"].dt.year * 12 + panel["month"].dt.month - 1
    pos = pd.Index(key).get_indexer(pkey)
    assert (pos >= 0).all()
    gp, gf = gp.iloc[pos].reset_index(drop=True), gf.iloc[pos].reset_index(drop=True)
    for col in gp.columns:
        a, b = panel[col], gp[col]
        if isinstance(b.dtype, pd.CategoricalDtype):
            assert (a.astype(str).to_numpy() == b.astype(str).to_numpy()).all(), col
        else:
            np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), atol=1e-9, err_msg=col)
    for col in gf.columns:
        assert (flags[col].to_numpy(bool) == gf[col].to_numpy(bool)).all(), col
    # and so the per-person calibration moments agree too
    keys, Z1, N1 = targets._person_moments(panel, flags, panel["person_id"].to_numpy() - 1, 2500)
    _, Z2, N2 = targets._person_moments(gp, gf, panel["person_id"].to_numpy() - 1, 2500, keys=keys)
    np.testing.assert_allclose(Z1, Z2, atol=1e-9)
    np.testing.assert_array_equal(N1, N2)
    # the moments reproduce the comparison table: mean gap = sum Z / sum N
    ct = targets.calibration_table(panel, flags, include_subgroups=False).set_index(["table", "measure", "group"])
    for k, key in enumerate(keys):
        row = ct.loc[tuple(key.split("|"))]
        gap = Z1[:, k].sum() / N1[:, k].sum()
        assert 100 * gap == pytest.approx(row["diff"], abs=1e-6), key


def test_tilt_keeps_exactly_n_persons_and_moves_the_mix(tmp_path: Path) -> None:
    tilted = se.generate_extracts(tmp_path / "t", n_persons=3000, seed=9, truth=False)
    assert tilted["candidates"] > 3000  # candidates were rejected
    ids = pd.read_parquet(tmp_path / "t" / "personer.parquet")["person_id"]
    assert len(ids) == 3000 and ids.is_unique and ids.min() == 1 and ids.max() == 3000
    plain = se.generate_extracts(tmp_path / "p", n_persons=3000, seed=9, truth=False, params={"tilt": None})
    # untilted, only candidates without a row in the period are skipped (burn-in)
    assert 3000 <= plain["candidates"] < tilted["candidates"]
    assert tilted["rows"]["status"] != plain["rows"]["status"]


def test_default_size_calibration_prints_and_checks_population_shares(tmp_path: Path) -> None:
    """At the default size (12 000 persons) the population structure is checked; the full
    table (outcomes by county and service group) needs the slow test's larger sample."""
    panel, flags, _ = cal.pilot(None, 12_000, 20250401)
    ct = targets.calibration_table(panel, flags, include_subgroups=False)
    with pd.option_context("display.max_rows", 500, "display.width", 200):
        print(ct[ct["table"].isin(["1", "2"])].round(3).to_string())
    sel = ct[ct["measure"].eq("population_share") | (ct["group"].eq("all") & ct["table"].isin(["1", "2"]))]
    sel = sel[sel["assert"]]
    bad = sel[~sel["ok"]]
    assert bad.empty, bad.to_string()


# ---------------------------------------------------------------------------------------------
# slow: a larger population, generated once
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big() -> tuple[pd.DataFrame, pd.DataFrame]:
    """200 000 persons (about 3.4 M person-months), generated once: ~3 minutes. ``make test``
    (and CI) runs these; ``make test-fast`` leaves them out (marker ``slow``)."""
    panel, flags, _ = cal.pilot(None, BIG_PERSONS, BIG_SEED)
    return panel, flags


@pytest.mark.slow
def test_calibration_against_published_tables(big: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    panel, flags = big
    ct = targets.calibration_table(panel, flags)
    with pd.option_context("display.max_rows", 1000, "display.width", 200):
        print(ct.round(3).to_string())
    checked = ct[ct["assert"]]
    bad = checked[~checked["ok"]]
    print(f"{len(checked) - len(bad)} of {len(checked)} checked figures within tolerance")
    assert bad.empty, "outside tolerance:\n" + bad.to_string()


@pytest.mark.slow
def test_table4_pattern_of_the_main_ols_model(big: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    panel, _ = big
    fv = targets.fitted_vs_published(panel, "atid3")
    fv = fv[fv.index != "const"].dropna(subset=["fitted"])
    large = fv[fv["published"].abs() > 0.5]
    agree = np.sign(large["published"]) == np.sign(large["fitted"])
    corr = float(np.corrcoef(fv["published"], fv["fitted"])[0, 1])
    with pd.option_context("display.max_rows", 500):
        print(fv.round(3).to_string())
    print(f"atid3: {int(agree.sum())} of {len(large)} published coefficients with |β| > 0.5 have the same sign; "
          f"correlation of all {len(fv)} coefficients {corr:.3f}")
    assert agree.all(), large[~agree].to_string()
    assert corr > 0.9


@pytest.mark.slow
def test_covid_jump_seasonality_and_programmes(big: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    panel, _ = big
    m = panel.groupby("month")[["atid3", "atid12", "jobb3", "jobb12"]].mean()
    spring20 = m.loc["2020-03-01":"2020-05-01"].mean()
    before = m.loc["2018-12-01":"2019-11-01"].mean()
    print(pd.DataFrame({"2019": before, "Mar-May 2020": spring20}).round(3))
    assert (spring20 > before).all()  # all four jump in spring 2020 (seed 002 ch. 3)
    normal = m[(m.index < "2020-01-01") | (m.index >= "2022-04-01")]
    by_cal = normal["atid3"].groupby(normal.index.month).mean()
    print(by_cal.round(3))
    assert by_cal.idxmax() == 8 and by_cal.idxmin() == 1  # August stocks highest, January lowest
    t = panel[panel["tiltak"] != "ingen"].groupby("tiltak", observed=True)["atid12"].mean().sort_values()
    print(t.round(2))
    assert t.idxmax() == "Midlertidig lønnstilskudd" and 25 <= t.max() <= 28.5  # footnote 31: 25–28 h
    assert "IPS" in t.index[:2]  # IPS among the lowest (fig. 17)


def test_fit_tilt_gives_the_committed_equations() -> None:
    """fit_tilt on a small pool: the committed tilt's equations are the ones fit_tilt selects
    today (a change of the figures' definitions must come with a refit), and the mean weight
    is held at 1 (kept share 1 / U)."""
    t = cal.fit_tilt(n_persons=4000, chunk_persons=2000, verbose=False)
    committed = se.CALIBRATED["tilt"]
    assert t["keys"] == committed["keys"]
    assert len(t["lambda"]) == len(committed["lambda"]) == len(t["keys"]) + 1
    assert t["acceptance"] == pytest.approx(1 / t["bounds"][1], abs=0.01)
    assert not any(k.endswith("|all") or "|born_norway|" in k for k in t["keys"])


@pytest.mark.slow
@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "issue 13 not met: the committed world is far less noisy than NAV's (R² atid3 0.72 / atid12 "
    "0.58 at 12 000 persons). The candidate calibrated_issue13_candidate.json (recording errors, "
    "churn, person component, market dip, burn-in, refitted tilt) measured at 100 000 persons, "
    "seed 424 242, 2026-12-02: R² 0.52 / 0.44 with hours at t (0.17 / 0.26 without); December 2017 "
    "7.93 h, 9.32 h, 18.6 %, 26.0 % and period means 9.27 h, 10.81 h, 23.4 %, 29.7 % (all within "
    "tolerance); 218 of 220 marginals; but table 4 atid3 only 96 of 124 signs. With entry_pen 5 "
    "and a refitted tilt (the file now): R² 0.51 / 0.43, 118 of 124 signs, 211 of 220: not committed. "
    "See data/README.md"))
def test_noise_and_levels_as_published(big: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """Issue 13, done when: R² 0.17–0.23 (clearly less without hours at t), December 2017 levels
    and whole-period means within 5 % / 2 pp of the report, all four models converged; the
    within-person residual correlations are printed."""
    panel, _ = big
    f = targets.noise_figures(panel)
    pub = targets.PUBLISHED_NOISE
    for k, v in f.items():
        print(f"{k:40s} {v:.3f}" if isinstance(v, float) else f"{k:40s} {v}")
    for o in ("atid3", "atid12"):
        assert 0.17 <= f[f"R2 {o}"] <= 0.23, (o, f[f"R2 {o}"])
        assert f[f"R2 {o} without hours at t"] < f[f"R2 {o}"] - 0.03, o
    for what in ("dec2017", "period_mean"):
        for o, target in pub[what].items():
            got = f[f"{what} {o}"]
            if o.startswith("atid"):
                assert abs(got / target - 1) <= 0.05, (what, o, got, target)
            else:
                assert abs(got - target) <= 0.02, (what, o, got, target)
    assert all(v for k, v in f.items() if k.startswith("converged") and "without" not in k), f
