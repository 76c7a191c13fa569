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


def _coded(idx: np.ndarray, labels: list[str] | tuple[str, ...], reference: str) -> pd.Categorical:
    """Categorical from positions ``idx`` into ``labels`` (``-1`` = missing), ``reference`` first.

    The same result as ``_cat(np.asarray(labels)[idx], labels, reference)`` without making a
    string per row: at 23 M rows the string route took most of the model step's time.
    """
    labels = list(labels)
    r = labels.index(reference)
    perm = np.arange(len(labels), dtype=np.int64)
    perm[:r] += 1
    perm[r] = 0
    idx = np.asarray(idx)
    dtype = np.int8 if len(labels) < 127 else np.int16
    codes = np.where(idx >= 0, perm[np.clip(idx, 0, None)], -1).astype(dtype)
    cats = [reference] + [c for c in labels if c != reference]
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(cats))


def _valid(idx: np.ndarray, ok: np.ndarray) -> np.ndarray:
    return np.where(ok, idx, -1)


def _bool(s: pd.Series) -> pd.Categorical:
    return _coded(s.to_numpy(dtype=bool).astype(np.int8), ["no", "yes"], "no")


AGE_LABELS = tuple(str(x) for x in range(18, 67)) + ("67+",)


def age_category(alder: pd.Series) -> pd.Categorical:
    """One level per year 18..66, ages below 18 pooled with 18, 67+ pooled; reference 40."""
    a = alder.to_numpy().clip(18, 67)
    return _coded(a - 18, AGE_LABELS, "40")


def _botid_index(botid: pd.Series) -> np.ndarray:
    b = botid.to_numpy(dtype=float)
    edges = [12, 24, 36, 48, 120]
    return np.searchsorted(edges, np.nan_to_num(b, nan=1e9), side="left")


def botid_category(botid: pd.Series) -> np.ndarray:
    """Residence time in months; born in Norway (empty) counts as more than 120 months."""
    return np.asarray(BOTID_LABELS, dtype=object)[_botid_index(botid)]


def history_category(hist: pd.Series) -> pd.Categorical:
    h = hist.to_numpy()
    idx = np.select([h == 0, h <= 6, h <= 12, h <= 18, h <= 24, h <= 36, h <= 60], range(7), default=7)
    return _coded(idx, HISTORY_LABELS, "0")


def duration_category(dur: pd.Series, n_categories: int) -> pd.Categorical:
    """Months since spell start, one level per month, the last level pooling the tail."""
    top = n_categories - 1
    d = dur.to_numpy().clip(0, top)
    labels = [str(x) for x in range(top)] + [f"{top}+"]
    return _coded(d, labels, "0")


def hours_category(timer: pd.Series) -> pd.Categorical:
    t = timer.to_numpy(dtype=float)
    idx = np.select([t <= 0, t <= 8, t <= 16, t <= 24, t <= 32, t <= 38], range(6), default=6)
    return _coded(idx, HOURS_LABELS, "0")


INCOME_LABELS = ("lonn_ingen",) + tuple(f"lonn_d{i}" for i in range(1, 11)) + ("pgi_ingen",) + tuple(f"pgi_d{i}" for i in range(1, 11))


def income_category(lonn: pd.Series, pgi: pd.Series) -> pd.Categorical:
    """Pre-entry wage-income decile (0 = none), or pensionable-income decile for pre-2015 entries."""
    lo = lonn.to_numpy(dtype=float)
    pg = pgi.to_numpy(dtype=float)

    def part(x: np.ndarray, base: int) -> np.ndarray:
        d = np.nan_to_num(x).astype(int)  # truncation, as the label "…_d<int>" was made
        return np.where(x == 0, base, _valid(base + d, (d >= 1) & (d <= 10)))

    idx = np.where(np.isnan(lo), part(pg, 11), part(lo, 0))
    return _coded(idx, INCOME_LABELS, "lonn_ingen")


def quantile_category(x: pd.Series, n: int) -> pd.Categorical:
    """``n`` quantile classes over the whole panel (deterministic); reference the lowest."""
    v = x.to_numpy(dtype=float)
    edges = np.unique(np.quantile(v, np.linspace(0, 1, n + 1)[1:-1]))
    idx = np.searchsorted(edges, v, side="right")
    labels = [f"q{i + 1:02d}" for i in range(len(edges) + 1)]
    return _coded(idx, labels, "q01")


_LG_LEVELS = (0, -1, 1, 2, 3)
INTER_LABELS = ("ref",) + tuple(f"{g}:{b}" for g in _LG_LEVELS for b in BOTID_LABELS[:-1])


def _position(values: np.ndarray, levels: tuple[int, ...]) -> np.ndarray:
    """Position of each value in ``levels``; -1 where it is not one of them."""
    out = np.full(values.shape, -1, dtype=np.int64)
    for i, v in enumerate(levels):
        out[values == v] = i
    return out


def build_covariates(panel: pd.DataFrame, horizon: int, options: CovariateOptions = CovariateOptions()) -> pd.DataFrame:
    """Categorical regressors for outcomes with horizon 3 or 12 months (inflow averaged over t+1..t+h).

    Returns one categorical column per block of table 4; the first category of each is the
    reference level.
    """
    if horizon not in (3, 12):
        raise ValueError(f"horizon must be 3 or 12 months, got {horizon}")
    lg = panel["landgruppe"].to_numpy()
    bidx = _botid_index(panel["botid"])
    # Norway-born persons can have a short residence time too (return migrants): their levels
    # 0:<=12 … 0:49-120 correspond to table 4's botid main effect alone.
    gpos = _position(lg, _LG_LEVELS)
    inter = np.where(bidx == len(BOTID_LABELS) - 1, 0, _valid(1 + gpos * (len(BOTID_LABELS) - 1) + bidx, gpos >= 0))
    barn = panel["barn"].to_numpy()
    cols: dict[str, pd.Categorical] = {
        "alder": age_category(panel["alder"]),
        "barn": _coded(_valid(np.minimum(barn, 4), barn >= 0), BARN_LABELS, "0"),
        "landgruppe": _coded(_position(lg, (0, 1, 2, 3, -1)), ["0", "1", "2", "3", "-1"], "0"),
        "landgruppe_botid": _coded(inter, INTER_LABELS, "ref"),
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


def regressor_summary(X: pd.DataFrame) -> pd.DataFrame:
    """One row per regressor block of a covariate frame: levels present, reference, most frequent."""
    rows = []
    for block in X.columns:
        s = X[block]
        counts = s.value_counts()
        rows.append(
            {
                "regressor": block,
                "levels in data": int((counts > 0).sum()),
                "reference level": str(s.cat.categories[0]),
                "share at reference": float((s == s.cat.categories[0]).mean()),
                "most frequent level": str(counts.idxmax()),
            }
        )
    return pd.DataFrame(rows)
