"""The population: persons under work-oriented follow-up (§14a, excluding varig tilpasset).

Counts by measurement month and group (seed 002 ch. 2, appendix A table 1, figure 29).
"""

from __future__ import annotations

import pandas as pd

from arbeidsindikator.data.contract import HOVEDGRUPPER


def counts_by_month(panel: pd.DataFrame, group: str = "hovedgruppe") -> pd.DataFrame:
    """Persons per measurement month (rows) and group (columns); one row per person-month."""
    c = panel.groupby(["month", group], observed=True).size().unstack(group, fill_value=0)
    if group == "hovedgruppe":
        c = c.reindex(columns=[g for g in HOVEDGRUPPER if g in c.columns])
    return c


def summary(panel: pd.DataFrame) -> dict[str, float]:
    """Headline figures of the population (the report's ch. 2 text)."""
    per_month = panel.groupby("month").size()
    return {
        "person_months": int(len(panel)),
        "persons": int(panel["person_id"].nunique()),
        "months": int(per_month.size),
        "mean_per_month": float(per_month.mean()),
        "min_per_month": int(per_month.min()),
        "max_per_month": int(per_month.max()),
        "first_month": panel["month"].min().strftime("%Y-%m"),
        "last_month": panel["month"].max().strftime("%Y-%m"),
    }


def main_group_table(panel: pd.DataFrame) -> pd.DataFrame:
    """Person-months, share and mean persons per month by main group (table 1 bottom rows)."""
    n_months = panel["month"].nunique()
    g = panel.groupby("hovedgruppe", observed=True)
    t = pd.DataFrame({"person_months": g.size(), "persons": g["person_id"].nunique()})
    t = t.reindex([h for h in HOVEDGRUPPER if h in t.index])
    t.loc["all"] = [len(panel), panel["person_id"].nunique()]
    t["share_of_person_months"] = t["person_months"] / len(panel)
    t["mean_per_month"] = t["person_months"] / n_months
    return t


def seasonal_profile(panel: pd.DataFrame) -> pd.Series:
    """Mean stock by calendar month (the report: August highest, January lowest)."""
    per_month = panel.groupby("month").size()
    return per_month.groupby(pd.DatetimeIndex(per_month.index).month).mean()
