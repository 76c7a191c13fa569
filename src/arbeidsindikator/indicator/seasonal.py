"""Seasonal adjustment of indicator series after estimation (seed 002 ch. 4; digest §1.5).

For each group series separately:
``Î(s, y) = I(s, y) − mean_ref(I for calendar month s) + mean_ref(I)``
where the reference months exclude COVID-affected stocks. The reference windows are
configuration parameters (different for 3- and 12-month outcomes); windows are clipped to the
months where the series is observed. With ``seasonal_reference: auto`` they follow the rule of
:mod:`arbeidsindikator.windows` and move with every new quarter.

``mean_ref(I)`` is the mean over all reference months, as the formula is printed. When the
windows hold some calendar months more often than others (the 12-month windows hold April–June
three times), the twelve effects need not sum to zero; the overall level then shifts slightly.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from arbeidsindikator.config import RunConfig, Window


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


def adjustment_matrix(months: pd.DatetimeIndex, windows: Sequence[Window]) -> np.ndarray:
    """The adjustment as a linear map: ``adjusted = L @ series`` for a series observed at ``months``.

    ``L = 1 − E`` with ``E[t, s] = [s∈R, cal(s) = cal(t)]/k_cal(t) − [s∈R]/K`` (R the reference
    months, ``k_m`` of them in calendar month m, K in all): the formula of the module docstring
    written once, so that replicate curves (the bootstrap) and interval variances
    (``L Σ L'``) use exactly the adjustment of the point estimate. Raises :class:`SeasonalError`
    as :func:`seasonal_effects` does.
    """
    months = pd.DatetimeIndex(months)
    ref = reference_mask(months, windows)
    if not ref.any():
        raise SeasonalError(f"no observed month of the series lies in the reference windows {[str(w) for w in windows]}")
    cal = months.month.to_numpy()
    k = np.bincount(cal[ref], minlength=13)[1:]
    missing = [m + 1 for m in range(12) if k[m] == 0]
    if missing:
        raise SeasonalError(
            f"reference windows {[str(w) for w in windows]} hold no observed value for calendar month(s) {missing}; "
            "widen the windows in the configuration (indicator.seasonal_reference)"
        )
    same = (cal[:, None] == cal[None, :]) & ref[None, :]
    E = same / k[cal - 1][:, None] - ref[None, :] / ref.sum()
    return np.eye(len(months)) - E


def adjust(series: pd.Series, windows: Sequence[Window]) -> pd.Series:
    """Seasonally adjusted copy of a monthly series (index = month starts); NaN months stay NaN."""
    s = series.dropna()
    out = series.astype(float).copy()
    out.loc[s.index] = adjustment_matrix(pd.DatetimeIndex(s.index), windows) @ s.to_numpy(dtype=float)
    return out


def adjust_frame(
    df: pd.DataFrame,
    columns: Sequence[str],
    keys: Sequence[str],
    windows: Sequence[Window],
    month_col: str = "month",
) -> pd.DataFrame:
    """Vectorised adjustment of many series at once (one series per combination of ``keys``).

    Returns a copy with each column in ``columns`` adjusted and a boolean ``adjusted`` column.
    A series whose reference months miss a calendar month cannot be adjusted: its values are
    kept unadjusted and ``adjusted`` is False (reported, not hidden).
    """
    out = df.copy()
    months = pd.DatetimeIndex(out[month_col])
    cal = pd.Series(months.month, index=out.index, name="_cal")
    ref = pd.Series(reference_mask(months, windows), index=out.index)
    keys = list(keys)
    key_frame = out[keys].copy() if keys else pd.DataFrame({"_all": np.zeros(len(out), dtype=np.int8)}, index=out.index)
    kcols = list(key_frame.columns)
    work = key_frame.assign(_cal=cal)
    adjusted_any = None
    for c in columns:
        w = work.assign(_v=out[c])
        r = w[ref & w["_v"].notna()]
        by_cal = r.groupby(kcols + ["_cal"], observed=True, sort=False)["_v"].mean().rename("_mc")
        overall = r.groupby(kcols, observed=True, sort=False)["_v"].mean().rename("_m")
        ncal = r.groupby(kcols, observed=True, sort=False)["_cal"].nunique().rename("_n")
        merged = w.join(by_cal, on=kcols + ["_cal"]).join(overall, on=kcols).join(ncal, on=kcols)
        ok = (merged["_n"] == 12).to_numpy()
        eff = (merged["_mc"] - merged["_m"]).to_numpy()
        out[c] = np.where(ok, out[c].to_numpy() - eff, out[c].to_numpy())
        if c == "indicator":
            _adjust_bounds(out, w, (ref & w["_v"].notna()).to_numpy(), kcols, ok, eff)
        adjusted_any = ok if adjusted_any is None else adjusted_any & ok
    out["adjusted"] = adjusted_any if adjusted_any is not None else False
    return out


def _adjust_bounds(out: pd.DataFrame, w: pd.DataFrame, ref_rows: np.ndarray, kcols: list[str], ok: np.ndarray,
                   eff: np.ndarray) -> None:
    """Interval bounds of the adjusted indicator (in place).

    The adjusted value is a linear combination of the monthly indicators,
    ``A_t = I_t − (mean_{s∈R, cal(s)=m} I_s − mean_{s∈R} I_s)`` with R the reference months
    (``k_m`` of calendar month m, K in all). Where the table has the standard error behind a
    pair of bounds (``se_<x>`` for ``lower_<x>``/``upper_<x>``), the adjusted standard error is
    that combination's, treating months as independent (as the monthly intervals do):
    ``Var A_t = σ_t² + e_m² V_m + (V − V_m)/K² + 2 e_m σ_t² [t∈R]``, ``e_m = 1/K − 1/k_m``,
    ``V_m``, ``V`` the sums of σ_s² over R in month m and over R. The estimated seasonal effect
    widens the interval outside the reference months. Bounds without a standard error are shifted
    with the indicator.
    """
    for bcol in [x for x in out.columns if x.startswith(("lower", "upper"))]:
        suffix = bcol[len("lower"):]
        pair = {"lower" + suffix, "upper" + suffix} <= set(out.columns) and "se" + suffix in out.columns
        if not pair:  # no standard error behind it: moved with the indicator
            out[bcol] = np.where(ok, out[bcol].to_numpy() - eff, out[bcol].to_numpy())
    for lo in [x for x in out.columns if x.startswith("lower")]:
        suffix = lo[len("lower"):]
        up, se_col = "upper" + suffix, "se" + suffix
        if up not in out.columns or se_col not in out.columns:
            continue
        var = out[se_col].to_numpy(dtype=float) ** 2
        rv = w[ref_rows].assign(_var=var[ref_rows], _nan=np.isnan(var[ref_rows]))
        by_cal = rv.groupby(kcols + ["_cal"], observed=True, sort=False).agg(_k=("_var", "size"), _vm=("_var", "sum"))
        tot = rv.groupby(kcols, observed=True, sort=False).agg(_K=("_var", "size"), _vt=("_var", "sum"),
                                                                _nn=("_nan", "sum"))
        mm = w[kcols + ["_cal"]].join(by_cal, on=kcols + ["_cal"]).join(tot, on=kcols)
        e = 1.0 / mm["_K"].to_numpy(dtype=float) - 1.0 / mm["_k"].to_numpy(dtype=float)
        vm, vt, K = mm["_vm"].to_numpy(dtype=float), mm["_vt"].to_numpy(dtype=float), mm["_K"].to_numpy(dtype=float)
        var_adj = var + e ** 2 * vm + (vt - vm) / K ** 2 + 2.0 * e * var * ref_rows
        # a reference month without a standard error (e.g. a one-person cell): not computable
        var_adj = np.where(mm["_nn"].to_numpy(dtype=float) > 0, np.nan, var_adj)
        se_adj = np.where(ok, np.sqrt(var_adj), out[se_col].to_numpy(dtype=float))
        half = (out[up].to_numpy(dtype=float) - out[lo].to_numpy(dtype=float)) / 2.0
        se = out[se_col].to_numpy(dtype=float)
        z = np.divide(half, se, out=np.full(len(out), np.nan), where=se > 0)  # the bounds' multiplier
        # a zero standard error (a cell with no spread) still gets the adjusted one: common multiplier
        z = np.where(se == 0, np.nanmedian(z) if np.isfinite(z).any() else 0.0, z)
        centre = out["indicator"].to_numpy(dtype=float)  # already adjusted
        out[lo] = np.where(ok, centre - z * se_adj, out[lo].to_numpy())
        out[up] = np.where(ok, centre + z * se_adj, out[up].to_numpy())
        out[se_col] = se_adj


def adjust_table(
    table: pd.DataFrame,
    windows: Sequence[Window],
    columns: Sequence[str] = ("actual", "expected", "indicator"),
    group_levels: Sequence[str] = (),
) -> pd.DataFrame:
    """Adjust a (month[, groups]) indicator table, separately per group series.

    Interval bounds are recomputed for the adjusted series where the standard error is in the
    table (see :func:`_adjust_bounds`), else moved with the indicator.
    Without groups the series must be adjustable, else :class:`SeasonalError`.
    """
    if not group_levels:
        seasonal_effects(table["indicator"].droplevel([n for n in table.index.names if n != "month"]) if table.index.nlevels > 1 else table["indicator"], windows)
    flat = table.reset_index()
    res = adjust_frame(flat, columns, list(group_levels), windows)
    return res.set_index(list(table.index.names))
