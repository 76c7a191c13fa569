"""The ``engine`` section of the run configuration: defaults, validation, fingerprint."""

from __future__ import annotations

import pytest

from arbeidsindikator.config import ConfigError, load_config
from conftest import TINY, write_config


def test_default_is_in_process_and_fingerprint_ignores_the_section(tmp_path):
    base = load_config(TINY)
    assert base.engine.backend == "inprocess"
    cfg = load_config(write_config(tmp_path, **{"engine.backend": "dask", "engine.workers": 3,
                                                "engine.memory_limit": "1.5GB"}))
    assert (cfg.engine.backend, cfg.engine.workers, cfg.engine.memory_limit) == ("dask", 3, "1.5GB")
    # where the sums are taken does not change the data or specification: same panel cache
    assert cfg.fingerprint() == base.fingerprint()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"engine.backend": "spark"}, r"engine.backend: expected one of inprocess, dask, duckdb, got 'spark'"),
        ({"engine.backend": "dusk"}, r"did you mean 'dask'"),
        ({"engine.backend": "inprocess", "engine.scheduler": "tcp://127.0.0.1:8786"}, r"only the dask backend uses a scheduler"),
        ({"engine.backend": "dask", "engine.scheduler": "not an address"}, r"engine.scheduler: expected a scheduler address"),
        ({"engine.backend": "dask", "engine.workers": 0}, r"engine.workers: expected an integer in \[1, 1024\], got 0"),
        ({"engine.backend": "dask", "engine.workers": "two"}, r"engine.workers: expected an integer"),
        ({"engine.backend": "dask", "engine.memory_limit": "4 gigs"}, r"engine.memory_limit: expected a size per worker"),
        ({"engine.backend": "dask", "engine.partition_rows": -5}, r"engine.partition_rows: expected a positive integer"),
        ({"engine.backnd": "dask"}, r"engine.backnd: unknown key; did you mean 'engine.backend'"),
    ],
)
def test_bad_engine_configuration_is_a_clear_error(tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write_config(tmp_path, **overrides))


def test_engine_must_be_a_section(tmp_path):
    with pytest.raises(ConfigError, match="engine: expected a section"):
        load_config(write_config(tmp_path, **{"engine": "dask"}))
