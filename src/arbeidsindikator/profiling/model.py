"""The proposed probability model (seed 003 §4.1.3) and the sortings it gives.

Logistic regression (statsmodels ``Logit``, maximum likelihood) on the registration reason, the
months since the last month with wage > 3 G and the number of months with wage > 3 G in the last
24 (both banded), for P(stable) (variant A) and P(without work) (variant B); the variants as
sortings to NOE at a given volume; a per-person explanation of the score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd
import statsmodels.api as sm

from arbeidsindikator.profiling.contract import DIN_SITUASJON_LABEL
from arbeidsindikator.profiling.params import ProfilingParams

# --- the proposed model -------------------------------------------------------------------------

MODEL_INPUTS: tuple[str, ...] = ("din_situasjon", "months_since_band", "months_above_band")
INPUT_LABEL: dict[str, str] = {
    "din_situasjon": "registration reason (din situasjon)",
    "months_since_band": "months since last month > 3 G",
    "months_above_band": "months > 3 G in the last 24",
}
INPUT_SHORT: dict[str, str] = {"din_situasjon": "reason", "months_since_band": "months since > 3 G",
                               "months_above_band": "months > 3 G of 24"}
REFERENCE_LEVEL: dict[str, str] = {"din_situasjon": "MISTET_JOBBEN", "months_since_band": "1",
                                   "months_above_band": "24"}


def model_design(df: pd.DataFrame) -> pd.DataFrame:
    """Design matrix: constant + treatment dummies of the three inputs (fixed column order)."""
    cols: dict[str, np.ndarray] = {"const": np.ones(len(df))}
    for var in MODEL_INPUTS:
        cat = pd.Categorical(df[var])
        ref = REFERENCE_LEVEL[var]
        for level in cat.categories:
            if level != ref:
                cols[f"{var}[{level}]"] = (np.asarray(cat) == level).astype(float)
    return pd.DataFrame(cols, index=df.index)


@dataclass(frozen=True)
class FittedModel:
    """A fitted logistic model of one outcome on the three inputs."""

    target: str
    params: pd.Series
    bse: pd.Series
    n: int
    converged: bool
    llf: float
    pseudo_r2: float
    dropped: tuple[str, ...] = ()


def fit_model(df: pd.DataFrame, target: str) -> FittedModel:
    """Logit of ``outcome == target`` (statsmodels, Newton ML). Dummies with no variation in the
    fitting data are dropped and get coefficient 0 when predicting."""
    X = model_design(df)
    keep = [c for c in X.columns if c == "const" or X[c].std() > 0]
    y = (df["outcome"].astype(object) == target).astype(float).to_numpy()
    res = sm.Logit(y, X[keep]).fit(disp=0, method="newton", maxiter=100)
    params = res.params.reindex(X.columns, fill_value=0.0)
    bse = res.bse.reindex(X.columns)
    return FittedModel(target, params, bse, int(res.nobs), bool(res.mle_retvals["converged"]), float(res.llf),
                       float(res.prsquared), tuple(c for c in X.columns if c not in keep))


def linear_predictor(m: FittedModel, df: pd.DataFrame) -> np.ndarray:
    X = model_design(df).reindex(columns=m.params.index, fill_value=0.0)
    return X.to_numpy() @ m.params.to_numpy()


def predict(m: FittedModel, df: pd.DataFrame) -> np.ndarray:
    """P(target) per row."""
    return 1.0 / (1.0 + np.exp(-linear_predictor(m, df)))


def coefficient_table(m: FittedModel) -> pd.DataFrame:
    """Coefficients as a tidy table: input, level, coefficient (log-odds), SE, odds ratio."""
    rows = [{"input": "constant", "level": "reference person", "coefficient": m.params["const"],
             "std_error": m.bse["const"]}]
    for name in m.params.index.drop("const"):
        var, level = name[:-1].split("[", 1)
        rows.append({"input": INPUT_LABEL[var], "level": level, "coefficient": m.params[name],
                     "std_error": m.bse.get(name, np.nan)})
    out = pd.DataFrame(rows)
    out["odds_ratio"] = np.exp(out["coefficient"])
    return out


# --- sortings: today, variant A, variant B ------------------------------------------------------


def select_top(score: np.ndarray, eligible: np.ndarray, n_select: int) -> np.ndarray:
    """The ``n_select`` eligible rows with the highest score (ties: earlier row first)."""
    score = np.asarray(score, dtype=float)
    elig = np.flatnonzero(np.asarray(eligible, dtype=bool))
    order = elig[np.argsort(-score[elig], kind="stable")]
    out = np.zeros(len(score), dtype=bool)
    out[order[: max(0, min(n_select, len(order)))]] = True
    return out


def variant_a(p_stable: np.ndarray, eligible: np.ndarray, volume: float) -> np.ndarray:
    """Variant A: send the share ``volume`` of all registrations with the highest P(stable)."""
    return select_top(p_stable, eligible, int(round(volume * len(p_stable))))


def variant_b(p_without: np.ndarray, eligible: np.ndarray, volume: float) -> np.ndarray:
    """Variant B: send the share ``volume`` with the lowest P(without work)."""
    return select_top(-np.asarray(p_without), eligible, int(round(volume * len(p_without))))


def variant_b_same_without(p_without: np.ndarray, eligible: np.ndarray, without: np.ndarray,
                           max_without: int) -> np.ndarray:
    """Variant B by the report's rule (seed 003 §4.4): rank the eligible by the lowest P(without
    work) and send the largest number of them that contains no more persons ending without work
    than ``max_without`` (those today's sorting sends). Ties in P are broken by row order, as in
    :func:`select_top`. Like the report, the rule uses the observed outcome, so it is a yardstick
    on evaluation data, not a rule that could be applied to new registrations as it stands."""
    p_without = np.asarray(p_without, dtype=float)
    elig = np.flatnonzero(np.asarray(eligible, dtype=bool))
    order = elig[np.argsort(p_without[elig], kind="stable")]
    cum = np.cumsum(np.asarray(without, dtype=bool)[order])
    n = int(np.searchsorted(cum, max_without, side="right"))
    out = np.zeros(len(p_without), dtype=bool)
    out[order[:n]] = True
    return out


def sortings_for(df: pd.DataFrame, today: np.ndarray, p_stable: np.ndarray, p_without: np.ndarray,
                 p: ProfilingParams, rule: str | None = None) -> dict[str, np.ndarray]:
    """Today, variant A (today's volume, highest P(stable)) and variant B (``rule``, default the
    parameters' ``variant_b_rule``) against a given definition of today's sorting."""
    o = df["outcome"].astype(object).to_numpy()
    elig = df["eligible_for_noe"].to_numpy(dtype=bool)
    today = np.asarray(today, dtype=bool)
    rule = rule or p.variant_b_rule
    if rule == "fixed_volume":
        b = variant_b(p_without, elig, p.volume_b)
    else:
        b = variant_b_same_without(p_without, elig, o == "without_work", int((today & (o == "without_work")).sum()))
    return {"today (rule tree)": today, "variant A": variant_a(p_stable, elig, float(today.mean())), "variant B": b}


# --- per-person explanation ---------------------------------------------------------------------


def explain(m: FittedModel, df: pd.DataFrame, rows: Mapping[int, str], reference: pd.DataFrame) -> pd.DataFrame:
    """What a person's score is based on: each input's contribution to the linear predictor.

    Contribution of input j for person i = β_j(x_ij) − mean over ``reference`` of β_j(x_kj): how
    much the person's answer moves the log-odds compared with the average registration (for a
    logistic model these are exactly the Shapley values of the linear predictor). ``rows`` maps
    row positions of ``df`` to a label of the case. One result row per person and input, plus
    the average's log-odds; the contributions add up to the person's log-odds, whose logistic
    is the probability shown.
    """
    def per_input(frame: pd.DataFrame) -> pd.DataFrame:
        X = model_design(frame).reindex(columns=m.params.index, fill_value=0.0)
        parts = {}
        for var in MODEL_INPUTS:
            cols = [c for c in X.columns if c.startswith(var + "[")]
            parts[var] = X[cols].to_numpy() @ m.params[cols].to_numpy()
        return pd.DataFrame(parts, index=frame.index)

    base = per_input(reference).mean()
    sel = df.iloc[list(rows)]
    contrib = per_input(sel) - base
    avg_lp = float(m.params["const"] + base.sum())
    out = []
    for (idx, r), case in zip(sel.iterrows(), rows.values()):
        lp = avg_lp + float(contrib.loc[idx].sum())
        common = {"reg_id": r["reg_id"], "case": case, "log_odds": lp, "probability": 1 / (1 + np.exp(-lp))}
        out.append({**common, "input": "average registration", "input_short": "average", "value": "",
                    "meaning": "", "contribution": avg_lp})
        for var in MODEL_INPUTS:
            value = str(r[var])
            out.append({**common, "input": INPUT_LABEL[var], "input_short": INPUT_SHORT[var], "value": value,
                        "meaning": DIN_SITUASJON_LABEL.get(value, "") if var == "din_situasjon" else "",
                        "contribution": float(contrib.loc[idx, var])})
    cols = ["reg_id", "case", "input", "input_short", "value", "meaning", "contribution", "log_odds", "probability"]
    return pd.DataFrame(out)[cols]


def example_persons(df: pd.DataFrame, p_stable: np.ndarray, noe_today: np.ndarray, noe_a: np.ndarray) -> dict[int, str]:
    """Three illustrative rows (median P(stable) within each case): sent to NOE by both sortings,
    by the rule tree only, by variant A only."""
    picks: dict[int, str] = {}
    cases = (("NOE under both", noe_today & noe_a), ("NOE under the rule tree only", noe_today & ~noe_a),
             ("NOE under variant A only", ~noe_today & noe_a))
    for label, mask in cases:
        idx = np.flatnonzero(mask)
        if len(idx):
            picks[int(idx[np.argsort(p_stable[idx], kind="stable")[len(idx) // 2]])] = label
    return picks
