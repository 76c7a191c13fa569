"""Partitions of a panel stored as parquet: row ranges of whole persons, read by column.

A partition is a row range of one parquet file (a file of a partitioned dataset, or a range of
row groups of one large file). Partitions never split a person (rows sorted by person within a
file), so per-partition person-clustered sums and distinct-person counts add up. Workers read
their own partition from the (shared) file system: nothing but small sums travels back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = ["Partition", "plan_partitions", "read_partition"]

#: Panel columns the main models read (panel.covariates.build_covariates + outcomes + person).
MODEL_COLUMNS = ("person_id", "landgruppe", "botid", "alder", "barn", "gift", "kvinne", "hoyere_utd", "lonn_desil",
                 "pgi_desil", "nav_historikk", "nav_varighet", "ufor", "permittert", "helse_ytelse", "arbeid_ytelse",
                 "timer_t", "innstrom3", "innstrom12")


@dataclass(frozen=True)
class Partition:
    """Rows ``[start, stop)`` of the parquet file ``path`` (whole persons)."""

    path: str
    start: int
    stop: int

    @property
    def n_rows(self) -> int:
        return self.stop - self.start


def _row_group_offsets(path: str) -> np.ndarray:
    import pyarrow.parquet as pq

    md = pq.ParquetFile(path).metadata
    return np.cumsum([0] + [md.row_group(i).num_rows for i in range(md.num_row_groups)])


def read_partition(part: Partition, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The partition's rows (only ``columns``) as pandas; reads only the row groups it overlaps."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(part.path)
    offs = _row_group_offsets(part.path)
    rgs = [i for i in range(len(offs) - 1) if offs[i] < part.stop and offs[i + 1] > part.start]
    if not rgs:
        return pf.schema_arrow.empty_table().select(list(columns) if columns else pf.schema_arrow.names).to_pandas()
    t = pf.read_row_groups(rgs, columns=list(columns) if columns else None)
    t = t.slice(part.start - int(offs[rgs[0]]), part.n_rows)
    return t.to_pandas()


def parquet_files(source: str | Path | Iterable[str | Path]) -> list[str]:
    """A parquet file, a folder of them (sorted by name) or a list of files."""
    if isinstance(source, (str, Path)):
        p = Path(source)
        if p.is_dir():
            files = sorted(str(f) for f in p.glob("*.parquet"))
            if not files:
                raise FileNotFoundError(f"no *.parquet files in {p}")
            return files
        if not p.exists():
            raise FileNotFoundError(f"panel parquet {p} does not exist")
        return [str(p)]
    return [str(f) for f in source]


def plan_partitions(source: str | Path | Iterable[str | Path], target_rows: int,
                    person_col: str = "person_id") -> list[Partition]:
    """Partitions of about ``target_rows`` rows (at most, unless one person has more) of whole persons.

    Each file is cut separately; rows must be sorted by ``person_col`` within a file (checked:
    a ValueError names the file) and a person must not continue into the next file.
    """
    import pyarrow.parquet as pq

    if target_rows < 1:
        raise ValueError(f"target_rows must be positive, got {target_rows}")
    out: list[Partition] = []
    for f in parquet_files(source):
        pid = pq.read_table(f, columns=[person_col]).column(0).to_numpy()
        n = len(pid)
        if n == 0:
            continue
        if n > 1 and not (pid[1:] >= pid[:-1]).all():
            bad = int(np.flatnonzero(pid[1:] < pid[:-1])[0])
            raise ValueError(f"{f}: rows are not sorted by {person_col} (row {bad + 1}: {pid[bad + 1]} after {pid[bad]}); "
                             "partitions must hold whole persons")
        starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]])
        lo = 0
        while lo < n:
            target = lo + target_rows
            if target >= n:
                hi = n
            else:
                j = int(np.searchsorted(starts, target, side="right")) - 1  # last person start <= target
                hi = int(starts[j]) if starts[j] > lo else int(starts[j + 1]) if j + 1 < len(starts) else n
            out.append(Partition(f, lo, hi))
            lo = hi
    return out
