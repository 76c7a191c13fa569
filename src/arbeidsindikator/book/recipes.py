"""Recipes: what the chapters show, computed from the cube and the stage summaries.

A chapter calls a recipe and shows what it returns; it never touches person-months and imports
nothing below ``pipeline`` (``tests/test_layers.py``). Every recipe of data reads only small
tables written by the pipeline's stages (:func:`pipeline.cube`:
the indicator cube and per-chunk summaries; :func:`pipeline.main_models`: the fits and the
regressor table; :func:`pipeline.panel_meta`: fingerprint and build report), so a chapter
kernel's memory does not grow with the panel. Each recipe returns the same values as the
in-memory function it replaces (named in its docstring) on the whole panel; a test checks it.
The static tables (data contracts, a build's windows) come from the module that defines them.
Chapter 07's recipes are in :mod:`arbeidsindikator.book.profiling_view`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from arbeidsindikator import pipeline, windows
from arbeidsindikator.book.chapter import GlueValue
from arbeidsindikator.config import RunConfig
from arbeidsindikator.data.contract import HOVEDGRUPPER
from arbeidsindikator.data.contract import contract_table as panel_contract_table
from arbeidsindikator.data.extracts import contract_table as extracts_contract_table
from arbeidsindikator.indicator import cube as cb
from arbeidsindikator.panel.outcomes import HORIZONS
from arbeidsindikator.profiling.contract import contract_table as profiling_contract_table


def _counts(cfg: RunConfig, group: str) -> pd.DataFrame:
    c = pipeline.cube(cfg).summaries[f"counts_{group}"].copy()
    c = c.loc[c.sum(axis=1) > 0, c.sum(axis=0) > 0]
    c.index = pd.DatetimeIndex(c.index, name="month", freq=None)
    c.columns = pd.CategoricalIndex(c.columns, categories=pipeline.cube(cfg).levels.categories[group], name=group)
    return c


def counts_by_month(cfg: RunConfig, group: str = "hovedgruppe") -> pd.DataFrame:
    """Persons per month × group (as :func:`population.counts_by_month`); group: hovedgruppe or innsatsgruppe."""
    c = _counts(cfg, group)
    if group == "hovedgruppe":
        c = c.reindex(columns=[g for g in HOVEDGRUPPER if g in c.columns])
    return c


def _per_month(cfg: RunConfig) -> pd.Series:
    c = _counts(cfg, "hovedgruppe")
    return c.sum(axis=1).astype(np.int64)


def population_summary(cfg: RunConfig) -> dict[str, Any]:
    """Headline figures of the population (as :func:`population.summary`)."""
    per_month = _per_month(cfg)
    persons = pipeline.cube(cfg).summaries["persons"]
    return {
        "person_months": int(per_month.sum()),
        "persons": int(persons.loc[cb.ALL, "persons"]),
        "months": int(per_month.size),
        "mean_per_month": float(per_month.mean()),
        "min_per_month": int(per_month.min()),
        "max_per_month": int(per_month.max()),
        "first_month": per_month.index.min().strftime("%Y-%m"),
        "last_month": per_month.index.max().strftime("%Y-%m"),
    }


def main_group_table(cfg: RunConfig) -> pd.DataFrame:
    """Person-months, persons, share and mean per month by main group (as :func:`population.main_group_table`)."""
    c = _counts(cfg, "hovedgruppe")
    persons = pipeline.cube(cfg).summaries["persons"]["persons"]
    n_months = len(c)
    pm = c.sum(axis=0).astype(np.int64)
    t = pd.DataFrame({"person_months": pm.to_numpy(), "persons": persons.reindex([str(g) for g in pm.index]).to_numpy(np.int64)},
                     index=pd.CategoricalIndex(pm.index, name="hovedgruppe"))
    t = t.reindex([h for h in HOVEDGRUPPER if h in t.index])
    total = int(pm.sum())
    t.loc["all"] = [total, int(persons.loc[cb.ALL])]
    t["share_of_person_months"] = t["person_months"] / total
    t["mean_per_month"] = t["person_months"] / n_months
    return t


def seasonal_profile(cfg: RunConfig) -> pd.Series:
    """Mean stock by calendar month (as :func:`population.seasonal_profile`)."""
    per_month = _per_month(cfg)
    return per_month.groupby(pd.DatetimeIndex(per_month.index).month).mean()


def _national_cells(cfg: RunConfig, outcome: str) -> pd.DataFrame:
    c = pipeline.cube(cfg)
    t = cb.select(c.cells, outcome).set_index("month").sort_index()
    t.index = pd.DatetimeIndex(t.index, name="month")
    return t


def outcome_monthly_means(cfg: RunConfig) -> pd.DataFrame:
    """Mean of each outcome by month with counts (as :func:`outcomes.monthly_means`)."""
    cols: dict[str, pd.Series] = {}
    counts: dict[str, pd.Series] = {}
    n_rows = None
    for name in HORIZONS:
        t = _national_cells(cfg, name)
        cols[name] = (t["sum_y"] / t["n"]).where(t["n"] > 0)
        counts[f"n_{name}"] = t["n"].astype(np.int64)
        n_rows = t["n_all"].astype(np.int64)
    res = pd.DataFrame(cols)
    for k, v in counts.items():
        res[k] = v
    res["n_rows"] = n_rows
    return res


def outcome_overall_means(cfg: RunConfig) -> dict[str, float]:
    """Whole-period mean of each outcome (as :func:`outcomes.overall_means`)."""
    out = {}
    for name in HORIZONS:
        t = _national_cells(cfg, name)
        out[name] = float(t["sum_y"].sum() / t["n"].sum())
    return out


def observability_summary(cfg: RunConfig) -> pd.DataFrame:
    """Rows observed / not yet observable and the last month observed (as :func:`outcomes.observability_summary`)."""
    rows = []
    for name in HORIZONS:
        t = _national_cells(cfg, name)
        obs = t[t["n"] > 0]
        rows.append({
            "outcome": name,
            "horizon (months)": HORIZONS[name],
            "rows observed": int(t["n"].sum()),
            "rows not yet observable": int((t["n_all"] - t["n"]).sum()),
            "last month observed": obs.index.max().strftime("%Y-%m") if len(obs) else "—",
        })
    return pd.DataFrame(rows)


def population_glue(cfg: RunConfig) -> dict[str, Any]:
    """Chapter 01's prose numbers (``ch.glue_all``): size and period of the panel, the main groups'
    shares of person-months, and the calendar months with the largest and smallest mean stock."""
    s = population_summary(cfg)
    groups = main_group_table(cfg)
    season = seasonal_profile(cfg)
    return {
        "pop_rows": s["person_months"], "pop_persons": s["persons"], "pop_months": s["months"],
        "pop_mean": GlueValue(s["mean_per_month"], 0), "pop_first": s["first_month"], "pop_last": s["last_month"],
        "pop_share_nedsatt": GlueValue(groups.loc["nedsatt_arbeidsevne", "share_of_person_months"], pct=True),
        "pop_share_helt": GlueValue(groups.loc["helt_ledige", "share_of_person_months"], pct=True),
        "pop_month_max": season.idxmax(), "pop_month_min": season.idxmin(),
    }


def outcomes_glue(cfg: RunConfig) -> dict[str, Any]:
    """Chapter 02's prose numbers (``ch.glue_all``): each outcome's mean in the first month and over
    the period (jobb as per cent), rows not yet observable and the last month observed."""
    means = outcome_monthly_means(cfg)
    first = means.index[0]
    overall = outcome_overall_means(cfg)
    obs = observability_summary(cfg).set_index("outcome")
    glue: dict[str, Any] = {"out_first": first.strftime("%B %Y")}
    for name in HORIZONS:
        jobb = name.startswith("jobb")
        glue[f"out_{name}_first"] = GlueValue(means.loc[first, name], 0 if jobb else 1, pct=jobb)
        glue[f"out_{name}_mean"] = GlueValue(overall[name] * (100 if jobb else 1), 1 if jobb else 2)
    for h in ("3", "12"):
        glue[f"out_na{h}"] = int(obs.loc[f"atid{h}", "rows not yet observable"])
        glue[f"out_last{h}"] = obs.loc[f"atid{h}", "last month observed"]
    return glue


def regressor_table(cfg: RunConfig) -> pd.DataFrame:
    """The regressor blocks of the atid3 design (as :func:`tables.regressor_table`), from the model stage."""
    return pipeline.main_models(cfg).regressors


def mean_residual(cfg: RunConfig, outcome: str) -> float:
    """Mean residual over all observable rows (as :func:`indicator.sums_to_zero`)."""
    t = _national_cells(cfg, outcome)
    return float(t["sum_r"].sum() / t["n"].sum())


def descriptive_vs_published(cfg: RunConfig, table: int) -> pd.DataFrame:
    """Appendix A table 1 or 2 beside the report (as :func:`tables.descriptive_vs_published`)."""
    from arbeidsindikator.book import tables

    m = pipeline.cube(cfg).summaries["measures"].xs(f"t{table}", level="table")
    means = m.xs("sum", level="stat") / m.xs("count", level="stat")
    present = [str(g) for g in _counts(cfg, "hovedgruppe").columns]
    means = means[[cb.ALL] + present]
    means.index.name = None
    means.columns = [str(c) for c in means.columns]
    return tables.descriptive_beside_published(means.astype(float), table)


def table3_vs_published(cfg: RunConfig) -> pd.DataFrame:
    """Mean outcomes by county (all, young, country group 3) and service group (as :func:`tables.table3_vs_published`)."""
    from arbeidsindikator.book import tables

    c = pipeline.cube(cfg)
    specs = {"all": ("fylke", None, None), "young": ("fylke", "ungdomsgaranti", "True"),
             "landgruppe3": ("fylke", "landgruppe3", "True"), "innsatsgruppe": (None, "innsatsgruppe", None)}
    rows = []
    for panel_name, (org, by, group) in specs.items():
        col = org or by
        per = {o: cb.pooled(c.cells, o, org, by, group) for o in ("atid3", "jobb3", "atid12", "jobb12")}
        counts = per["atid3"]["n_all"]
        order = [g for g in c.levels.categories[col] if g in counts.index and counts[g] > 0]
        for g in order:
            rows.append({"panel": panel_name, "group": g, "persons-months": int(counts[g]),
                         **{o: float(per[o].loc[g, "actual"]) if per[o].loc[g, "n"] > 0 else float("nan") for o in per}})
    return tables.table3_beside_published(pd.DataFrame(rows))


def long_format(cfg: RunConfig) -> pd.DataFrame:
    """Every indicator series in NAV's long export format (as :func:`export.long_format`), from the cube."""
    from arbeidsindikator.indicator import export

    c = pipeline.cube(cfg)
    return export.long_format_from(lambda outcome, keys: cb.monthly_table(c.cells, c.levels, outcome, keys or None), cfg,
                                   office_counties(cfg))


def office_counties(cfg: RunConfig) -> dict[str, str]:
    """Office → county from the stored panel, read in chunks (two columns at a time)."""
    pairs: dict[str, str] = {}
    for chunk in pipeline.iter_chunks(cfg, columns=["nav_kontor", "fylke"]):
        u = chunk.drop_duplicates()
        pairs.update(zip(u["nav_kontor"].astype(str), u["fylke"].astype(str)))
    return dict(sorted(pairs.items()))


# --- static tables: the data dictionary (chapter 08) and the build's windows (chapter 10) ---


def panel_contract() -> pd.DataFrame:
    """The analysis panel's contract, one row per column (:func:`data.contract.contract_table`)."""
    return panel_contract_table()


def extracts_contract() -> pd.DataFrame:
    """The raw register extracts' contract, one row per table column (:func:`data.extracts.contract_table`)."""
    return extracts_contract_table()


def profiling_contract() -> pd.DataFrame:
    """The profiling extracts' contract, one row per table column (:func:`profiling.contract.contract_table`)."""
    return profiling_contract_table()


def windows_table(cfg: RunConfig) -> pd.DataFrame:
    """The period and seasonal reference windows a build used, and why (:func:`windows.windows_table`)."""
    return windows.windows_table(cfg)


def intro(cfg: RunConfig) -> dict[str, Any]:
    """Population headline figures, the data fingerprint and what the data are, in words (chapter 0)."""
    from arbeidsindikator.book.chapter import synthetic_data

    source = ("synthetic register data made by this project's generator" if cfg.is_synthetic
              else f"synthetic extracts made by this project's generator, in {cfg.data_path}" if synthetic_data(cfg)
              else f"the extracts in {cfg.data_path}")
    return {"summary": population_summary(cfg), "fingerprint": pipeline.panel_meta(cfg).fingerprint, "source": source}


def intro_glue(cfg: RunConfig) -> dict[str, Any]:
    """Chapter 00's prose values (``ch.glue_all``): what the data are, their period and size, the fingerprint."""
    i = intro(cfg)
    s = i["summary"]
    return {"intro_source": i["source"], "intro_first": s["first_month"], "intro_last": s["last_month"],
            "intro_rows": s["person_months"], "intro_persons": s["persons"], "intro_fp": i["fingerprint"]}


def planted_truth(cfg: RunConfig, name: str) -> pd.Series | None:
    """A planted effect of the synthetic generator (None for real data)."""
    return pipeline.panel_meta(cfg).truth.get(name)


# --- uncertainty ---

LONG_EXPORT_FILES = {"csv": "arbeidsindikator_long.csv", "xlsx": "arbeidsindikator_long.xlsx"}


def long_export(cfg: RunConfig, folder: "Path") -> dict[str, Any]:
    """Write the long-format export with the default method's person-clustered 95 % bounds.

    The one place that writes it (the results chapter calls it once per build): after the
    intervals exist (:func:`analyses.uncertainty.book_intervals`, cached, so the uncertainty
    chapter reuses them), as CSV and Excel in ``folder``. Returns the file paths, rows and
    suppressed rows.
    """
    from pathlib import Path

    from arbeidsindikator.analyses import interval_views, uncertainty
    from arbeidsindikator.indicator import export

    long = interval_views.add_export_intervals(long_format(cfg), uncertainty.book_intervals(cfg).table)
    files = export.write_exports(long, Path(folder))
    return {"files": files, "rows": int(len(long)), "suppressed": int(long["PRIKKET"].sum())}


def long_export_files(cfg: RunConfig, folder: "Path") -> dict[str, "Path"]:
    """The export files the results chapter wrote in ``folder`` (written here only if missing,
    e.g. when the uncertainty chapter runs on its own)."""
    from pathlib import Path

    files = {k: Path(folder) / v for k, v in LONG_EXPORT_FILES.items()}
    if not all(p.is_file() for p in files.values()):
        files = long_export(cfg, folder)["files"]
    return files


# --- alternatives ---

def highlighted_counties() -> tuple[str, ...]:
    """The counties the report highlights in its county figures (figures 14, 15 and 31)."""
    from arbeidsindikator.indicator.indicator import SELECTED_COUNTIES

    return tuple(SELECTED_COUNTIES)
