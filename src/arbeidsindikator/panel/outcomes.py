"""The four outcome measures (seed 002 ch. 3; digest §1.2).

With h(i, t) the sum of agreed working hours of person i in calendar month t:

* ``atid3(i,t)  = sum_{x=1..3}  h(i,t+x) / 13``   average weekly hours in t+1..t+3 (13 weeks)
* ``atid12(i,t) = sum_{x=1..12} h(i,t+x) / 52``   average weekly hours in t+1..t+12 (52 weeks)
* ``jobb3(i,t)  = 1`` if the person worked more than 19 hours a week in month t+3
* ``jobb12(i,t) = 1`` likewise in month t+12

A month's weekly hours are its hours divided by 52/12 weeks, consistent with 13 weeks in three
months. A person-month with no employment record within the observed window worked 0 hours
(the employer register lists every contract). An outcome whose horizon reaches past the last
observed hours month is **not observable** and stays empty (NaN) — never zero-filled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from arbeidsindikator.data.grunnbelop import month_index
from arbeidsindikator.spec import HORIZONS

WEEKS_PER_MONTH = 52 / 12
JOB_HOURS_PER_WEEK = 19.0


def _keys(person: np.ndarray, midx: np.ndarray) -> np.ndarray:
    return person.astype(np.int64) * 100_000 + midx


def compute_outcomes(
    keys: pd.DataFrame,
    hours: pd.DataFrame,
    last_hours_month: pd.Timestamp | str,
    chunk_rows: int = 2_000_000,
) -> pd.DataFrame:
    """Outcomes for every (person_id, month) row of ``keys`` from monthly hours.

    Parameters
    ----------
    keys : frame with ``person_id`` and ``month`` (first of month), one row per person-month.
    hours : frame with ``person_id``, ``month``, ``hours`` (sum of hours in the month, ≥ 0),
        at most one row per person-month.
    last_hours_month : the last month for which hours are observed; outcomes needing later
        months are NaN.

    Returns a frame aligned with ``keys`` with columns atid3, atid12, jobb3, jobb12 (float64).
    """
    last = int(month_index(pd.DatetimeIndex([pd.Timestamp(last_hours_month)]))[0])
    out = outcomes_by_index(keys["person_id"].to_numpy(), month_index(keys["month"]), hours["person_id"].to_numpy(),
                            month_index(hours["month"]), hours["hours"].to_numpy(dtype=np.float64), last, chunk_rows)
    return pd.DataFrame(out, index=keys.index)


def outcomes_by_index(person: np.ndarray, midx: np.ndarray, h_person: np.ndarray, h_midx: np.ndarray,
                      h_hours: np.ndarray, last: int, chunk_rows: int = 2_000_000) -> dict[str, np.ndarray]:
    """:func:`compute_outcomes` on arrays: months as month indices (``grunnbelop.month_index``).

    The panel builder calls this directly (its months are indices already). The hours of months
    t+1..t+12 of a row are the (at most 12) hours rows that follow the first one after t in
    (person, month) order: one binary search per row instead of twelve.
    """
    hk = _keys(np.asarray(h_person), np.asarray(h_midx, dtype=np.int64))
    order = np.argsort(hk, kind="stable")
    hk = hk[order]
    if len(hk) > 1 and np.any(hk[1:] == hk[:-1]):
        raise ValueError("hours: duplicate person-months")
    hv = np.asarray(h_hours, dtype=np.float64)[order]
    n = len(person)
    out = {name: np.full(n, np.nan) for name in HORIZONS}
    midx_all = np.asarray(midx, dtype=np.int64)
    for lo in range(0, n, chunk_rows):
        hi = min(n, lo + chunk_rows)
        base = _keys(np.asarray(person[lo:hi]), midx_all[lo:hi])
        h = np.zeros((hi - lo, 12))
        first = np.searchsorted(hk, base + 1)
        rows = np.arange(hi - lo)
        for j in range(12):
            p = first + j
            inside = p < len(hk)
            off = np.where(inside, hk[np.minimum(p, len(hk) - 1)] - base, 0) if len(hk) else np.zeros(hi - lo, np.int64)
            hit = (off >= 1) & (off <= 12)
            if not hit.any():
                break
            h[rows[hit], off[hit] - 1] = hv[p[hit]]
        m = midx_all[lo:hi]
        ok3 = m + 3 <= last
        ok12 = m + 12 <= last
        out["atid3"][lo:hi] = np.where(ok3, h[:, :3].sum(axis=1) / 13, np.nan)
        out["atid12"][lo:hi] = np.where(ok12, h.sum(axis=1) / 52, np.nan)
        out["jobb3"][lo:hi] = np.where(ok3, (h[:, 2] / WEEKS_PER_MONTH > JOB_HOURS_PER_WEEK).astype(float), np.nan)
        out["jobb12"][lo:hi] = np.where(ok12, (h[:, 11] / WEEKS_PER_MONTH > JOB_HOURS_PER_WEEK).astype(float), np.nan)
    return out


def monthly_means(panel: pd.DataFrame) -> pd.DataFrame:
    """Mean of each outcome by measurement month over observable rows, with counts (figure 1)."""
    g = panel.groupby("month", observed=True)
    res = g[list(HORIZONS)].mean()
    for name in HORIZONS:
        res[f"n_{name}"] = g[name].count()
    res["n_rows"] = g.size()
    return res


def overall_means(panel: pd.DataFrame) -> dict[str, float]:
    """Whole-period mean of each outcome over observable rows (table 4, bottom row)."""
    return {name: float(panel[name].mean()) for name in HORIZONS}


def observability_summary(panel: pd.DataFrame) -> pd.DataFrame:
    """How many rows have each outcome observed, and the last month observed (nothing silent)."""
    rows = []
    for name in HORIZONS:
        obs = panel[name].notna()
        rows.append(
            {
                "outcome": name,
                "horizon (months)": HORIZONS[name],
                "rows observed": int(obs.sum()),
                "rows not yet observable": int((~obs).sum()),
                "last month observed": panel.loc[obs, "month"].max().strftime("%Y-%m") if obs.any() else "—",
            }
        )
    return pd.DataFrame(rows)
