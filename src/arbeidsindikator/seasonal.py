"""Seasonal adjustment of indicator series after estimation (seed 002 ch. 4; digest §1.5).

For each group series separately:
``Î(s, y) = I(s, y) − mean_ref(I for calendar month s) + mean_ref(I)``
where the reference months exclude COVID-affected stocks. The reference windows are
configuration parameters (different for 3- and 12-month outcomes); windows are clipped to the
months where the series is observed, so they move with the data.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .config import RunConfig, Window


class SeasonalError(ValueError):
    """The reference windows do not cover every calendar month of the series."""


def windows_for(cfg: RunConfig, outcome: str) -> tuple[Window, ...]:
    """The configured reference windows for the outcome's horizon."""
    return cfg.seasonal_windows_short if outcome.endswith("3") else cfg.seasonal_windows_long


def reference_mask(months: pd.DatetimeIndex, windows: Sequence[Window]) -> np.ndarray:
    per = months.to_period("M")
    mask = np.zeros(len(months), dtype=bool)
    for w in windows:
        mask |= np.asarray((per >= w.start) & (per <= w.end))
    return mask


def seasonal_effects(series: pd.Series, windows: Sequence[Window]) -> pd.Series:
    """Calendar-month effect ``mean_ref(I | month s) − mean_ref(I)`` for s = 1..12."""
    s = series.dropna()
    months = pd.DatetimeIndex(s.index)
    ref = reference_mask(months, windows)
    if not ref.any():
        raise SeasonalError(f"no observed month of the series lies in the reference windows {[str(w) for w in windows]}")
    r = s[ref]
    cal = pd.DatetimeIndex(r.index).month
    by_month = r.groupby(cal).mean()
    missing = sorted(set(range(1, 13)) - set(by_month.index))
    if missing:
        raise SeasonalError(
            f"reference windows {[str(w) for w in windows]} hold no observed value for calendar month(s) {missing}; "
            "widen the windows in the configuration (indicator.seasonal_reference)"
        )
    return by_month - r.mean()


def adjust(series: pd.Series, windows: Sequence[Window]) -> pd.Series:
    """Seasonally adjusted copy of a monthly series (index = month starts)."""
    eff = seasonal_effects(series, windows)
    cal = pd.DatetimeIndex(series.index).month
    return series - eff.reindex(cal).to_numpy()


def adjust_table(table: pd.DataFrame, windows: Sequence[Window], columns: Sequence[str] = ("actual", "expected", "indicator"), group_levels: Sequence[str] = ()) -> pd.DataFrame:
    """Adjust the given columns of a (month[, groups]) indicator table, separately per group.

    Interval bounds move with the indicator (the adjustment is a shift per calendar month).
    """
    out = table.copy()
    bound_cols = [c for c in out.columns if c.startswith(("lower", "upper"))]

    def _one(part: pd.DataFrame) -> pd.DataFrame:
        part = part.copy()
        m = part.index.get_level_values("month")
        for c in columns:
            s = pd.Series(part[c].to_numpy(), index=m)
            adj = adjust(s, windows).to_numpy()
            if c == "indicator":
                shift = adj - part[c].to_numpy()
                for b in bound_cols:
                    part[b] = part[b].to_numpy() + shift
            part[c] = adj
        return part

    def _safe(part: pd.DataFrame) -> pd.DataFrame:
        try:
            return _one(part).assign(adjusted=True)
        except SeasonalError:
            if not group_levels:
                raise
            return part.assign(adjusted=False)

    if not group_levels:
        return _safe(out)
    parts = [_safe(p) for _, p in out.groupby(level=list(group_levels), observed=True, sort=True)]
    return pd.concat(parts).sort_index()
