"""The work indicator for any grouping of panel rows (seed 002 ch. 4–5; digest §1.3, §1.6, §1.7).

For a group s of person-months with an observed outcome,
``I_s = mean(actual) − mean(expected)``. jobb outcomes are kept as fractions here and shown
in percentage points by the plots and tables.

Two 95 % intervals are given. ``*_printed`` is the report's formula (ch. 4), which treats the
actual level as the only random part: ``μ ± 1.96·σ/√n`` for hours and ``p ± 1.96·√(p(1−p)/n)``
for job shares, centred here on the indicator. ``*_resid`` uses the spread of the residuals
``actual − expected``, i.e. it includes the variance of the expected values and their
covariance with the actual ones, which the printed formula omits (still conditional on the
estimated coefficients; the bootstrap chapter adds their uncertainty).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

Z95 = 1.959963984540054


def indicator_table(df: pd.DataFrame, outcome: str, by: Sequence[str] | str) -> pd.DataFrame:
    """Actual, expected, indicator, persons and intervals per group.

    ``df`` is the panel with ``exp_<outcome>`` (see :func:`pipeline.panel_with_expected`).
    Rows whose outcome is not observable are left out and counted in ``n_not_observable``.
    """
    by = [by] if isinstance(by, str) else list(by)
    y = df[outcome]
    obs = y.notna()
    work = pd.DataFrame({c: df[c] for c in by})
    work["y"] = y
    work["e"] = df[f"exp_{outcome}"]
    work["r"] = work["y"] - work["e"]
    work["obs"] = obs
    g_all = work.groupby(by, observed=True, sort=True)
    n_missing = g_all["obs"].size() - g_all["obs"].sum()
    g = work[obs].groupby(by, observed=True, sort=True)
    out = pd.DataFrame(
        {
            "n": g["y"].size(),
            "actual": g["y"].mean(),
            "expected": g["e"].mean(),
            "sd_actual": g["y"].std(ddof=1),
            "sd_resid": g["r"].std(ddof=1),
        }
    )
    out["indicator"] = out["actual"] - out["expected"]
    if outcome.startswith("jobb"):
        se_printed = np.sqrt(out["actual"] * (1 - out["actual"]) / out["n"])
    else:
        se_printed = out["sd_actual"] / np.sqrt(out["n"])
    se_resid = out["sd_resid"] / np.sqrt(out["n"])
    out["lower_printed"] = out["indicator"] - Z95 * se_printed
    out["upper_printed"] = out["indicator"] + Z95 * se_printed
    out["lower_resid"] = out["indicator"] - Z95 * se_resid
    out["upper_resid"] = out["indicator"] + Z95 * se_resid
    out["se_printed"] = se_printed
    out["se_resid"] = se_resid
    out["n_not_observable"] = n_missing.reindex(out.index).fillna(0).astype(int)
    out.insert(0, "outcome", outcome)
    return out.drop(columns=["sd_actual", "sd_resid"])


def monthly(df: pd.DataFrame, outcome: str, by: Sequence[str] | str | None = None) -> pd.DataFrame:
    """Indicator by measurement month (and optionally by further groups, as extra index levels)."""
    extra = [] if by is None else ([by] if isinstance(by, str) else list(by))
    return indicator_table(df, outcome, ["month", *extra])


def wide(table: pd.DataFrame, value: str, group: str, min_count: int | None = None) -> pd.DataFrame:
    """Months × groups matrix of one column of a monthly-by-group indicator table.

    With ``min_count``, cells built on fewer persons are blanked, so figures obey the same
    suppression rule as tables.
    """
    v = table[value]
    if min_count is not None:
        v = v.where(table["n"] >= min_count)
    return v.unstack(group)


def suppress_small_cells(df: pd.DataFrame, count_col: str | None, min_count: int) -> pd.DataFrame:
    """Blank every numeric value (except the count) in rows with fewer than ``min_count`` persons.

    Official statistics do not publish cells built on very few persons; the suppressed rows
    stay in the table, marked, so nothing disappears silently.
    """
    out = df.copy()
    if count_col is None:
        return out
    small = out[count_col] < min_count
    numeric = [c for c in out.select_dtypes("number").columns if c != count_col]
    out.loc[small, numeric] = np.nan
    out["suppressed"] = small
    return out


def percent_deviation(series: pd.DataFrame) -> pd.Series:
    """Indicator as a share of the period's mean actual level (figure 26): I_t / mean(actual)."""
    return series["indicator"] / series["actual"].mean()


def tertial_means(series: pd.Series) -> pd.Series:
    """Four-month averages (Jan–Apr, May–Aug, Sep–Dec) of a monthly series (figures 27–28).

    Only complete tertials (four observed months) are kept; the result is indexed by the
    tertial's first month.
    """
    s = series.dropna()
    idx = pd.DatetimeIndex(s.index)
    tertial = (idx.month - 1) // 4
    key = pd.to_datetime({"year": idx.year, "month": tertial * 4 + 1, "day": 1}).to_numpy()
    g = s.groupby(key)
    means = g.mean()
    return means[g.size() == 4]


def sums_to_zero(df: pd.DataFrame, outcome: str) -> float:
    """Mean residual over all observable rows: zero for OLS with a constant (a built-in check)."""
    obs = df[outcome].notna()
    return float((df.loc[obs, outcome] - df.loc[obs, f"exp_{outcome}"]).mean())


YOUTH_GUARANTEE_GROUPS = ("situasjonsbestemt", "spesielt_tilpasset")
#: Programme comparisons of the report (figures 20–23) and the programme shown in two counties (fig. 24).
PROGRAMME_PAIRS = (("Oppfølging", "Arbeid med støtte"), ("Jobbklubb", "Digitalt oppfølgingstiltak"))
PROGRAMME_TWO_COUNTIES = ("Oppfølging", ("Oslo", "Innlandet"))
#: Counties the report highlights in its "selected counties" panels (figures 10a–13a).
SELECTED_COUNTIES = ("Møre og Romsdal", "Nordland", "Oslo", "Østfold", "Innlandet")


def add_derived_groups(df: pd.DataFrame) -> pd.DataFrame:
    """Add the report's derived breakdowns (ch. 5): youth guarantee and country group 3.

    * ``ungdomsgaranti``: under 30 with situasjonsbestemt or spesielt tilpasset innsats (fig. 12);
    * ``landgruppe3``: born in Asia, Africa, Latin America, non-EU Eastern Europe or Oceania
      except Australia/New Zealand (fig. 13).
    """
    return df.assign(
        ungdomsgaranti=(df["alder"] < 30) & df["innsatsgruppe"].astype(str).isin(YOUTH_GUARANTEE_GROUPS),
        landgruppe3=df["landgruppe"] == 3,
    )


def all_outcomes(series: dict[str, pd.DataFrame], column: str = "indicator", pp: bool = True) -> pd.DataFrame:
    """Months × outcomes frame of one column; jobb in percentage points if ``pp`` (figure 25)."""
    return pd.DataFrame({o: s[column] * (100 if pp and o.startswith("jobb") else 1) for o, s in series.items()})


def percent_deviation_all(series: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Indicator / period-mean actual, in percent, for every outcome (figure 26)."""
    return pd.DataFrame({o: 100 * percent_deviation(s) for o, s in series.items()})


def tertials_all(frame: pd.DataFrame) -> pd.DataFrame:
    """Four-month means of every column (figure 28)."""
    return pd.DataFrame({c: tertial_means(frame[c].dropna()) for c in frame.columns})


def period_means(table: pd.DataFrame, group: str) -> pd.DataFrame:
    """Person-weighted period means of actual, expected and indicator per group (table 3 style)."""
    t = table.reset_index()
    w = t["n"]
    g = t.assign(wa=t["actual"] * w, we=t["expected"] * w).groupby(group, observed=True)
    out = pd.DataFrame({"n": g["n"].sum()})
    out["actual"] = g["wa"].sum() / out["n"]
    out["expected"] = g["we"].sum() / out["n"]
    out["indicator"] = out["actual"] - out["expected"]
    return out
