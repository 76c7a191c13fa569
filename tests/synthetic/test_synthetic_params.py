"""The generator's calibrated parameters: a data file validated against a schema (issue 10)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from arbeidsindikator.synthetic import params as sp


def _write(tmp_path: Path, data: object) -> Path:
    p = tmp_path / "calibrated.json"
    p.write_text(json.dumps(data), encoding="utf-8")
    return p


def test_committed_file_is_valid_and_floats_round_trip_exactly() -> None:
    data = sp.load_calibrated()
    assert data == sp.CALIBRATED
    assert json.loads(json.dumps(data)) == data


def test_write_then_load_gives_the_same_parameters(tmp_path: Path) -> None:
    p = tmp_path / "out.json"
    sp.write_calibrated(sp.CALIBRATED, p)
    assert sp.load_calibrated(p) == sp.CALIBRATED  # committed values are already rounded to 7 digits
    assert p.read_bytes() == sp.CALIBRATED_PATH.read_bytes()  # the committed file is write_calibrated's output
    assert not list(tmp_path.glob(".*tmp"))


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.pop("u_sd"), "u_sd: Field required"),
    (lambda d: d.__setitem__("residual_sd", 1.0), "residual_sd: Extra inputs are not permitted"),
    (lambda d: d.__setitem__("burn_in", "yes"), "burn_in"),
    (lambda d: d.__setitem__("type_share", [0.5, 0.5]), "type_share"),
    (lambda d: d.__setitem__("covid_share", "0.25"), "covid_share"),
    (lambda d: d.__setitem__("covid_share", 1.5), "covid_share"),
    (lambda d: d["lg_probs"].__setitem__(0, [0.1, 0.9]), "lg_probs.0"),
    (lambda d: d["serv_plan"]["J"].__setitem__("nonsense", 0.1), "unknown service group"),
    (lambda d: d["tilt"]["lambda"].pop(), "lambda values"),
    (lambda d: d["theta_delta"].__setitem__("alder[30]", "x"), "theta_delta.alder[30]"),
    (lambda d: d["theta_delta"].__setitem__("alder[300]", 1.0), "without a table-4 coefficient"),
])
def test_wrong_keys_shapes_and_types_raise_a_clear_error(tmp_path: Path, mutate, message: str) -> None:
    data = copy.deepcopy(sp.CALIBRATED)
    mutate(data)
    with pytest.raises(sp.CalibrationFileError, match="problem") as e:
        sp.load_calibrated(_write(tmp_path, data))
    assert message in str(e.value)
    assert str(tmp_path) in str(e.value)


def test_not_an_object_or_not_json(tmp_path: Path) -> None:
    with pytest.raises(sp.CalibrationFileError, match="top level"):
        sp.load_calibrated(_write(tmp_path, [1, 2]))
    p = tmp_path / "bad.json"
    p.write_text("{", encoding="utf-8")
    with pytest.raises(sp.CalibrationFileError, match="not valid JSON"):
        sp.load_calibrated(p)


def test_write_refuses_invalid_parameters(tmp_path: Path) -> None:
    data = copy.deepcopy(sp.CALIBRATED)
    data["alpha_main"] = [0.0]
    p = tmp_path / "out.json"
    with pytest.raises(sp.CalibrationFileError, match="alpha_main"):
        sp.write_calibrated(data, p)
    assert not p.exists()


def test_lag_correlation_of_residuals() -> None:
    import numpy as np

    from arbeidsindikator.synthetic.targets import _lag_corr

    rng = np.random.default_rng(0)
    person = np.repeat(np.arange(400), 10)
    month = np.tile(np.arange(10), 400)
    z = np.repeat(rng.normal(size=400), 10)
    x = np.sqrt(0.6) * z + np.sqrt(0.4) * rng.normal(size=4000)  # persistent share 0.6
    assert abs(_lag_corr(person, month, x, 1) - 0.6) < 0.06
    assert abs(_lag_corr(person, month, x, 3) - 0.6) < 0.06
    assert np.isnan(_lag_corr(person, month, x, 12))  # no pairs 12 months apart


def test_noise_defaults_leave_the_committed_world_alone() -> None:
    """Residual noise, recording errors, the market dip and burn-in are explicit parameters; the
    committed values switch them off (data/README.md)."""
    c = sp.CALIBRATED
    assert c["noise_sd"] == 0.0 and c["noise_person_share"] == 0.0 and c["burn_in"] is False
    assert c["hours_noise_sd"] == 0.0 and c["hours_noise_person_share"] == 0.0
    assert c["record_error_rate"] == 0.0 and c["market_dip"] == 0.0


def test_record_errors_inflate_records_of_jobs_over_19_hours_only() -> None:
    """Recording errors (own random stream) multiply the record of a job over 19 h: the share of
    months recorded over 19 h barely moves, records over 60 h appear, and none exceeds the cap.
    (The wage income is hours × wage, so an erroneous record also feeds the income covariate of a
    later spell: the job paths of the two runs are not identical.)"""
    import numpy as np
    import pandas as pd

    from arbeidsindikator.synthetic import simulate, world

    base = {**sp.CALIBRATED, "hours_noise_sd": 0.0, "record_error_rate": 0.0}
    err = {**base, "record_error_rate": 0.05, "record_error_months": 4.0, "record_error_factor": 4.33}
    out = []
    for prm in (base, err):
        su = world._setup(5, pd.Period("2017-12", "M"), pd.Period("2019-06", "M"), pd.Period("2019-06", "M"), prm)
        out.append(simulate._simulate(su, 0, 1, 1000, 250).JF)
    a, b = out
    assert abs(np.mean(a > 19) - np.mean(b > 19)) < 0.01
    assert np.mean(a > 60) == 0 and np.mean(b > 60) > 0.005
    assert b.max() <= simulate.MAX_RECORDED_HOURS


def test_mean_one_record_errors_keep_the_mean_and_the_cap() -> None:
    """Mean-one recording errors (``record_error_mean_one``): on a large draw of job-months in
    the stationary episode share p, the recorded hours have the agreed hours' mean (also where
    the cap of 150 h binds on the erroneous months), no record exceeds the cap or is negative,
    the share of months with hours is unchanged, and the variance grows."""
    import numpy as np

    from arbeidsindikator.synthetic import simulate

    rng = np.random.default_rng(3)
    n = 1_000_000
    rate, months, factor = 0.005, 12.0, 4.33
    p = simulate.record_error_share(rate, months)
    assert p == pytest.approx(rate / (rate + 1 / months))
    # a two-state chain run long enough reaches that share
    on = np.zeros(50_000, bool)
    for _ in range(300):
        r = rng.random(on.size)
        on = np.where(on, r >= 1 / months, r < rate)
    assert on.mean() == pytest.approx(p, abs=0.005)
    hours = rng.choice([20.0, 30.0, 37.5, 40.0], n)  # jobs over 19 h; 37.5 × 4.33 and 40 × 4.33 exceed the cap
    err = rng.random(n) < p
    rec = simulate.apply_record_errors(hours, err, hours > 19, factor, p)
    assert rec.max() <= simulate.MAX_RECORDED_HOURS and rec.min() > 0
    assert rec.mean() / hours.mean() == pytest.approx(1.0, abs=0.005)
    for h in (20.0, 40.0):  # mean one job by job, the capped one too
        assert rec[hours == h].mean() / h == pytest.approx(1.0, abs=0.01)
    assert rec.var() > 5 * hours.var()
    # with the floor the generator uses (just above jobb's 19 h) no record of a job over it falls
    # below it, and jobs of 25 h or more still keep their mean; a 20 h job cannot (c = 0): its mean rises
    fl = simulate._ERR_FLOOR
    recf = simulate.apply_record_errors(hours, err, hours > 19, factor, p, floor=fl)
    assert recf.min() >= fl and recf.max() <= simulate.MAX_RECORDED_HOURS
    for h in (30.0, 37.5, 40.0):
        assert recf[hours == h].mean() / h == pytest.approx(1.0, abs=0.01)
    assert recf[hours == 20.0].mean() > 20.0
    # without the mean-one option the errors only inflate (the previous behaviour)
    up = simulate.apply_record_errors(hours, err, hours > 19, factor, None)
    assert up.mean() > 1.1 * hours.mean() and up.max() <= simulate.MAX_RECORDED_HOURS
    np.testing.assert_array_equal(up[~err], hours[~err])
    # small jobs and no job are left alone
    small = simulate.apply_record_errors(np.array([0.0, 10.0]), np.array([False, False]), np.array([False, False]),
                                         factor, p)
    np.testing.assert_array_equal(small, [0.0, 10.0])


def test_mean_one_record_errors_need_a_positive_record_outside_episodes() -> None:
    """p · f ≥ 1 would leave the other months nothing: the parameter file is rejected."""
    bad = {**sp.CALIBRATED, "record_error_rate": 0.05, "record_error_months": 12.0, "record_error_factor": 4.33,
           "record_error_mean_one": True}
    with pytest.raises(sp.CalibrationFileError, match="record_error_mean_one"):
        sp.validate_calibrated(bad)
    ok = {**bad, "record_error_rate": 0.005}
    assert sp.validate_calibrated(ok)["record_error_mean_one"] is True
