"""Chapter 07's recipes: the evaluation of a build, the numbers its prose quotes (with their
formats) and the small tables built from the evaluation. Nothing here estimates anything; the
estimation is :func:`arbeidsindikator.profiling.evaluation.evaluate`.

The chapter imports only this module (besides the book helpers)::

    ev = profiling_view.evaluation(ch.cfg)
    ch.glue_all(profiling_view.glue_values(ev))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from arbeidsindikator import pipeline
from arbeidsindikator.book.chapter import GlueValue
from arbeidsindikator.config import RunConfig
from arbeidsindikator.profiling import evaluation as profiling

#: glue name → (key of profiling.key_numbers, format). Format: "pct0"/"pct1" (fraction as percent),
#: "int" (count), "d0"/"d1"/"d2"/"d3" (decimals), "pp0"/"pp1" (fraction shown in percentage points).
_KEYS: dict[str, tuple[str, str]] = {
    "prof_n": ("n", "int"), "prof_months": ("n_months", "int"), "prof_per_month": ("per_month", "d0"),
    "prof_typical": ("typical_month", "int"),
    "prof_share_stable": ("share_stable", "pct0"), "prof_share_inout": ("share_in_out", "pct0"),
    "prof_share_without": ("share_without", "pct0"), "prof_std": ("prof_standard", "pct0"),
    "prof_dec_std": ("dec_standard", "pct0"), "prof_dec_given_std": ("dec_std_given_prof_std", "pct0"),
    "prof_not_stable_std": ("not_stable_given_prof_std", "pct0"),
    "prof_not_stable_dec": ("not_stable_given_dec_std", "pct0"),
    "prof_tag_hind": ("tag_hindrance", "pct0"), "prof_tag_edu": ("tag_education", "pct0"),
    "prof_tag_work": ("tag_work", "pct0"), "prof_to_noe": ("to_noe", "pct1"),
    "prof_std_legacy": ("std_legacy", "pct1"), "prof_std_nus2": ("std_nus2", "pct1"),
    "prof_std_margin4": ("std_margin4", "pct1"), "prof_std_default": ("std_default", "pct1"),
    "prof_acc_prof": ("acc_prof", "pct0"), "prof_acc_dec": ("acc_dec", "pct0"),
    "prof_acc_prof_nw": ("acc_prof_nw", "pct0"), "prof_acc_dec_nw": ("acc_dec_nw", "pct0"),
    "prof_pub_prof_cells": ("pub_prof_cells", "pct0"), "prof_pub_dec_cells": ("pub_dec_cells", "pct0"),
    "prof_pub_dec_other": ("pub_dec_other", "pct0"), "prof_pub_prof_other": ("pub_prof_other", "pct0"),
    "prof_acc_today": ("acc_today", "pct0"), "prof_acc_a": ("acc_a", "pct0"), "prof_acc_b": ("acc_b", "pct0"),
    "prof_acc_today_nw": ("acc_today_nw", "pct0"), "prof_vol_a": ("vol_a", "pct0"), "prof_vol_b": ("vol_b", "pct0"),
    "prof_a_more_stable": ("a_more_stable", "d0"), "prof_a_fewer_without": ("a_fewer_without", "d0"),
    "prof_b_more_noe": ("b_more_noe", "d0"), "prof_b_more_without": ("b_more_without", "d0"),
    "prof_b_more_stable": ("b_more_stable", "d0"),
    "prof_prec_today": ("prec_today", "pct0"), "prof_prec_a": ("prec_a", "pct0"),
    "prof_auc_stable": ("auc_stable", "d2"), "prof_auc_without": ("auc_without", "d2"),
    "prof_auc_tree": ("auc_tree", "d2"), "prof_auc_dec": ("auc_dec", "d2"),
    "prof_brier": ("brier_stable", "d3"), "prof_brier_null": ("brier_null", "d3"),
    "prof_mcnemar_a": ("mcnemar_a_only", "int"), "prof_mcnemar_tree": ("mcnemar_tree_only", "int"),
    "prof_boot_diff": ("boot_diff", "pp1"), "prof_boot_lo": ("boot_lo", "pp1"), "prof_boot_hi": ("boot_hi", "pp1"),
    "prof_boot_reps": ("boot_reps", "int"),
    "prof_tv_auc_out": ("tv_auc_out", "d3"), "prof_tv_auc_in": ("tv_auc_in", "d3"),
    "prof_tv_pred": ("tv_pred_out", "pct1"), "prof_tv_obs": ("tv_obs", "pct1"),
    "prof_tv_acc_out": ("tv_acc_out", "pct1"), "prof_tv_acc_in": ("tv_acc_in", "pct1"),
    "prof_fnr_tree_lg3": ("fnr_gap_tree_lg3", "pp0"), "prof_fnr_a_lg3": ("fnr_gap_a_lg3", "pp0"),
    "prof_calib_lg3": ("calib_gap_lg3", "d1"),
}


def evaluation(cfg: RunConfig) -> profiling.ProfilingEvaluation:
    """The profiling evaluation of a build: its parameters from the configuration's ``profiling``
    section, the validated extracts from :func:`pipeline.load_profiling_data` (the pipeline picks
    the source), then :func:`profiling.evaluate` (seed 003)."""
    return profiling.evaluate(pipeline.load_profiling_data(cfg), profiling.params_from_config(cfg))


def _as_glue(value: Any, fmt: str) -> GlueValue:
    if fmt == "int":
        return GlueValue(int(round(float(value))))
    if fmt.startswith("pct"):
        return GlueValue(float(value), decimals=int(fmt[3:]), pct=True)
    if fmt.startswith("pp"):
        return GlueValue(float(value) * 100, decimals=int(fmt[2:]))
    return GlueValue(float(value), decimals=int(fmt[1:]))


def readings(ev: profiling.ProfilingEvaluation) -> dict[str, float]:
    """Numbers for the notes on the sources' readings (today, variant B, NOE's age limits)."""
    r = ev.readings
    def get(today: str, sorting: str, col: str, rule: str = "B: same without work as today") -> float:
        d = r[(r["today"] == today) & (r["sorting"] == sorting)]
        if sorting == "variant B":
            d = d[d["variant_b"] == rule]
        return float(d[col].iloc[0])
    std, routed = "profiled standard (table 8)", "routed to NOE"
    fixed = next(v for v in r["variant_b"].unique() if v.startswith("B: fixed"))
    df = ev.frame
    age = df["age"].to_numpy()
    to_noe = df["to_noe"].to_numpy(dtype=bool)
    return {
        "today_std_share": get(std, "today (rule tree)", "share_to_noe"),
        "today_routed_share": get(routed, "today (rule tree)", "share_to_noe"),
        "today_std_without": get(std, "today (rule tree)", "without_to_noe_per_month"),
        "today_routed_without": get(routed, "today (rule tree)", "without_to_noe_per_month"),
        "a_more_stable_routed": get(routed, "variant A", "more_stable_to_noe_per_month"),
        "b_rule_share": get(std, "variant B", "share_to_noe"),
        "b_rule_share_routed": get(routed, "variant B", "share_to_noe"),
        "b_fixed_share": get(std, "variant B", "share_to_noe", fixed),
        "b_fixed_more_without": -get(std, "variant B", "fewer_without_to_noe_per_month", fixed),
        "b_fixed_acc": get(std, "variant B", "accuracy_not_without", fixed),
        "b_rule_acc": get(std, "variant B", "accuracy_not_without"),
        "share_aged_30": float(np.mean(age == 30)),
        "noe_aged_30": float(np.mean(age[to_noe] == 30)) if to_noe.any() else 0.0,
    }


_READING_FORMATS = {
    "today_std_share": "pct0", "today_routed_share": "pct0", "today_std_without": "d0",
    "today_routed_without": "d0", "a_more_stable_routed": "d0", "b_rule_share": "pct0",
    "b_rule_share_routed": "pct0", "b_fixed_share": "pct0", "b_fixed_more_without": "d0",
    "b_fixed_acc": "pct0", "b_rule_acc": "pct0", "share_aged_30": "pct1", "noe_aged_30": "pct1",
}


def glue_values(ev: profiling.ProfilingEvaluation) -> dict[str, GlueValue | str]:
    """Every value chapter 07 quotes in prose, keyed by glue name, with its format."""
    p = ev.params
    k = profiling.key_numbers(ev)
    out: dict[str, GlueValue | str] = {
        "prof_periods": " and ".join(p.period_labels()),
        "prof_age": f"{p.age_min}–{p.age_max}",
        "prof_noe_age": f"{p.noe_age_min}–{p.noe_age_max}",
        "prof_mcnemar_p": profiling.format_p(k["mcnemar_p"]),
    }
    for name, (key, fmt) in _KEYS.items():
        if key in k:
            out[name] = _as_glue(k[key], fmt)
    for key, value in readings(ev).items():
        out[f"prof_r_{key}"] = _as_glue(value, _READING_FORMATS[key])
    ex = example_explanation(ev)
    out["prof_ex_p"] = _as_glue(float(ex["probability"].iloc[0]), "pct0")
    out["prof_ex_avg_p"] = _as_glue(1 / (1 + np.exp(-float(ex.loc[ex["input_short"] == "average", "contribution"].iloc[0]))), "pct0")
    return out


def example_explanation(ev: profiling.ProfilingEvaluation) -> pd.DataFrame:
    """The score of a constructed registration (not a real person), input by input: who lost
    the job, last earned above 3 G four to six months before registering and did so in 13–18 of
    the last 24 months (levels missing from the data fall back to the most frequent)."""
    df = ev.frame
    want = {"din_situasjon": "MISTET_JOBBEN", "months_since_band": "4–6", "months_above_band": "13–18"}
    values = {}
    for var, level in want.items():
        levels = set(pd.Series(df[var]).astype(str))
        if level in levels:
            values[var] = level
    person = profiling.constructed_person(df, **values)
    return profiling.explain(ev.model_stable, person, {0: "constructed example"}, df)


def table8(ev: profiling.ProfilingEvaluation) -> pd.DataFrame:
    """Table 8 as computed: the three sortings, volume, accuracy and persons per typical month."""
    return ev.summary[["sorting", "share_to_noe", "accuracy_stable", "accuracy_not_without", "noe_per_month",
                       "stable_to_noe_per_month", "without_to_noe_per_month", "more_stable_to_noe_per_month",
                       "fewer_without_to_noe_per_month", "more_to_noe_per_month"]]


def table5_vs_published(ev: profiling.ProfilingEvaluation) -> pd.DataFrame:
    """Table 5's cells of this build beside the report's printed cells (:func:`profiling.table5_comparison`)."""
    return profiling.table5_comparison(ev.table5_long)


def coefficients_stable(ev: profiling.ProfilingEvaluation) -> pd.DataFrame:
    """Coefficients (log-odds), standard errors and odds ratios of the model of P(stable work)."""
    return profiling.coefficient_table(ev.model_stable)


def table8_published() -> pd.DataFrame:
    """Table 8 as printed in the report (seed 003 §4.4), for the chapter to show beside its own."""
    return profiling.PUBLISHED_TABLE8


def per_month_formats(table: pd.DataFrame) -> dict[str, int]:
    """Table formats showing every ``…per_month`` column (persons per typical month) without decimals."""
    return {c: 0 for c in table.columns if c.endswith("per_month")}


def table5(ev: profiling.ProfilingEvaluation) -> pd.DataFrame:
    """Table 5 with profiling × decision as columns: shares of all registrations per outcome a year later."""
    return ev.table5.reset_index()


def table5_accuracy(ev: profiling.ProfilingEvaluation) -> pd.DataFrame:
    """Accuracy of profiling and first decision under both definitions (the definitions' long text left out)."""
    return ev.table5_accuracy.drop(columns="definition_text")


def precision_recall(ev: profiling.ProfilingEvaluation) -> pd.DataFrame:
    """Precision and recall at the three sortings' cut-offs: stable work among those sent to NOE,
    without work among those kept local."""
    return ev.summary[["sorting", "precision_stable", "recall_stable", "precision_without_local", "recall_without_local"]]


def fairness(ev: profiling.ProfilingEvaluation) -> pd.DataFrame:
    """Error rates and calibration by sex and country group, the columns the chapter shows."""
    return ev.fairness[["attribute", "group", "sorting", "n", "share_to_noe", "observed_stable", "mean_p_stable",
                        "calibration_gap_pp", "fpr", "fnr", "fpr_gap", "fnr_gap"]]


def explanation_table(example: pd.DataFrame) -> pd.DataFrame:
    """The constructed registration's explanation (:func:`example_explanation`) as the chapter shows it."""
    return example.drop(columns=["reg_id", "case", "input_short"])
