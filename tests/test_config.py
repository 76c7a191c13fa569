"""The run configuration is validated with messages that name the key."""

from __future__ import annotations

import pytest

from arbeidsindikator.config import ConfigError, load_config
from conftest import REPO, write_config


def test_default_config_loads():
    cfg = load_config(None)
    assert cfg.is_synthetic and cfg.months.size == 79


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"period.start": "2017-13"}, "period.start"),
        ({"period.end": "2018-06"}, "at least 24"),
        ({"data.source": "sql"}, "data.source"),
        ({"data.source": "extracts"}, "data.path"),
        ({"model.duration_categories": 30}, "duration_categories"),
        ({"data.synthetic.n_persons": "many"}, "n_persons"),
        ({"indicator.seasonal_reference.short": [["2019-01"]]}, "seasonal_reference.short[0]"),
        ({"model.include_hours_at_t": "yes"}, "include_hours_at_t"),
        ({"bogus": 1}, "bogus: unknown key"),
        ({"indicator.min_cel_count": 5}, "indicator.min_cel_count: unknown key; did you mean 'indicator.min_cell_count'"),
        ({"model.gap_month": 2}, "did you mean 'model.gap_months'"),
        ({"data.synthetic.n_person": 2000}, "did you mean 'data.synthetic.n_persons'"),
        ({"indicator.seasonal_reference.shrot": [["2017-12", "2019-11"]]}, "did you mean 'indicator.seasonal_reference.short'"),
        ({"profiling.volum_b": 0.5}, "did you mean 'profiling.volume_b'"),
        ({"profiling.age_min": "thirty"}, "profiling.age_min: expected an integer"),
        ({"profiling.periods": [["2018-09"]]}, "profiling.periods[0]"),
        ({"profiling.scale": -1}, "profiling.scale"),
        ({"period.start": 2017}, "period.start: expected a month as 'YYYY-MM', got 2017"),
        ({"period.end": "2024-6-1"}, "period.end"),
        ({"indicator.covid_window": ["2016-03", "2018-02"]}, "covid_window: 2016-03–2018-02 is not inside the period"),
        ({"indicator.seasonal_reference.short": [["2017-12", "2020-06"]]}, "short[0]: 2017-12–2020-06 overlaps the COVID window"),
        ({"indicator.seasonal_reference.long": [["2016-01", "2016-12"]]}, "long[0]: 2016-01–2016-12 is not inside the period"),
    ],
)
def test_bad_values_are_named(tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(write_config(tmp_path, **overrides))


def test_missing_file():
    with pytest.raises(ConfigError, match="not found"):
        load_config("no/such/file.yml")


def test_fingerprint_ignores_name_and_output_but_not_seed(tmp_path):
    a = load_config(write_config(tmp_path / "a" if (tmp_path / "a").mkdir() is None else tmp_path, name="x"))
    (tmp_path / "b").mkdir()
    b = load_config(write_config(tmp_path / "b", **{"name": "y", "output.cache_dir": str(tmp_path / "c")}))
    (tmp_path / "d").mkdir()
    c = load_config(write_config(tmp_path / "d", **{"data.synthetic.seed": 7}))
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != c.fingerprint()


def test_duplicate_yaml_keys_are_rejected(tmp_path):
    p = tmp_path / "c.yml"
    p.write_text((REPO / "tests" / "configs" / "tiny.yml").read_text(encoding="utf-8")
                 + "indicator:\n  min_cell_count: 5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="duplicate key 'indicator'"):
        load_config(p)
    p.write_text("name: a\nname: b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"duplicate key 'name' \(lines 1 and 2\)"):
        load_config(p)


def test_profiling_section_is_typed_with_defaults_once():
    import dataclasses

    from arbeidsindikator.config import PROFILING_PARAM_KINDS
    from arbeidsindikator.profiling.evaluation import ProfilingParams, params_from_config

    assert set(PROFILING_PARAM_KINDS) == {f.name for f in dataclasses.fields(ProfilingParams)}
    cfg = load_config(None)
    assert cfg.profiling.scale == 0.25 and cfg.profiling_seed == cfg.seed
    assert params_from_config(cfg).bootstrap_replicates == 2000


def test_refit_outcomes_default_order_and_errors(tmp_path):
    """bootstrap.refit_outcomes: default the two OLS outcomes; given names come back in spec
    order; an unknown, repeated or non-list value is a ConfigError naming the key."""
    import yaml

    from arbeidsindikator.config import ConfigError, load_config

    base = yaml.safe_load((REPO / "configs" / "default.yml").read_text(encoding="utf-8"))

    def cfg_with(value):
        raw = dict(base, bootstrap=dict(base["bootstrap"], refit_outcomes=value))
        p = tmp_path / "c.yml"
        p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        return load_config(p)

    p = tmp_path / "d.yml"
    p.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    assert load_config(p).refit_outcomes == ("atid3", "atid12")
    assert cfg_with(["jobb12", "atid3"]).refit_outcomes == ("atid3", "jobb12")
    assert cfg_with([]).refit_outcomes == ()
    for bad, words in ((["atid6"], "unknown outcome"), (["atid3", "atid3"], "twice"), ("atid3", "a list")):
        with pytest.raises(ConfigError, match="bootstrap.refit_outcomes") as e:
            cfg_with(bad)
        assert words in str(e.value)
