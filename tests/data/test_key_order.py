"""The cheap proof of unique keys (keys in strictly increasing order) and its fallback (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from arbeidsindikator.data.checks import keys_strictly_increasing

TYPES = {"person_id": "BIGINT", "month": "DATE"}


def _write(path: Path, pid: list[int | None], months: list[str], row_group_size: int = 2) -> Path:
    t = pa.table({"person_id": pa.array(pid, pa.int64()),
                  "month": pa.array(pd.to_datetime(months).date, pa.date32())})
    pq.write_table(t, path, row_group_size=row_group_size)
    return path


def test_sorted_unique_keys_are_proven_across_batches_and_files(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.parquet", [1, 1, 2], ["2020-01-01", "2020-02-01", "2019-12-01"])
    b = _write(tmp_path / "b.parquet", [2, 3], ["2020-01-01", "2018-01-01"])
    assert keys_strictly_increasing([a, b], ("person_id", "month"), TYPES)
    assert keys_strictly_increasing([a], ("person_id",), TYPES) is False  # person 1 twice


def test_repeats_disorder_nulls_and_other_types_fall_back(tmp_path: Path) -> None:
    dup = _write(tmp_path / "d.parquet", [1, 1], ["2020-01-01", "2020-01-01"])
    unsorted = _write(tmp_path / "u.parquet", [2, 1], ["2020-01-01", "2020-01-01"])
    null = _write(tmp_path / "n.parquet", [1, None], ["2020-01-01", "2020-02-01"])
    ok = _write(tmp_path / "ok.parquet", [1, 2], ["2020-01-01", "2020-01-01"])
    across = _write(tmp_path / "x.parquet", [2], ["2020-01-01"])  # repeats the last key of `ok`
    for f in (dup, unsorted, null):
        assert not keys_strictly_increasing([f], ("person_id", "month"), TYPES)
    assert not keys_strictly_increasing([ok, across], ("person_id", "month"), TYPES)
    assert not keys_strictly_increasing([ok], ("person_id", "month"), {"person_id": "VARCHAR", "month": "DATE"})
    assert not keys_strictly_increasing([tmp_path / "missing.parquet"], ("person_id", "month"), TYPES)
