"""Wages in G and the outcome sequences (seed 003 §3.1, table 3).

Monthly wages from the a-melding are divided by the monthly basic amount (G per year / 12, G as
of the first day of the month; :mod:`arbeidsindikator.data.grunnbelop`). Over the 12 months
*after* the registration month (relative months 1..12): *stable work* = wage > 3 G in at least 10
months, **or** > 3 G in at least 5 of months 6..12; *without work* = wage < 1 G in at least 10
months; *in and out* = neither. Exactly 3 G is not "over 3 G" and exactly 1 G is not "under 1 G".
The months before registration give the model's history features and their bands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from arbeidsindikator.data.grunnbelop import g_per_month, month_index
from arbeidsindikator.profiling.contract import g_canonical
from arbeidsindikator.profiling.params import ProfilingParams

# --- wages relative to registration -------------------------------------------------------------


@dataclass(frozen=True)
class WageWindow:
    """Wages in G per month by registration (rows) and relative month (columns).

    ``rel_months`` run from −history to +horizon; relative month 0 is the registration month.
    Cells outside the wage extract's coverage are NaN (unobserved), cells with no wage row inside
    it are 0 (no reported wage).
    """

    reg_id: np.ndarray
    rel_months: np.ndarray
    g: np.ndarray

    def cols(self, first: int, last: int) -> np.ndarray:
        i0 = int(np.searchsorted(self.rel_months, first))
        return self.g[:, i0 : i0 + (last - first + 1)]


def wage_window(
    registrations: pd.DataFrame,
    wages: pd.DataFrame,
    g: pd.DataFrame,
    p: ProfilingParams,
    observed: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> WageWindow:
    """Wage matrix in G for every registration, months −history..+horizon.

    ``observed`` is the first and last month the wage extract covers; default: the first and
    last month present in ``wages``.
    """
    rel = np.arange(-p.history_months, p.horizon + 1)
    reg_m = month_index(registrations["registrert_dato"])
    if observed is None:
        observed = (wages["maaned"].min(), wages["maaned"].max())
    lo, hi = month_index([observed[0]])[0], month_index([observed[1]])[0]
    cal = reg_m[:, None] + rel[None, :]
    mat = np.where((cal >= lo) & (cal <= hi), 0.0, np.nan)
    regs = pd.DataFrame({"row": np.arange(len(registrations)),
                         "person_id": registrations["person_id"].to_numpy(dtype=np.int64)})
    w = pd.DataFrame({"person_id": wages["person_id"].to_numpy(dtype=np.int64), "wm": month_index(wages["maaned"]),
                      "nok": wages["lonn_nok"].to_numpy(dtype=float)}).merge(regs, on="person_id", how="inner")
    r, wm = w["row"].to_numpy(), w["wm"].to_numpy()
    k = wm - reg_m[r] + p.history_months
    keep = (k >= 0) & (k < len(rel)) & (wm >= lo) & (wm <= hi)
    mat[r[keep], k[keep]] = w["nok"].to_numpy()[keep]
    cmin = int(cal.min())
    gmat = g_per_month(g_canonical(g), cmin, int(cal.max()), missing="raise")[cal - cmin] / 12.0
    # rounded to 1e-9 G so that a wage of exactly 3 G is not "above 3 G" through floating-point noise
    return WageWindow(reg_id=registrations["reg_id"].to_numpy(), rel_months=rel, g=np.round(mat / gmat, 9))


def outcome_sequences(post_g: np.ndarray, p: ProfilingParams) -> np.ndarray:
    """Table 3 sequence group per row of wages in G for relative months 1..horizon.

    Returns an object array of ``stable`` / ``in_and_out`` / ``without_work``, or None where a
    month is unobserved. Stable is checked first (with the defaults the two cannot overlap).
    """
    post_g = np.asarray(post_g, dtype=float)
    above = post_g > p.stable_above_g
    late = above[:, p.stable_late_first - 1 : p.stable_late_last].sum(axis=1)
    stable = (above.sum(axis=1) >= p.stable_min_months) | (late >= p.stable_late_min)
    without = (post_g < p.without_below_g).sum(axis=1) >= p.without_min_months
    out = np.where(stable, "stable", np.where(without, "without_work", "in_and_out")).astype(object)
    out[np.isnan(post_g).any(axis=1)] = None
    return out


def history_features(pre_g: np.ndarray, p: ProfilingParams) -> pd.DataFrame:
    """The two wage inputs of the proposed model from months −history..−1 (in G).

    ``months_since_above`` = months back to the last month with wage > 3 G (1 = the month before
    the registration month; NaN = none in the window); ``months_above`` = number of such months.
    Rows with an unobserved month get NaN in both.
    """
    pre_g = np.asarray(pre_g, dtype=float)
    above = pre_g > p.history_above_g
    back = above[:, ::-1]
    has = back.any(axis=1)
    since = np.where(has, back.argmax(axis=1) + 1, np.nan).astype(float)
    n_above = above.sum(axis=1).astype(float)
    miss = np.isnan(pre_g).any(axis=1)
    since[miss] = np.nan
    n_above[miss] = np.nan
    return pd.DataFrame({"months_since_above": since, "months_above": n_above})


def _band_labels(edges: tuple[int, ...], top: int) -> list[str]:
    out = []
    for i, lo in enumerate(edges):
        hi = edges[i + 1] - 1 if i + 1 < len(edges) else top
        out.append(str(lo) if lo == hi else f"{lo}–{hi}")
    return out


def band_months_since(x: pd.Series | np.ndarray, p: ProfilingParams) -> pd.Categorical:
    """Months since the last month above 3 G in bands; 'none' when no such month in the window."""
    labels = _band_labels(p.months_since_bands, p.history_months) + ["none"]
    x = np.asarray(x, dtype=float)
    idx = np.searchsorted(np.asarray(p.months_since_bands), np.nan_to_num(x, nan=0), side="right") - 1
    lab = np.where(np.isnan(x), "none", np.asarray(labels, dtype=object)[np.clip(idx, 0, len(labels) - 2)])
    return pd.Categorical(lab, categories=labels)


def band_months_above(x: pd.Series | np.ndarray, p: ProfilingParams) -> pd.Categorical:
    """Months with wage above 3 G in the last 24, in bands."""
    labels = _band_labels(p.n24_bands, p.history_months)
    x = np.asarray(x, dtype=float)
    idx = np.searchsorted(np.asarray(p.n24_bands), np.nan_to_num(x, nan=0), side="right") - 1
    return pd.Categorical(np.asarray(labels, dtype=object)[np.clip(idx, 0, len(labels) - 1)], categories=labels)
