"""The streamed panel file (person chunks → parquet) equals the in-memory build (issue 11, item 1)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from arbeidsindikator.config import load_config
from arbeidsindikator.data.contract import PANEL_COLUMNS, ContractError, validate_panel
from arbeidsindikator.io import data_fingerprint
from arbeidsindikator.pipeline import sources
from tests.conftest import write_config

CATEGORICAL = [c.name for c in PANEL_COLUMNS if c.dtype == "category"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path, pd.DataFrame, dict]:
    root = tmp_path_factory.mktemp("stream")
    cfg = load_config(write_config(root, **{"output.cache_dir": str(root / "cache")}))
    raw, report = sources.panel_from_config(cfg)  # the in-memory build (whole frame)
    ref = validate_panel(raw, period=(cfg.start, cfg.end))
    ref_path = root / "ref.parquet"
    sources._write_parquet_in_parts(ref, ref_path)
    path = sources.build_panel_file(cfg, chunk_persons=300)  # ~9 chunks of the 2,500 persons
    return cfg, path, ref, report


def test_streamed_file_has_the_in_memory_rows_dtypes_and_levels(built) -> None:  # type: ignore[no-untyped-def]
    cfg, path, ref, _ = built
    got = pd.read_parquet(path)
    back = pd.read_parquet(path.parent.parent / "ref.parquet")
    pd.testing.assert_frame_equal(got, back, check_categorical=True, check_exact=True)
    for name in CATEGORICAL:  # every level of the whole panel, in the whole-frame order
        assert list(got[name].cat.categories) == list(ref[name].cat.categories), name
        assert got[name].dtype == back[name].dtype
    assert pq.ParquetFile(path).schema_arrow.equals(pq.ParquetFile(path.parent.parent / "ref.parquet").schema_arrow)
    # some chunk lacks some office: the unified levels are exercised, not trivially equal
    n_offices = got.groupby(pd.cut(got.index, 9), observed=True)["nav_kontor"].nunique()
    assert n_offices.min() < got["nav_kontor"].nunique()


def test_streamed_meta_matches_the_in_memory_build(built) -> None:  # type: ignore[no-untyped-def]
    cfg, path, ref, report = built
    meta = pickle.loads(path.with_suffix(".pkl").read_bytes())
    assert meta["fingerprint"] == data_fingerprint(ref)
    drop = {"seconds", "seconds_by_stage"}
    assert {k: v for k, v in meta["report"].items() if k not in drop} == {k: v for k, v in report.items() if k not in drop}
    assert meta["report"]["rows"]["panel"] == len(ref)
    assert meta["report"]["persons"]["in_panel"] == ref["person_id"].nunique()


def test_spill_folder_is_removed_and_a_contract_violation_fails(built, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    cfg, path, _, _ = built
    assert not list(path.parent.glob(".panel-*"))
    import dataclasses

    cfg2 = dataclasses.replace(cfg, cache_dir=tmp_path)
    real = sources.validate_panel

    def strict(df: pd.DataFrame, **kw):  # type: ignore[no-untyped-def]
        if df["person_id"].iloc[0] > df["person_id"].min():  # never: rows are sorted
            raise AssertionError
        bad = df.copy()
        bad.loc[bad.index[-1], "alder"] = 99  # a chunk with an age outside the contract's range
        return real(bad, **kw)

    monkeypatch.setattr(sources, "validate_panel", strict)
    with pytest.raises(ContractError, match="alder"):
        sources.build_panel_file(cfg2, chunk_persons=300)
    assert not list(tmp_path.glob("panel-*.parquet")) and not list(tmp_path.glob(".panel-*"))
