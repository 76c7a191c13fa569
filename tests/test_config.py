"""The run configuration is validated with messages that name the key."""

from __future__ import annotations

import pytest

from arbeidsindikator.config import ConfigError, load_config
from conftest import write_config


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
        ({"bogus": 1}, "unknown top-level"),
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
