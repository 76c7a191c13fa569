"""The basic amount G (grunnbeløpet) and the month index: one definition of each for the package.

G, in NOK per year, changes on 1 May of each year (the regulation date). The public table is
``data/reference/G.csv`` (columns ``effective_from``, ``G_nok``; source: NAV, "Grunnbeløpet i
folketrygden", https://www.nav.no/grunnbelopet, the same table as
skatteetaten.no/satser/grunnbelopet-i-folketrygden, cited by seed 003 footnote 11; seed 003
quotes 2024: 124 028 NOK a year). The amount in force in a month is the latest regulation on or
before the month's first day (:func:`g_per_month`). The panel (wage thresholds in G, seed 002
ch. 4), the profiling rules (wage thresholds relative to G, seed 003) and the synthetic sources
all read G and map months through this module.

Months are consecutive integers, ``year * 12 + month - 1`` (:func:`month_index` for arrays of
dates, :func:`month_to_index` for one month, :func:`index_to_month` back), so that "x months
later" is an integer addition.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from arbeidsindikator.config import REPO_ROOT

__all__ = [
    "G_CSV",
    "g_per_month",
    "index_to_month",
    "load_g",
    "month_index",
    "month_start",
    "month_to_index",
    "sql_month_index",
]

#: The public G table shipped with the repository.
G_CSV = REPO_ROOT / "data" / "reference" / "G.csv"


def _index(year: Any, month: Any) -> Any:
    """The month index formula (the only place it is written)."""
    return year * 12 + month - 1


def month_index(dates: Any) -> np.ndarray:
    """Calendar months of dates (Series, DatetimeIndex or a list of dates) as int64 month indices."""
    d = pd.DatetimeIndex(dates)
    return _index(d.year.to_numpy().astype(np.int64), d.month.to_numpy())


def month_to_index(p: pd.Period | str) -> int:
    """One month (``pd.Period`` or ``"YYYY-MM"``) as a month index."""
    p = pd.Period(p, freq="M")
    return int(_index(p.year, p.month))


def index_to_month(i: int) -> pd.Period:
    """The calendar month (``pd.Period``) of a month index."""
    return pd.Period(year=int(i) // 12, month=int(i) % 12 + 1, freq="M")


def month_start(idx: np.ndarray) -> np.ndarray:
    """Month indices as datetime64[ns] of the month's first day (the inverse of :func:`month_index`)."""
    idx = np.asarray(idx)
    return ((idx // 12 - 1970) * 12 + idx % 12).astype("datetime64[M]").astype("datetime64[ns]")


def sql_month_index(col: str) -> str:
    """The month index of a DATE column as a DuckDB SQL expression (for queries on the extracts)."""
    return f"year({col}) * 12 + month({col}) - 1"


def load_g(path: Path | None = None) -> pd.DataFrame:
    """The basic amount G by date: ``effective_from`` (datetime64), ``G_nok`` (float, NOK/year), sorted.

    Reads ``data/reference/G.csv`` unless another file with the same two columns is given.
    """
    path = Path(path) if path is not None else G_CSV
    g = pd.read_csv(path, dtype={"G_nok": "float64"})
    missing = [c for c in ("effective_from", "G_nok") if c not in g.columns]
    if missing:
        raise ValueError(f"G table {path} lacks column(s) {missing}; it has {list(g.columns)}")
    g["effective_from"] = pd.to_datetime(g["effective_from"])
    return g.sort_values("effective_from").reset_index(drop=True)


def g_per_month(
    g: pd.DataFrame, first: int, last: int, *, missing: Literal["nan", "raise"] = "nan"
) -> np.ndarray:
    """G (NOK/year) in force on the first day of each month index ``first..last``.

    ``g`` is a table as returned by :func:`load_g`. A month before the table's first date gets
    NaN, or raises ``ValueError`` with ``missing="raise"``. Divide by 12 for G per month.
    """
    if missing not in ("nan", "raise"):
        raise ValueError(f'missing must be "nan" or "raise", got {missing!r}')
    idx = np.arange(first, last + 1)
    firsts = month_start(idx)
    pos = np.searchsorted(g["effective_from"].to_numpy(), firsts, side="right") - 1
    if missing == "raise" and (pos < 0).any():
        raise ValueError(
            f"G table starts {g['effective_from'].min().date()}; G is needed from {index_to_month(first)}"
        )
    vals = g["G_nok"].to_numpy(dtype=float)
    return np.where(pos >= 0, vals[np.clip(pos, 0, None)], np.nan)
