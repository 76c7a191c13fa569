"""Views of the interval table for the book and the export: method comparisons, bands, the
export's bound columns (from :mod:`arbeidsindikator.analyses.uncertainty`'s table)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from arbeidsindikator.analyses.uncertainty import DEFAULT_METHOD, MONTHLY


def method_comparison(table: pd.DataFrame, grouping: str = "national",
                      statistics: Sequence[str] = ("month", "month_adjusted", "tertial_adjusted", "period")) -> pd.DataFrame:
    """Mean standard error per method and statistic: like compared with like (adjusted with adjusted)."""
    t = table[(table["grouping"] == grouping) & table["statistic"].isin(statistics)]
    out = t.groupby(["outcome", "statistic", "method"], observed=True)["se"].mean().unstack("method")
    if "analytic_person" in out:
        out = out.assign(**{f"ratio {m}/analytic_person": out[m] / out["analytic_person"]
                            for m in out.columns if m != "analytic_person"})
    return out.reset_index()


def refit_summary(table: pd.DataFrame, diagnostics: pd.DataFrame, grouping: str = "national",
                  statistic: str = "month") -> pd.DataFrame:
    """The refit bootstrap of every outcome that has one: where it ran (whole panel or person
    subsample), its size and time per replicate, and its mean SE over the grouping's monthly
    values relative to the analytic SE at the same level on the same sample."""
    t = table[(table["grouping"] == grouping) & (table["statistic"] == statistic)]
    se = t.groupby(["outcome", "method"], observed=True)["se"].mean()
    rows = []
    for _, d in diagnostics.iterrows():
        o = d["outcome"]
        if pd.isna(d.get("refit_sample", np.nan)):
            continue
        sfx = "_subsample" if d["refit_sample"] == "subsample" else ""
        row: dict[str, object] = {
            "outcome": o, "sample": "person subsample" if sfx else "whole panel",
            "persons": d.get("refit_sample_persons", np.nan) if sfx else np.nan,
            "person_months": d.get("refit_sample_rows", np.nan) if sfx else d.get("rows", np.nan),
            "replicates": d.get("refit_person_replicates", np.nan)}
        for lv in ("observation", "person"):
            row[f"s_per_replicate_{lv}"] = d.get(f"refit_{lv}_seconds_per_replicate", np.nan)
            ref, ana = se.get((o, f"refit_{lv}{sfx}"), np.nan), se.get((o, f"analytic_{lv}{sfx}"), np.nan)
            row[f"ratio refit/analytic ({lv})"] = ref / ana
        for k in ("aliased", "failed", "separated"):
            row[k] = int(sum(d.get(f"refit_{lv}_{k}", 0) or 0 for lv in ("observation", "person")))
        rows.append(row)
    return pd.DataFrame(rows)


def refit_table(summary: pd.DataFrame) -> pd.DataFrame:
    """:func:`refit_summary` without its timing columns: a table must be the same in every build
    of the same data and parameters (timings go to the prose)."""
    return summary.drop(columns=[c for c in summary.columns if c.startswith("s_per_replicate")])


def refit_outcomes_text(summary: pd.DataFrame) -> str:
    """The outcomes the refit bootstrap ran for (rows of :func:`refit_summary`), for the prose."""
    return ", ".join(summary["outcome"]) if len(summary) else "no outcome"


def refit_cost_text(summary: pd.DataFrame) -> str:
    """Seconds per refit replicate (by observation) of each outcome in :func:`refit_summary`."""
    from arbeidsindikator.spec import FAMILY

    parts = [f"{r.s_per_replicate_observation:.2f} s per replicate for {r.outcome} by "
             f"{'OLS' if FAMILY[r.outcome] == 'ols' else 'probit'}" for r in summary.itertuples()]
    return "; ".join(parts) if parts else "not run"


#: grouping -> (ORG_NIVAA, unit -> ORG_STED, unit -> NEDBRYTNING) of the long-format export
def _export_keys(grouping: str, unit: str) -> tuple[int, str, str]:
    from arbeidsindikator.indicator.export import INNSATSGRUPPE_NAV

    if grouping == "national":
        return 1, "Norge", "Alle"
    if grouping == "county":
        return 2, unit, "Alle"
    if grouping == "office":
        return 3, unit, "Alle"
    if grouping == "service_group":
        return 1, "Norge", "Innsatsgruppe - " + INNSATSGRUPPE_NAV.get(unit, unit)
    if grouping == "programme":
        return 1, "Norge", "Tiltak - " + unit
    if grouping == "youth_guarantee":
        return 1, "Norge", "Ungdomsgaranti"
    return 1, "Norge", "Landgruppe 3"


EXPORT_COLUMNS = ["NEDRE_95_PERSON", "OVRE_95_PERSON", "NEDRE_95_SESONGJUSTERT_PERSON", "OVRE_95_SESONGJUSTERT_PERSON"]


def add_export_intervals(long: pd.DataFrame, table: pd.DataFrame, method: str = DEFAULT_METHOD) -> pd.DataFrame:
    """Add the default method's 95 % bounds (unadjusted and seasonally adjusted) to the long export.

    ``long`` is :func:`indicator.export.long_format`'s table, ``table`` the concatenated
    :attr:`Intervals.table` of the outcomes. Rows of breakdowns not covered here (e.g. county ×
    service group) and suppressed rows (``PRIKKET``) get empty bounds. Call it from the pipeline
    or the book (``analyses`` sits above ``indicator`` in the layer order).
    """
    t = table[(table["method"] == method) & table["statistic"].isin(MONTHLY)].copy()
    keys = [ _export_keys(g, u) for g, u in zip(t["grouping"], t["unit"]) ]
    t["ORG_NIVAA"] = [k[0] for k in keys]
    t["ORG_STED"] = [k[1] for k in keys]
    t["NEDBRYTNING"] = [k[2] for k in keys]
    t["BEHOLDNINGSMAANED"] = pd.DatetimeIndex(t["period"]).strftime("%Y-%m")
    t["UTFALL"] = t["outcome"]
    k = ["UTFALL", "ORG_NIVAA", "ORG_STED", "NEDBRYTNING", "BEHOLDNINGSMAANED"]
    wide = t.pivot_table(index=k, columns="statistic", values=["lower_95", "upper_95"], aggfunc="first")
    wide.columns = [f"{a}|{b}" for a, b in wide.columns]
    rename = {"lower_95|month": EXPORT_COLUMNS[0], "upper_95|month": EXPORT_COLUMNS[1],
              "lower_95|month_adjusted": EXPORT_COLUMNS[2], "upper_95|month_adjusted": EXPORT_COLUMNS[3]}
    wide = wide.rename(columns=rename).reindex(columns=EXPORT_COLUMNS).reset_index()
    out = long.drop(columns=[c for c in EXPORT_COLUMNS if c in long.columns]).merge(wide, on=k, how="left")
    if "PRIKKET" in out:
        out.loc[out["PRIKKET"].astype(bool), EXPORT_COLUMNS] = np.nan
    return out


def bands(table: pd.DataFrame, outcome: str, method: str = DEFAULT_METHOD, grouping: str = "national",
          unit: str = "Norge", statistic: str = "month_adjusted") -> pd.DataFrame:
    """One curve's indicator and 50/80/95 % bounds indexed by month (for the band figure)."""
    t = table[(table["outcome"] == outcome) & (table["method"] == method) & (table["grouping"] == grouping)
              & (table["unit"] == unit) & (table["statistic"] == statistic)]
    return t.set_index(pd.DatetimeIndex(t["period"], name="month"))[
        ["indicator", "se", "lower_50", "upper_50", "lower_80", "upper_80", "lower_95", "upper_95"]]


def in_percentage_points(table: pd.DataFrame) -> pd.DataFrame:
    """jobb rows' values ×100 (percentage points) and periods as YYYY-MM text, for shown tables."""
    out = table.copy()
    if "period" in out:
        out["period"] = pd.DatetimeIndex(out["period"]).strftime("%Y-%m").fillna("whole period")
    vals = [c for c in out.columns if c in ("indicator", "se") or c.startswith(("lower_", "upper_", "ratio"))]
    jobb = out["outcome"].astype(str).str.startswith("jobb") if "outcome" in out else False
    out.loc[jobb, [c for c in vals if not c.startswith("ratio")]] *= 100
    return out
