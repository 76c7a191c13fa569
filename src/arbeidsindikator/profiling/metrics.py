"""Measures of a sorting against the outcome (seed 003 table 5 and beyond the report).

Table 5 (crosstab of sorting × outcome as shares of all registrations, accuracy with its
definition stated, the published figures and the report's "66 %"), the sorting summary (table 8),
AUC, Brier score and calibration, volume curves, the exact McNemar test and a seeded bootstrap
interval of a paired accuracy difference, and the fairness audit by sex and country group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from arbeidsindikator.profiling.model import select_top
from arbeidsindikator.profiling.params import OUTCOME_LABEL, OUTCOMES

# --- table 5 ------------------------------------------------------------------------------------

#: Table 5 of seed 003 as printed (shares of all registrations aged 30–59) and the stated accuracy.
PUBLISHED_TABLE5: pd.DataFrame = pd.DataFrame(
    [
        ("all", "all", "stable", 0.34), ("all", "all", "in_and_out", 0.29), ("all", "all", "without_work", 0.37),
        ("profiling", "standard", "stable", 0.18), ("profiling", "standard", "in_and_out", 0.11),
        ("profiling", "standard", "without_work", 0.08), ("profiling", "non_standard", "stable", 0.16),
        ("profiling", "non_standard", "in_and_out", 0.18), ("profiling", "non_standard", "without_work", 0.29),
        ("decision", "standard", "stable", 0.27), ("decision", "standard", "in_and_out", 0.18),
        ("decision", "standard", "without_work", 0.16), ("decision", "non_standard", "stable", 0.08),
        ("decision", "non_standard", "in_and_out", 0.11), ("decision", "non_standard", "without_work", 0.21),
    ],
    columns=["sorting", "group", "outcome", "share"],
)
PUBLISHED_TOTALS: dict[tuple[str, str], float] = {
    ("profiling", "standard"): 0.37, ("profiling", "non_standard"): 0.63,
    ("decision", "standard"): 0.61, ("decision", "non_standard"): 0.40,
}
PUBLISHED_ACCURACY: dict[str, float] = {"profiling": 0.64, "decision": 0.66}
ACCURACY_DEFINITIONS: dict[str, str] = {
    "stable": "standard ∧ stable work + non-standard ∧ (in and out ∨ without work)",
    "not_without": "standard ∧ (stable ∨ in and out) + non-standard ∧ without work",
}


def crosstab(df: pd.DataFrame, standard: np.ndarray, sorting: str) -> pd.DataFrame:
    """Shares of all registrations by sorting group × outcome (tidy), with counts."""
    grp = np.where(np.asarray(standard, dtype=bool), "standard", "non_standard")
    t = pd.crosstab(grp, df["outcome"].to_numpy())
    t = t.reindex(index=["standard", "non_standard"], columns=list(OUTCOMES), fill_value=0)
    long = t.stack().rename("n").reset_index()
    long.columns = ["group", "outcome", "n"]
    long.insert(0, "sorting", sorting)
    long["share"] = long["n"] / len(df)
    return long


def table5_long(df: pd.DataFrame) -> pd.DataFrame:
    """Table 5 computed on the data, tidy: sorting ∈ {all, profiling, decision}."""
    all_ = df["outcome"].value_counts().reindex(list(OUTCOMES), fill_value=0).rename("n").reset_index()
    all_.columns = ["outcome", "n"]
    all_ = all_.assign(sorting="all", group="all", share=all_["n"] / len(df))
    return pd.concat([all_[["sorting", "group", "outcome", "n", "share"]],
                      crosstab(df, df["profiled_standard"].to_numpy(), "profiling"),
                      crosstab(df, df["decision_standard"].to_numpy(), "decision")], ignore_index=True)


def table5_wide(long: pd.DataFrame) -> pd.DataFrame:
    """Table 5 laid out as printed: outcome rows (+ total), five columns of shares."""
    long = long.copy()
    long["column"] = np.where(long["sorting"] == "all", "all registrations",
                              long["sorting"] + ": " + long["group"].str.replace("_", "-"))
    w = long.pivot_table(index="outcome", columns="column", values="share", aggfunc="sum", observed=True)
    w = w.reindex(index=list(OUTCOMES))
    w.loc["total"] = w.sum()
    order = ["all registrations", "profiling: standard", "profiling: non-standard", "decision: standard",
             "decision: non-standard"]
    w = w[[c for c in order if c in w.columns]]
    w.index = [OUTCOME_LABEL.get(i, i) for i in w.index]
    w.index.name = "outcome"
    return w


def table5_comparison(long: pd.DataFrame) -> pd.DataFrame:
    """Published table 5 beside the same cells computed on the data (percent of registrations)."""
    pub = PUBLISHED_TABLE5.set_index(["sorting", "group", "outcome"])["share"]
    got = long.set_index(["sorting", "group", "outcome"])["share"].reindex(pub.index)
    out = pd.DataFrame({"published_pct": pub * 100, "computed_pct": got * 100}).reset_index()
    out["difference_pp"] = out["computed_pct"] - out["published_pct"]
    out["outcome"] = out["outcome"].map(OUTCOME_LABEL)
    return out


def accuracy(standard: np.ndarray, outcome: np.ndarray, definition: str = "stable") -> float:
    """Share of registrations the sorting "gets right" under a stated definition.

    ``stable`` (the definition that reproduces the report's 64 % for profiling): standard and
    stable, or non-standard and not stable. ``not_without``: standard and not without work, or
    non-standard and without work.
    """
    std = np.asarray(standard, dtype=bool)
    o = np.asarray(outcome, dtype=object)
    if definition == "stable":
        hit = o == "stable"
    elif definition == "not_without":
        hit = o != "without_work"
    else:
        raise ValueError(f"definition: expected 'stable' or 'not_without', got {definition!r}")
    return float(np.mean(std == hit))


def accuracy_from_shares(cells: pd.DataFrame, definition: str = "stable") -> float:
    """The same accuracy from a table of shares (columns group, outcome, share), e.g. the printed table."""
    c = cells.set_index(["group", "outcome"])["share"]
    if definition == "stable":
        return float(c[("standard", "stable")] + c[("non_standard", "in_and_out")]
                     + c[("non_standard", "without_work")])
    if definition == "not_without":
        return float(c[("standard", "stable")] + c[("standard", "in_and_out")] + c[("non_standard", "without_work")])
    raise ValueError(f"definition: expected 'stable' or 'not_without', got {definition!r}")


def table5_accuracy(df: pd.DataFrame) -> pd.DataFrame:
    """Accuracy of profiling and first decision: as stated, recomputed from the printed cells and
    computed on the data, under both definitions; flags where the stated value does not follow."""
    rows = []
    for sorting, col in (("profiling", "profiled_standard"), ("decision", "decision_standard")):
        printed = PUBLISHED_TABLE5[PUBLISHED_TABLE5["sorting"] == sorting]
        for d in ACCURACY_DEFINITIONS:
            from_cells = accuracy_from_shares(printed, d)
            stated = PUBLISHED_ACCURACY[sorting]
            rows.append({
                "sorting": sorting, "definition": d, "definition_text": ACCURACY_DEFINITIONS[d],
                "stated_in_report": stated, "from_printed_cells": round(from_cells, 4),
                "computed_on_data": accuracy(df[col].to_numpy(), df["outcome"].to_numpy(), d),
                "stated_follows_from_cells": abs(from_cells - stated) <= 0.015,
            })
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Discrepancy:
    """The report's stated decision accuracy vs what its own table gives."""

    profiling_from_cells: float
    decision_from_cells: float
    decision_stated: float
    decision_other_definition: float
    profiling_other_definition: float
    text: str


def table5_discrepancy() -> Discrepancy:
    """The "66 %" for decisions cannot come from table 5 with the definition that gives 64 %."""
    t = PUBLISHED_TABLE5
    prof = accuracy_from_shares(t[t["sorting"] == "profiling"], "stable")
    dec = accuracy_from_shares(t[t["sorting"] == "decision"], "stable")
    dec2 = accuracy_from_shares(t[t["sorting"] == "decision"], "not_without")
    prof2 = accuracy_from_shares(t[t["sorting"] == "profiling"], "not_without")
    text = (
        f"With 'standard ∧ stable + non-standard ∧ not stable', the printed cells give "
        f"{prof * 100:.0f} % for profiling (stated 64 %, a rounding difference) but {dec * 100:.0f} % for the "
        f"first decision (stated {PUBLISHED_ACCURACY['decision'] * 100:.0f} %). The stated 66 % equals the "
        f"decision cells under a different definition, 'standard ∧ not without work + non-standard ∧ without "
        f"work' ({dec2 * 100:.0f} %), which would give profiling {prof2 * 100:.0f} %. The two stated accuracies "
        f"are therefore not comparable; on one definition the caseworkers' decisions score below the rule tree."
    )
    return Discrepancy(prof, dec, PUBLISHED_ACCURACY["decision"], dec2, prof2, text)


def sorting_summary(df: pd.DataFrame, sortings: Mapping[str, np.ndarray], typical_month: int) -> pd.DataFrame:
    """Table 8 and more: per sorting, volume to NOE, accuracy under both definitions, persons per
    typical month by outcome sent to NOE, precision/recall at the cut-off, and the change vs the
    first sorting ('today')."""
    o = df["outcome"].astype(object).to_numpy()
    stable, without = o == "stable", o == "without_work"
    rows = []
    for name, noe in sortings.items():
        noe = np.asarray(noe, dtype=bool)
        rows.append({
            "sorting": name,
            "share_to_noe": noe.mean(),
            "accuracy_stable": accuracy(noe, o, "stable"),
            "accuracy_not_without": accuracy(noe, o, "not_without"),
            "noe_per_month": noe.mean() * typical_month,
            "stable_to_noe_per_month": (noe & stable).mean() * typical_month,
            "in_and_out_to_noe_per_month": (noe & (o == "in_and_out")).mean() * typical_month,
            "without_to_noe_per_month": (noe & without).mean() * typical_month,
            "precision_stable": (noe & stable).sum() / max(noe.sum(), 1),
            "recall_stable": (noe & stable).sum() / max(stable.sum(), 1),
            "precision_without_local": (~noe & without).sum() / max((~noe).sum(), 1),
            "recall_without_local": (~noe & without).sum() / max(without.sum(), 1),
        })
    out = pd.DataFrame(rows)
    base = out.iloc[0]
    out["more_stable_to_noe_per_month"] = out["stable_to_noe_per_month"] - base["stable_to_noe_per_month"]
    out["fewer_without_to_noe_per_month"] = base["without_to_noe_per_month"] - out["without_to_noe_per_month"]
    out["more_to_noe_per_month"] = out["noe_per_month"] - base["noe_per_month"]
    return out


#: Table 8 of seed 003 (and §4.4.1's monthly numbers) as printed.
PUBLISHED_TABLE8: pd.DataFrame = pd.DataFrame(
    {"sorting": ["today (rule tree)", "variant A", "variant B"],
     "share_to_noe": [0.37, 0.37, 0.48], "accuracy": [0.64, 0.72, 0.68],
     "without_to_noe": ["—", "fewer than today", "same as today"],
     "more_stable_to_noe_per_month": [0, 310, np.nan], "fewer_without_to_noe_per_month": [0, 210, 0],
     "more_to_noe_per_month": [0, 0, 990]}
)


def destination_by_outcome(df: pd.DataFrame, sortings: Mapping[str, np.ndarray], typical_month: int) -> pd.DataFrame:
    """Figure 5: persons per typical month by sorting × destination (NOE/local office) × outcome."""
    o = df["outcome"].astype(object).to_numpy()
    rows = []
    for name, noe in sortings.items():
        noe = np.asarray(noe, dtype=bool)
        for dest, mask in (("NOE", noe), ("local office", ~noe)):
            for oc in OUTCOMES:
                rows.append({"sorting": name, "destination": dest, "outcome": oc,
                             "persons_per_month": (mask & (o == oc)).mean() * typical_month})
    return pd.DataFrame(rows)


# --- beyond the report: discrimination, calibration, curves -------------------------------------


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann–Whitney; ties count one half)."""
    y = np.asarray(y, dtype=bool)
    r = stats.rankdata(np.asarray(score, dtype=float))
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    """Mean squared difference between the 0/1 outcome and the predicted probability."""
    return float(np.mean((np.asarray(p, dtype=float) - np.asarray(y, dtype=float)) ** 2))


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Observed vs mean predicted by equal-count bins of the prediction, with a 95 % Wilson interval."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    b = np.empty(len(p), dtype=int)
    b[order] = np.arange(len(p)) * bins // len(p)
    g = pd.DataFrame({"bin": b + 1, "y": y, "p": p}).groupby("bin")
    out = pd.DataFrame({"n": g.size(), "mean_predicted": g["p"].mean(), "observed": g["y"].mean()}).reset_index()
    z = 1.959964
    n, ph = out["n"].to_numpy(float), out["observed"].to_numpy(float)
    centre = (ph + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    out["observed_lower"], out["observed_upper"] = centre - half, centre + half
    return out


def volume_curve(df: pd.DataFrame, p_stable: np.ndarray, p_without: np.ndarray, volumes: tuple[float, ...],
                 typical_month: int) -> pd.DataFrame:
    """Accuracy and persons without work sent to NOE as the volume to NOE grows, for both rankings."""
    o = df["outcome"].astype(object).to_numpy()
    elig = df["eligible_for_noe"].to_numpy(dtype=bool)
    rows = []
    for ranking, score in (("P(stable)", p_stable), ("1 − P(without work)", -np.asarray(p_without))):
        for v in volumes:
            if v > elig.mean() + 1e-9:
                continue
            noe = select_top(score, elig, int(round(v * len(o))))
            rows.append({"ranking": ranking, "volume": v,
                         "accuracy_stable": accuracy(noe, o, "stable"),
                         "accuracy_not_without": accuracy(noe, o, "not_without"),
                         "without_to_noe_per_month": (noe & (o == "without_work")).mean() * typical_month,
                         "stable_to_noe_per_month": (noe & (o == "stable")).mean() * typical_month})
    return pd.DataFrame(rows)


# --- paired comparison --------------------------------------------------------------------------


@dataclass(frozen=True)
class McNemarResult:
    """Exact McNemar test on paired correct/incorrect classifications."""

    n: int
    only_a_correct: int
    only_b_correct: int
    statistic: float
    p_value: float


def mcnemar_exact(correct_a: np.ndarray, correct_b: np.ndarray) -> McNemarResult:
    """Two-sided exact McNemar test: binomial test of the discordant pairs against 1/2."""
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    n01, n10 = int((a & ~b).sum()), int((~a & b).sum())
    k = n01 + n10
    pval = float(stats.binomtest(min(n01, n10), k, 0.5).pvalue) if k else 1.0
    return McNemarResult(len(a), n01, n10, float(min(n01, n10)), pval)


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap distribution summary of an accuracy difference (A − B)."""

    difference: float
    lower: float
    upper: float
    std_error: float
    replicates: int
    seed: int


def bootstrap_accuracy_difference(correct_a: np.ndarray, correct_b: np.ndarray, replicates: int,
                                  seed: int, level: float = 0.95) -> BootstrapResult:
    """Paired nonparametric bootstrap of accuracy(A) − accuracy(B), percentile interval.

    Resampling registrations with replacement is equivalent to drawing the counts of the four
    concordance cells (both right, only A, only B, neither) from a multinomial, which is what
    is done here (exact, and fast for any n). The sortings are held fixed (the model is not refit).
    """
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    n = len(a)
    cells = np.array([(a & b).sum(), (a & ~b).sum(), (~a & b).sum(), (~a & ~b).sum()], dtype=float)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, cells / n, size=replicates)
    diff = (draws[:, 1] - draws[:, 2]) / n
    alpha = (1 - level) / 2
    lo, hi = np.quantile(diff, [alpha, 1 - alpha])
    return BootstrapResult(float((cells[1] - cells[2]) / n), float(lo), float(hi), float(diff.std(ddof=1)),
                           replicates, seed)


# --- fairness audit -----------------------------------------------------------------------------

GROUP_LABELS: dict[str, dict[Any, str]] = {
    "kvinne": {False: "men", True: "women"},
    "landgruppe": {0: "0 Norway", 1: "1 Western Europe etc.", 2: "2 EU Eastern Europe", 3: "3 Asia, Africa, …",
                   -1: "unknown"},
}


def fairness_audit(df: pd.DataFrame, sortings: Mapping[str, np.ndarray], p_stable: np.ndarray) -> pd.DataFrame:
    """Error rates and calibration by sex and country group for each sorting (target: stable work).

    A sorting "predicts stable" by sending to NOE. FPR = P(NOE | not stable), FNR = P(local |
    stable), precision = P(stable | NOE); gaps are against the largest group of the attribute.
    Subgroup calibration: mean P(stable) vs observed share stable (O − E in percentage points).
    """
    y = df["outcome"].astype(object).to_numpy() == "stable"
    rows = []
    for attr, labels in GROUP_LABELS.items():
        values = df[attr].to_numpy()
        ref = pd.Series(values).value_counts().idxmax()
        for name, noe in sortings.items():
            noe = np.asarray(noe, dtype=bool)
            for v in sorted(pd.unique(values)):
                g = values == v
                rows.append({"attribute": attr, "group": labels.get(v, str(v)), "is_reference": v == ref,
                             "sorting": name, "n": int(g.sum()), "share_to_noe": noe[g].mean(),
                             "observed_stable": y[g].mean(),
                             "fpr": (noe & ~y & g).sum() / max((~y & g).sum(), 1),
                             "fnr": (~noe & y & g).sum() / max((y & g).sum(), 1),
                             "precision": (noe & y & g).sum() / max((noe & g).sum(), 1),
                             "mean_p_stable": np.asarray(p_stable)[g].mean()})
    out = pd.DataFrame(rows)
    out["calibration_gap_pp"] = (out["observed_stable"] - out["mean_p_stable"]) * 100
    key = ["attribute", "sorting"]
    refs = out[out["is_reference"]].set_index(key)
    for col in ("fpr", "fnr", "share_to_noe"):
        out[f"{col}_gap"] = out[col].to_numpy() - refs.loc[pd.MultiIndex.from_frame(out[key]), col].to_numpy()
    return out


def discrimination_table(df: pd.DataFrame, p_stable: np.ndarray, p_without: np.ndarray) -> pd.DataFrame:
    """AUC and Brier score of the model and, for comparison, of the 0/1 rule tree and decision."""
    o = df["outcome"].astype(object).to_numpy()
    rows = []
    for target, y in (("stable", o == "stable"), ("without_work", o == "without_work")):
        sign = 1.0 if target == "stable" else -1.0
        p_model = p_stable if target == "stable" else p_without
        for name, score, prob in (
            ("model", p_model, p_model),
            ("rule tree (standard = 1)", sign * df["profiled_standard"].to_numpy(float), None),
            ("first decision (standard = 1)", sign * df["decision_standard"].to_numpy(float), None),
        ):
            rows.append({"target": target, "score": name, "auc": auc(y, score),
                         "brier": brier(y, prob) if prob is not None else np.nan, "base_rate": y.mean()})
    return pd.DataFrame(rows)
