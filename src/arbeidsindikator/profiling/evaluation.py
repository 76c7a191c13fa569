"""Evaluation of NAV's profiling of new job seekers (seed 003; digest Parts 2 and 3).

The steps, in the order the chapter shows them:

1. **Wages in G and outcome sequences** (seed 003 §3.1, table 3). Monthly wages from the
   a-melding are divided by the monthly basic amount (G per year / 12, G as of the first day of
   the month). Over the 12 months *after* the registration month (relative months 1..12):
   *stable work* = wage > 3 G in at least 10 months, **or** > 3 G in at least 5 of months 6..12;
   *without work* = wage < 1 G in at least 10 months; *in and out* = neither. Exactly 3 G is not
   "over 3 G" and exactly 1 G is not "under 1 G". A registration whose 12 months are not all
   observed in the wage extract has no outcome and leaves the population (counted, not zero-filled).
2. **Population**: registrations aged 30–59 at registration in the two periods that exclude COVID
   and the year around it (Sep 2018–Mar 2019 and Mar 2023–Jul 2023), all parameters.
3. **Today's rule tree as NAV's code applies it** (digest Part 3): tags, then any hindrance tag
   → ``OPPGITT_HINDRINGER``; else age + education + work-experience tags → ``ANTATT_GODE_MULIGHETER``
   ("standard"); else ``ANTATT_BEHOV_FOR_VEILEDNING``. Routing to the national follow-up unit (NOE)
   for standard, age in the NOE range and not reserved/shielded.
4. **Table 5**: profiling and first §14a decision against the outcome as shares of all
   registrations, accuracy with its definition stated, and the report's "66 %" checked.
5. **The proposed probability model** (seed 003 §4.1.3): logistic regression (statsmodels
   ``Logit``, maximum likelihood) on the registration reason, the months since the last month
   with wage > 3 G and the number of months with wage > 3 G in the last 24 (both banded), for
   P(stable) (variant A) and P(without work) (variant B); variants as sortings to NOE; table 8
   and figure 5.
6. **Beyond the report**: AUC, calibration and Brier score, precision/recall at the cut-offs,
   volume curves, a paired comparison rule tree vs model (exact McNemar test and a seeded
   bootstrap interval of the accuracy difference), temporal validation, a fairness audit by sex
   and country group, and a per-person explanation of the score.

Where each step lives: parameters in :mod:`~arbeidsindikator.profiling.params`; step 1 in
:mod:`~arbeidsindikator.profiling.wages`; step 3 in :mod:`~arbeidsindikator.profiling.rules`;
the model, its sortings and the explanation in :mod:`~arbeidsindikator.profiling.model`; table 5,
table 8 and the measures of step 6 in :mod:`~arbeidsindikator.profiling.metrics`. This module
builds the study population (step 2), runs everything (:func:`evaluate`) and gives the numbers
the chapter quotes (:func:`key_numbers`). Every function is small, typed and returns a tidy frame
or a dataclass for the book.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from arbeidsindikator.profiling.contract import DIN_SITUASJON, ProfilingData, load_g_table
from arbeidsindikator.profiling.metrics import (
    PUBLISHED_TABLE8,
    BootstrapResult,
    Discrepancy,
    McNemarResult,
    accuracy,
    auc,
    bootstrap_accuracy_difference,
    brier,
    calibration_table,
    destination_by_outcome,
    discrimination_table,
    fairness_audit,
    mcnemar_exact,
    sorting_summary,
    table5_accuracy,
    table5_comparison,
    table5_discrepancy,
    table5_long,
    table5_wide,
    volume_curve,
)
from arbeidsindikator.profiling.model import (
    MODEL_INPUTS,
    FittedModel,
    coefficient_table,
    example_persons,
    explain,
    fit_model,
    predict,
    sortings_for,
    variant_a,
    variant_b,
    variant_b_same_without,
)
from arbeidsindikator.profiling.params import OUTCOMES, ProfilingParams, params_from_config
from arbeidsindikator.profiling.rules import decision_standard, eligible_for_noe, profile, route
from arbeidsindikator.profiling.wages import (
    band_months_above,
    band_months_since,
    history_features,
    outcome_sequences,
    wage_window,
)

__all__ = [
    # defined here
    "AnalysisFrame",
    "ProfilingEvaluation",
    "RULE_VARIANTS",
    "analysis_frame",
    "evaluate",
    "format_p",
    "key_numbers",
    "rule_variants",
    "sequence_sample",
    "sequence_percentiles",
    "constructed_person",
    "source_readings",
    "sortings_for",
    "variant_b_same_without",
    "temporal_validation",
    # re-exported for the chapter (07_profiling.md) and the pipeline, which import them from here
    "PUBLISHED_TABLE8",
    "ProfilingParams",
    "coefficient_table",
    "load_g_table",
    "params_from_config",
    "table5_comparison",
]

# --- the analysis frame -------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalysisFrame:
    """One row per registration in the study population, plus the population flow."""

    frame: pd.DataFrame
    flow: pd.DataFrame
    post_g: np.ndarray  # wages in G, months 1..horizon, aligned with ``frame``


def _period_of(reg_date: pd.Series, p: ProfilingParams) -> np.ndarray:
    m = pd.DatetimeIndex(reg_date).to_period("M")
    out = np.full(len(m), -1)
    for i, (a, b) in enumerate(p.period_bounds()):
        out[(m >= a) & (m <= b)] = i
    return out


def analysis_frame(data: ProfilingData, p: ProfilingParams) -> AnalysisFrame:
    """Profile every registration, compute outcomes and model inputs, restrict to the population.

    Population: registered in one of the periods, aged age_min–age_max at registration, and
    all 12 outcome months observed. The flow table counts each step.
    """
    regs = data.registrations.reset_index(drop=True)
    prof = profile(regs, data.spells, p)
    rt = route(prof, regs, p)
    lo = pd.Timestamp(p.wages_observed_from) if p.wages_observed_from else data.wages["maaned"].min()
    hi = pd.Timestamp(p.wages_observed_until) if p.wages_observed_until else data.wages["maaned"].max()
    ww = wage_window(regs, data.wages, data.g, p, observed=(lo, hi))
    feats = history_features(ww.cols(-p.history_months, -1), p)
    df = pd.concat([regs, prof.drop(columns="reg_id"), rt.drop(columns="reg_id"), feats], axis=1)
    df["outcome"] = outcome_sequences(ww.cols(1, p.horizon), p)
    df["decision_standard"] = decision_standard(df["forste_vedtak"], p.missing_decision_is_standard)
    df["period"] = _period_of(df["registrert_dato"], p)
    df["reg_month"] = pd.DatetimeIndex(df["registrert_dato"]).to_period("M").astype(str)
    in_period = df["period"] >= 0
    in_age = in_period & df["age"].between(p.age_min, p.age_max)
    observed = in_age & df["outcome"].notna()
    with_history = observed & df["months_above"].notna()
    flow = pd.DataFrame({
        "step": ["registrations in the extract", "registered in the periods",
                 f"aged {p.age_min}–{p.age_max} at registration", "12 outcome months observed",
                 f"{p.history_months} history months observed"],
        "registrations": [len(df), int(in_period.sum()), int(in_age.sum()), int(observed.sum()),
                          int(with_history.sum())],
    })
    keep = with_history.to_numpy()
    out = df[keep].reset_index(drop=True)
    out["outcome"] = pd.Categorical(out["outcome"], categories=list(OUTCOMES))
    out["period_label"] = np.asarray(p.period_labels(), dtype=object)[out["period"].to_numpy()]
    out["months_since_band"] = band_months_since(out["months_since_above"], p)
    out["months_above_band"] = band_months_above(out["months_above"], p)
    out["din_situasjon"] = pd.Categorical(out["din_situasjon"].astype(str), categories=list(DIN_SITUASJON))
    out["eligible_for_noe"] = eligible_for_noe(out, p)
    return AnalysisFrame(frame=out, flow=flow, post_g=ww.cols(1, p.horizon)[keep])


def sequence_sample(frame: pd.DataFrame, post_g: np.ndarray, per_group: int, seed: int) -> pd.DataFrame:
    """A seeded sample of wage sequences per outcome group, tidy, for figure 2 of seed 003.

    Rows within a group are ordered by the mean wage over the 12 months; ``order`` is the row's
    position in the plot (groups stacked: stable, in and out, without work).
    """
    rng = np.random.default_rng(seed)
    o = frame["outcome"].astype(object).to_numpy()
    parts, offset = [], 0
    for oc in OUTCOMES:
        idx = np.flatnonzero(o == oc)
        pick = np.sort(rng.choice(idx, size=min(per_group, len(idx)), replace=False))
        pick = pick[np.argsort(post_g[pick].mean(axis=1), kind="stable")]
        months = np.arange(1, post_g.shape[1] + 1)
        parts.append(pd.DataFrame({
            "order": np.repeat(np.arange(len(pick)) + offset, len(months)),
            "outcome": oc, "month": np.tile(months, len(pick)), "wage_g": post_g[pick].ravel()}))
        offset += len(pick)
    return pd.concat(parts, ignore_index=True)


def sequence_percentiles(frame: pd.DataFrame, post_g: np.ndarray, min_count: int = 10,
                         quantiles: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)) -> pd.DataFrame:
    """Figure 2 of seed 003 as aggregates: percentiles of the wage in G per month after
    registration, by outcome group and month (no person-level rows; groups with fewer than
    ``min_count`` registrations are left out)."""
    o = frame["outcome"].astype(object).to_numpy()
    rows = []
    for oc in OUTCOMES:
        g = post_g[o == oc]
        if len(g) < min_count:
            continue
        q = np.quantile(g, quantiles, axis=0)
        for m in range(post_g.shape[1]):
            rows.append({"outcome": oc, "month": m + 1, "n": len(g),
                         **{f"p{round(qq * 100)}": float(q[i, m]) for i, qq in enumerate(quantiles)},
                         "share_above_3g": float(np.mean(g[:, m] > 3.0)),
                         "share_below_1g": float(np.mean(g[:, m] < 1.0))})
    return pd.DataFrame(rows)


def constructed_person(df: pd.DataFrame, **values: str) -> pd.DataFrame:
    """One made-up registration with the model's three inputs (defaults: the most frequent level
    of each), for explaining the score without showing a real person."""
    row: dict[str, Any] = {"reg_id": "example"}
    for var in MODEL_INPUTS:
        row[var] = values.get(var, str(pd.Series(df[var]).astype(str).mode().iloc[0]))
    return pd.DataFrame([row])


def source_readings(df: pd.DataFrame, p_stable: np.ndarray, p_without: np.ndarray, p: ProfilingParams) -> pd.DataFrame:
    """Table 8 under the readings the sources leave open: today as 'profiled standard' (the
    report's table 8) or as 'routed to NOE' (standard and in NOE's age range, not reserved or
    shielded), and variant B by the report's rule or with the printed fixed 48 %."""
    today_std = df["profiled_standard"].to_numpy(dtype=bool)
    today_routed = df["to_noe"].to_numpy(dtype=bool)
    parts = []
    for today_name, today in (("profiled standard (table 8)", today_std), ("routed to NOE", today_routed)):
        for rule, rule_name in (("same_without_as_today", "B: same without work as today"),
                                ("fixed_volume", f"B: fixed {p.volume_b:.0%}")):
            s = sorting_summary(df, sortings_for(df, today, p_stable, p_without, p, rule), p.typical_month)
            if rule == "fixed_volume":
                s = s[s["sorting"] == "variant B"]
            s = s.assign(today=today_name, variant_b=rule_name)
            parts.append(s)
    out = pd.concat(parts, ignore_index=True)
    out.loc[out["sorting"] != "variant B", "variant_b"] = ""
    cols = ["today", "variant_b", "sorting", "share_to_noe", "accuracy_stable", "accuracy_not_without",
            "stable_to_noe_per_month", "without_to_noe_per_month", "more_stable_to_noe_per_month",
            "fewer_without_to_noe_per_month", "more_to_noe_per_month"]
    return out[cols]


# --- temporal validation ------------------------------------------------------------------------


def temporal_validation(df: pd.DataFrame, p: ProfilingParams) -> pd.DataFrame:
    """Fit on the earlier period, evaluate on the later one; compare with a fit on the later period.

    For each target: AUC, Brier score, mean predicted vs observed (calibration-in-the-large) and
    the accuracy of the variant at the later period's volume.
    """
    train, test = df[df["period"] == 0], df[df["period"] == 1]
    if len(train) == 0 or len(test) == 0:
        return pd.DataFrame()
    o = test["outcome"].astype(object).to_numpy()
    elig = test["eligible_for_noe"].to_numpy(dtype=bool)
    vol_a = float(test["profiled_standard"].mean())
    rows = []
    for target, definition, volume in (("stable", "stable", vol_a), ("without_work", "not_without", p.volume_b)):
        y = o == target
        for fit_on, fit_df in (("earlier period (out of time)", train), ("later period (in sample)", test)):
            m = fit_model(fit_df, target)
            pr = predict(m, test)
            noe = variant_a(pr, elig, volume) if target == "stable" else variant_b(pr, elig, volume)
            rows.append({"target": target, "fitted_on": fit_on, "n_train": len(fit_df), "n_test": len(test),
                         "auc": auc(y, pr), "brier": brier(y, pr), "mean_predicted": pr.mean(),
                         "observed": y.mean(), "volume": volume, "accuracy": accuracy(noe, o, definition)})
    return pd.DataFrame(rows)


# --- the whole evaluation -----------------------------------------------------------------------


@dataclass
class ProfilingEvaluation:
    """Everything the chapter shows, computed once."""

    params: ProfilingParams
    flow: pd.DataFrame
    frame: pd.DataFrame
    table5_long: pd.DataFrame
    table5: pd.DataFrame
    table5_accuracy: pd.DataFrame
    discrepancy: Discrepancy
    model_stable: FittedModel
    model_without: FittedModel
    p_stable: np.ndarray
    p_without: np.ndarray
    sortings: dict[str, np.ndarray]
    summary: pd.DataFrame
    destinations: pd.DataFrame
    discrimination: pd.DataFrame
    calibration: dict[str, pd.DataFrame]
    curve: pd.DataFrame
    mcnemar: McNemarResult
    bootstrap: BootstrapResult
    temporal: pd.DataFrame
    fairness: pd.DataFrame
    explanations: pd.DataFrame
    rule_variants: pd.DataFrame = field(default_factory=pd.DataFrame)
    sequences: pd.DataFrame = field(default_factory=pd.DataFrame)  # percentiles by outcome × month
    readings: pd.DataFrame = field(default_factory=pd.DataFrame)  # table 8 under the sources' readings


RULE_VARIANTS: dict[str, dict[str, Any]] = {
    "as coded (default)": {},
    "older work rule (veilarbregistrering: 6 consecutive month starts)": {"work_rule": "veilarb_first_of_month"},
    "NUS 2 (primary school) tags at any date": {"nus2_tag_from": None},
    "merge margin 4 days (gap ≤ 3 days merges)": {"merge_margin_days": 4},
}


def rule_variants(data: ProfilingData, frame: pd.DataFrame, p: ProfilingParams) -> pd.DataFrame:
    """Work tag, share profiled standard and accuracy under documented variants of the coded rules,
    on the study population (the choices the sources leave open; see the module docstring)."""
    regs = data.registrations.set_index("reg_id").loc[frame["reg_id"]].reset_index()
    o = frame["outcome"].astype(object).to_numpy()
    rows = []
    for name, change in RULE_VARIANTS.items():
        prof = profile(regs, data.spells, replace(p, **change))
        std = prof["profiled_standard"].to_numpy()
        rows.append({"variant": name, "work_tag_share": prof["tag_work"].mean(),
                     "education_tag_share": prof["tag_education"].mean(), "profiled_standard_share": std.mean(),
                     "accuracy_stable": accuracy(std, o, "stable"),
                     "changed_vs_default": float(np.mean(std != frame["profiled_standard"].to_numpy()))})
    return pd.DataFrame(rows)


def evaluate(data: ProfilingData, p: ProfilingParams) -> ProfilingEvaluation:
    """Run every step of the evaluation on validated data."""
    af = analysis_frame(data, p)
    df = af.frame
    o = df["outcome"].astype(object).to_numpy()
    m_s, m_w = fit_model(df, "stable"), fit_model(df, "without_work")
    p_s, p_w = predict(m_s, df), predict(m_w, df)
    today = df["profiled_standard"].to_numpy(dtype=bool)
    sortings = sortings_for(df, today, p_s, p_w, p)
    correct_tree = today == (o == "stable")
    correct_a = sortings["variant A"] == (o == "stable")
    t5 = table5_long(df)
    picks = example_persons(df, p_s, today, sortings["variant A"])
    return ProfilingEvaluation(
        params=p, flow=af.flow, frame=df, table5_long=t5, table5=table5_wide(t5),
        table5_accuracy=table5_accuracy(df), discrepancy=table5_discrepancy(),
        model_stable=m_s, model_without=m_w, p_stable=p_s, p_without=p_w, sortings=sortings,
        summary=sorting_summary(df, sortings, p.typical_month),
        destinations=destination_by_outcome(df, sortings, p.typical_month),
        discrimination=discrimination_table(df, p_s, p_w),
        calibration={"stable": calibration_table(o == "stable", p_s, p.calibration_bins),
                     "without_work": calibration_table(o == "without_work", p_w, p.calibration_bins)},
        curve=volume_curve(df, p_s, p_w, p.volume_grid, p.typical_month),
        mcnemar=mcnemar_exact(correct_a, correct_tree),
        bootstrap=bootstrap_accuracy_difference(correct_a, correct_tree, p.bootstrap_replicates, p.bootstrap_seed),
        temporal=temporal_validation(df, p),
        fairness=fairness_audit(df, {"today (rule tree)": today, "variant A": sortings["variant A"]}, p_s),
        explanations=explain(m_s, df, picks, df),
        rule_variants=rule_variants(data, df, p),
        sequences=sequence_percentiles(df, af.post_g),
        readings=source_readings(df, p_s, p_w, p),
    )


# --- numbers quoted in the chapter --------------------------------------------------------------


def key_numbers(ev: ProfilingEvaluation) -> dict[str, Any]:
    """Plain Python numbers the chapter quotes in prose (shares as fractions, counts per month)."""
    df = ev.frame
    o = df["outcome"].astype(object).to_numpy()
    std = df["profiled_standard"].to_numpy(dtype=bool)
    dec = df["decision_standard"].to_numpy(dtype=bool)
    s = ev.summary.set_index("sorting")
    acc = ev.table5_accuracy.set_index(["sorting", "definition"])["computed_on_data"]
    disc = ev.discrimination.set_index(["target", "score"])
    tv = ev.temporal.set_index(["target", "fitted_on"]) if len(ev.temporal) else None
    fa = ev.fairness[(ev.fairness["attribute"] == "landgruppe") & (ev.fairness["group"].str.startswith("3"))]
    fa = fa.set_index("sorting")
    rv = ev.rule_variants.set_index("variant")["profiled_standard_share"]
    n_months = df["reg_month"].nunique()
    out: dict[str, Any] = {
        "n": len(df), "n_months": n_months, "per_month": len(df) / max(n_months, 1),
        "share_stable": float(np.mean(o == "stable")), "share_in_out": float(np.mean(o == "in_and_out")),
        "share_without": float(np.mean(o == "without_work")),
        "prof_standard": float(std.mean()), "dec_standard": float(dec.mean()),
        "dec_std_given_prof_std": float(dec[std].mean()),
        "not_stable_given_prof_std": float(np.mean(o[std] != "stable")),
        "not_stable_given_dec_std": float(np.mean(o[dec] != "stable")),
        "tag_hindrance": float(df["tag_hindrance"].mean()), "tag_education": float(df["tag_education"].mean()),
        "tag_work": float(df["tag_work"].mean()), "to_noe": float(df["to_noe"].mean()),
        "acc_prof": float(acc[("profiling", "stable")]), "acc_dec": float(acc[("decision", "stable")]),
        "acc_prof_nw": float(acc[("profiling", "not_without")]), "acc_dec_nw": float(acc[("decision", "not_without")]),
        "pub_prof_cells": ev.discrepancy.profiling_from_cells, "pub_dec_cells": ev.discrepancy.decision_from_cells,
        "pub_dec_other": ev.discrepancy.decision_other_definition,
        "pub_prof_other": ev.discrepancy.profiling_other_definition,
        "acc_today": float(s.loc["today (rule tree)", "accuracy_stable"]),
        "acc_a": float(s.loc["variant A", "accuracy_stable"]),
        "acc_b": float(s.loc["variant B", "accuracy_not_without"]),
        "acc_today_nw": float(s.loc["today (rule tree)", "accuracy_not_without"]),
        "vol_a": float(s.loc["variant A", "share_to_noe"]), "vol_b": float(s.loc["variant B", "share_to_noe"]),
        "a_more_stable": float(s.loc["variant A", "more_stable_to_noe_per_month"]),
        "a_fewer_without": float(s.loc["variant A", "fewer_without_to_noe_per_month"]),
        "b_more_noe": float(s.loc["variant B", "more_to_noe_per_month"]),
        "b_more_without": float(-s.loc["variant B", "fewer_without_to_noe_per_month"]),
        "b_more_stable": float(s.loc["variant B", "more_stable_to_noe_per_month"]),
        "prec_today": float(s.loc["today (rule tree)", "precision_stable"]),
        "prec_a": float(s.loc["variant A", "precision_stable"]),
        "auc_stable": float(disc.loc[("stable", "model"), "auc"]),
        "auc_without": float(disc.loc[("without_work", "model"), "auc"]),
        "auc_tree": float(disc.loc[("stable", "rule tree (standard = 1)"), "auc"]),
        "auc_dec": float(disc.loc[("stable", "first decision (standard = 1)"), "auc"]),
        "brier_stable": float(disc.loc[("stable", "model"), "brier"]),
        "brier_null": float(np.mean(o == "stable") * (1 - np.mean(o == "stable"))),
        "mcnemar_p": ev.mcnemar.p_value, "mcnemar_a_only": ev.mcnemar.only_a_correct,
        "mcnemar_tree_only": ev.mcnemar.only_b_correct,
        "boot_diff": ev.bootstrap.difference, "boot_lo": ev.bootstrap.lower, "boot_hi": ev.bootstrap.upper,
        "boot_reps": ev.bootstrap.replicates,
        "typical_month": ev.params.typical_month,
        "std_legacy": float(rv.iloc[1]), "std_nus2": float(rv.iloc[2]), "std_margin4": float(rv.iloc[3]),
        "std_default": float(rv.iloc[0]),
        "fnr_gap_tree_lg3": float(fa.loc["today (rule tree)", "fnr_gap"]),
        "fnr_gap_a_lg3": float(fa.loc["variant A", "fnr_gap"]),
        "calib_gap_lg3": float(fa.loc["variant A", "calibration_gap_pp"]),
    }
    if tv is not None:
        out.update({
            "tv_auc_out": float(tv.loc[("stable", "earlier period (out of time)"), "auc"]),
            "tv_auc_in": float(tv.loc[("stable", "later period (in sample)"), "auc"]),
            "tv_pred_out": float(tv.loc[("stable", "earlier period (out of time)"), "mean_predicted"]),
            "tv_obs": float(tv.loc[("stable", "earlier period (out of time)"), "observed"]),
            "tv_acc_out": float(tv.loc[("stable", "earlier period (out of time)"), "accuracy"]),
            "tv_acc_in": float(tv.loc[("stable", "later period (in sample)"), "accuracy"]),
        })
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in out.items()}


def format_p(p: float) -> str:
    """A p-value for prose: '< 0.001' below one in a thousand, else three decimals."""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
