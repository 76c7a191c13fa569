"""Regressors of the main model as categorical columns (seed 002 ch. 4, table 1, table 4, app. D).

Every regressor enters the model as a set of dummies. Here each one becomes a pandas
``Categorical`` whose **first category is the reference level** (dropped in the design); the
model engine in :mod:`arbeidsindikator.estimation` relies on that convention. Reference levels are
the report's where it names one (digest §1.4), else the most frequent value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from arbeidsindikator.spec import HORIZONS, OUTCOMES

BOTID_LABELS = ("<=12", "13-24", "25-36", "37-48", "49-120", ">120")
HISTORY_LABELS = ("0", "1-6", "7-12", "13-18", "19-24", "25-36", "37-60", ">60")
HOURS_LABELS = ("0", "0-8", "8-16", "16-24", "24-32", "32-38", ">38")
BARN_LABELS = ("0", "1", "2", "3", "4+")
N_INFLOW_CATEGORIES = 20


@dataclass(frozen=True)
class CovariateOptions:
    """Choices the source leaves open; each is shown in the alternatives chapter."""

    duration_categories: int = 20  # 20 (appendix D: 0..18, 19+ pooled) or 61 (0..59, 60+)
    include_hours_at_t: bool = True  # figure 2: with and without hours at t
    inflow_categories: int = N_INFLOW_CATEGORIES


def _cat(values: np.ndarray | pd.Series, categories: list[str], reference: str) -> pd.Categorical:
    """Categorical with ``reference`` moved first."""
    cats = [reference] + [c for c in categories if c != reference]
    return pd.Categorical(values, categories=cats)


def _bool(s: pd.Series) -> pd.Categorical:
    return _cat(np.where(s.to_numpy(dtype=bool), "yes", "no"), ["no", "yes"], "no")


def age_category(alder: pd.Series) -> pd.Categorical:
    """One level per year 18..66, ages below 18 pooled with 18, 67+ pooled; reference 40."""
    a = alder.to_numpy().clip(18, 67)
    labels = [str(x) for x in range(18, 67)] + ["67+"]
    lab = np.where(a >= 67, "67+", a.astype(str))
    return _cat(lab, labels, "40")


def botid_category(botid: pd.Series) -> np.ndarray:
    """Residence time in months; born in Norway (empty) counts as more than 120 months."""
    b = botid.to_numpy(dtype=float)
    edges = [12, 24, 36, 48, 120]
    idx = np.searchsorted(edges, np.nan_to_num(b, nan=1e9), side="left")
    return np.asarray(BOTID_LABELS, dtype=object)[idx]


def history_category(hist: pd.Series) -> pd.Categorical:
    h = hist.to_numpy()
    idx = np.select([h == 0, h <= 6, h <= 12, h <= 18, h <= 24, h <= 36, h <= 60], range(7), default=7)
    return _cat(np.asarray(HISTORY_LABELS, dtype=object)[idx], list(HISTORY_LABELS), "0")


def duration_category(dur: pd.Series, n_categories: int) -> pd.Categorical:
    """Months since spell start, one level per month, the last level pooling the tail."""
    top = n_categories - 1
    d = dur.to_numpy().clip(0, top)
    labels = [str(x) for x in range(top)] + [f"{top}+"]
    lab = np.where(d >= top, f"{top}+", d.astype(str))
    return _cat(lab, labels, "0")


def hours_category(timer: pd.Series) -> pd.Categorical:
    t = timer.to_numpy(dtype=float)
    idx = np.select([t <= 0, t <= 8, t <= 16, t <= 24, t <= 32, t <= 38], range(6), default=6)
    return _cat(np.asarray(HOURS_LABELS, dtype=object)[idx], list(HOURS_LABELS), "0")


def income_category(lonn: pd.Series, pgi: pd.Series) -> pd.Categorical:
    """Pre-entry wage-income decile (0 = none), or pensionable-income decile for pre-2015 entries."""
    lo = lonn.to_numpy(dtype=float)
    pg = pgi.to_numpy(dtype=float)
    lab_l = np.where(lo == 0, "lonn_ingen", "lonn_d" + np.nan_to_num(lo).astype(int).astype(str))
    lab_p = np.where(pg == 0, "pgi_ingen", "pgi_d" + np.nan_to_num(pg).astype(int).astype(str))
    lab = np.where(np.isnan(lo), lab_p, lab_l)
    labels = ["lonn_ingen"] + [f"lonn_d{i}" for i in range(1, 11)] + ["pgi_ingen"] + [f"pgi_d{i}" for i in range(1, 11)]
    return _cat(lab, labels, "lonn_ingen")


def quantile_category(x: pd.Series, n: int) -> pd.Categorical:
    """``n`` quantile classes over the whole panel (deterministic); reference the lowest."""
    v = x.to_numpy(dtype=float)
    edges = np.unique(np.quantile(v, np.linspace(0, 1, n + 1)[1:-1]))
    idx = np.searchsorted(edges, v, side="right")
    labels = [f"q{i + 1:02d}" for i in range(len(edges) + 1)]
    return _cat(np.asarray(labels, dtype=object)[idx], labels, "q01")


def build_covariates(panel: pd.DataFrame, horizon: int, options: CovariateOptions = CovariateOptions()) -> pd.DataFrame:
    """Categorical regressors for outcomes with horizon 3 or 12 months (inflow averaged over t+1..t+h).

    Returns one categorical column per block of table 4; the first category of each is the
    reference level.
    """
    if horizon not in (3, 12):
        raise ValueError(f"horizon must be 3 or 12 months, got {horizon}")
    lg = panel["landgruppe"].to_numpy()
    botid = botid_category(panel["botid"])
    # Norway-born persons can have a short residence time too (return migrants): their levels
    # 0:<=12 … 0:49-120 correspond to table 4's botid main effect alone.
    inter = np.where(botid == ">120", "ref", pd.Series(lg).astype(str).to_numpy() + ":" + botid)
    inter_labels = ["ref"] + [f"{g}:{b}" for g in (0, -1, 1, 2, 3) for b in BOTID_LABELS[:-1]]
    barn = np.where(panel["barn"].to_numpy() >= 4, "4+", panel["barn"].to_numpy().astype(str))
    cols: dict[str, pd.Categorical] = {
        "alder": age_category(panel["alder"]),
        "barn": _cat(barn, list(BARN_LABELS), "0"),
        "landgruppe": _cat(lg.astype(str), ["0", "1", "2", "3", "-1"], "0"),
        "landgruppe_botid": _cat(inter, inter_labels, "ref"),
        "gift": _bool(panel["gift"]),
        "kvinne": _bool(panel["kvinne"]),
        "hoyere_utd": _bool(panel["hoyere_utd"]),
        "inntekt": income_category(panel["lonn_desil"], panel["pgi_desil"]),
        "nav_historikk": history_category(panel["nav_historikk"]),
        "nav_varighet": duration_category(panel["nav_varighet"], options.duration_categories),
        "ufor": _bool(panel["ufor"]),
        "permittert": _bool(panel["permittert"]),
        "helse_ytelse": _bool(panel["helse_ytelse"]),
        "arbeid_ytelse": _bool(panel["arbeid_ytelse"]),
    }
    if options.include_hours_at_t:
        cols["timer_t"] = hours_category(panel["timer_t"])
    cols["innstromming"] = quantile_category(panel[f"innstrom{horizon}"], options.inflow_categories)
    return pd.DataFrame(cols, index=panel.index)


def horizon_of(outcome: str) -> int:
    """Months ahead an outcome looks (:data:`arbeidsindikator.spec.HORIZONS`): 3 or 12."""
    if outcome not in HORIZONS:
        raise ValueError(f"unknown outcome {outcome!r}; expected one of {', '.join(OUTCOMES)}")
    return HORIZONS[outcome]
