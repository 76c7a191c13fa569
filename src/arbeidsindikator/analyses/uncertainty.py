"""Intervals for every indicator curve the book and the export show (seed 002 ch. 4, appendix C; issue 14).

Groupings (:data:`GROUPINGS`): national, county, office, service group, programme, youth
guarantee, country group 3. Statistics per unit: the monthly indicator, its seasonally adjusted
version, tertial (four-month) means of both and the whole-period mean (person-month weighted).
Every statistic is a linear map ``L`` of the unit's monthly indicators ``I`` (seasonal adjustment
is :func:`seasonal.adjustment_matrix`, the one adjustment of the package), so one covariance of
the monthly indicators gives the variance of all of them, ``L Σ L'``.

Methods (the ``method`` column):

* ``printed`` — the report's formula ``σ_y/√n`` (hours) or ``√(p(1−p)/n)`` (job shares);
  months treated as independent when combined;
* ``residual`` — the same with the residual spread (``indicator.indicator_table``);
* ``analytic_person`` / ``analytic_observation`` — influence functions including the estimated
  coefficients, clustered by person or by row. For group g the influence of row i is
  ``ψ_gi = 1[i∈g](r_i − I_g)/n_g − D_g H⁻¹ x_i s_i`` (``r`` residual, ``s`` score factor: OLS the
  residual, probit ``φ(η)(y−Φ(η))/(Φ(1−Φ))``; ``H⁻¹`` the inverse Hessian; ``D_g`` the group's
  mean derivative of the expected value, ``x_i`` for OLS and ``φ(η_i)x_i`` for probit — the
  delta method). Person sums ``ψ_gp`` give ``Σ_gh = Σ_p ψ_gp ψ_hp``;
* ``multiplier_person`` / ``multiplier_observation`` — ``δ_g = Σ_p ψ_gp ξ_p`` with standard
  normal ξ: the first-order refit bootstrap without refitting (same variance as the analytic
  one in expectation, plus percentile intervals);
* ``refit_person`` / ``refit_observation`` — appendix C: resample to the original size, refit,
  predict, recompute every curve. ``refit_observation`` is the report's bootstrap. Appendix C's
  "10th and 190th of 200 sorted values" is a **90 %** interval (columns ``lower_90_appc``,
  ``upper_90_appc``), not 95 %.

Observation-level methods give monthly statistics only: they under-cover tertial and period
means, which average months of the same persons (issue 14).

Analytic and multiplier intervals use a few-clusters correction: the CR1 factor ``G/(G−1)``
and Student t bounds with ``G − 1`` degrees of freedom, G the distinct clusters (persons, or
rows) behind the value (:func:`clusters_behind`).

Modules: the influence sums over chunks of whole persons in :mod:`.influence`, streamed from the
store in :mod:`.streaming` (the book's path at any scale); the refit bootstrap in :mod:`.refit`;
this module turns the sums into interval tables (:func:`summarise`) and computes the book's
table (:func:`book_intervals`). :func:`read_panel` (whole panel in memory) is for small panels.
"""

from __future__ import annotations

import time
import warnings
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from arbeidsindikator.config import RunConfig, Window
from arbeidsindikator.estimation import Design, FitResult, SeparationWarning, build_design, fit
from arbeidsindikator.indicator import seasonal
from arbeidsindikator.panel.covariates import CovariateOptions, build_covariates, horizon_of
from arbeidsindikator.spec import FAMILY, OUTCOMES
from arbeidsindikator.analyses.refit import _csr, RefitResult, aliased_columns, fit_replicate  # noqa: F401 (re-exported)
from arbeidsindikator.analyses.influence import (  # noqa: F401 (re-exported)
    GROUPINGS, GroupSums, Influence, Layout, Level, PanelChunk, _unit_codes, accumulate_levels, multiplier_deviations,
    unit_covariance, unit_labels,
)
from arbeidsindikator.analyses.refit import refit_bootstrap, refit_design  # noqa: F401 (re-exported)

Z = {0.5: 0.6744897501960817, 0.8: 1.2815515655446004, 0.9: 1.6448536269514722, 0.95: 1.959963984540054}
LEVELS = (0.5, 0.8, 0.95)
STATISTICS = ("month", "month_adjusted", "tertial", "tertial_adjusted", "period")
MONTHLY = ("month", "month_adjusted")
#: The method whose bounds go into the export (validated by the coverage study).
DEFAULT_METHOD = "analytic_person"


# ---------------------------------------------------------------------------------------------
# Chunks of whole persons from an in-memory panel (the store's chunks: analyses/streaming.py)
# ---------------------------------------------------------------------------------------------


def read_panel(cfg: RunConfig, outcome: str) -> tuple[pd.DataFrame, FitResult]:
    """The whole panel with expected values and derived groups, and the outcome's main fit.

    Small panels only (tests, the coverage study, the refit bootstrap); the book's intervals
    stream over the store (:func:`arbeidsindikator.analyses.streaming.store_influences`).
    """
    from arbeidsindikator import pipeline

    return pipeline.panel_with_expected(cfg), pipeline.main_models(cfg).fits[outcome]


def panel_chunks(
    df: pd.DataFrame,
    outcome: str,
    options: CovariateOptions,
    fit_result: FitResult | None = None,
    *,
    groupings: Sequence[str] = tuple(GROUPINGS),
    level: Level = "person",
    chunk_rows: int = 250_000,
) -> tuple[Layout, FitResult, Callable[[], Iterator[PanelChunk]]]:
    """Layout, fit and a factory of chunk iterators over the observable rows of ``df``.

    Rows are ordered by person and chunks end at person boundaries. The expected value comes
    from ``fit_result.predict`` (the engine's one prediction path); without a fit the main model
    is fitted here.
    """
    obs = df[outcome].notna().to_numpy()
    design = build_design(build_covariates(df, horizon_of(outcome), options), mask=obs)
    y_all = df[outcome].to_numpy(dtype=float)
    family = FAMILY[outcome]
    if fit_result is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SeparationWarning)
            fit_result = fit(design, y_all, family=family, outcome=outcome)  # type: ignore[arg-type]
    months_all = pd.DatetimeIndex(df["month"])
    months = pd.DatetimeIndex(sorted(months_all[obs].unique()))
    ucodes, labels = _unit_codes(df, groupings)
    layout, chunks = design_chunks(design, y_all, fit_result, df["person_id"].to_numpy(), months.get_indexer(months_all),
                                   months, ucodes, labels, outcome=outcome, family=family, level=level,
                                   chunk_rows=chunk_rows)
    return layout, fit_result, chunks


def design_chunks(
    design: Design,
    y: np.ndarray,
    fit_result: FitResult,
    person_id: np.ndarray,
    month_idx: np.ndarray,
    months: pd.DatetimeIndex,
    unit_codes: dict[str, np.ndarray],
    unit_labels: dict[str, pd.Index],
    *,
    outcome: str,
    family: str,
    level: Level = "person",
    chunk_rows: int = 250_000,
) -> tuple[Layout, Callable[[], Iterator[PanelChunk]]]:
    """Chunks of whole persons from a design, outcome, fit and group codes (rows with NaN y skipped).

    Persons are numbered in person-id order and rows by their position (the multiplier draws
    follow these ordinals, as in the store's chunks); ``level`` is the layout's default level.
    """
    expected = fit_result.predict(design, unseen="nan")
    _, pcode_all = np.unique(person_id, return_inverse=True)
    rows = np.flatnonzero(~np.isnan(y) & ~np.isnan(expected) & (design.mask if design.mask is not None else True))
    order = np.argsort(pcode_all[rows], kind="stable")
    rows = rows[order]
    pcode = pcode_all[rows]
    n_clusters = (int(pcode_all.max()) + 1 if level == "person" else rows.size) if rows.size else 0
    layout = Layout(outcome, family, months, unit_labels, list(design.names), n_clusters, level)
    cuts = list(range(0, rows.size, chunk_rows)) + [rows.size]
    cuts = sorted({int(np.searchsorted(pcode, pcode[c], side="left")) if c < rows.size else c for c in cuts})

    def chunks() -> Iterator[PanelChunk]:
        for a, b in zip(cuts[:-1], cuts[1:]):
            if b <= a:
                continue
            r = rows[a:b]
            yield PanelChunk(codes=design.codes[r], y=y[r], expected=expected[r], person=pcode[a:b], month=month_idx[r],
                             units={g: c[r] for g, c in unit_codes.items()}, person_ordinal=pcode[a:b], row_ordinal=r)

    return layout, chunks


def accumulate(layout: Layout, res: FitResult, chunks: Callable[[], Iterable[PanelChunk]], *, replicates: int = 0,
               seed: int = 0) -> Influence:
    """The influence sums at the layout's level (:func:`influence.accumulate_levels`)."""
    lv = layout.level
    return accumulate_levels(layout, res, chunks, replicates=replicates if lv == "person" else 0,
                             obs_replicates=replicates if lv == "observation" else 0, seed=seed,
                             levels=(lv,))[lv]  # type: ignore[arg-type]



# ---------------------------------------------------------------------------------------------
# Statistics as linear maps of a unit's monthly indicators
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _adjustment(months: tuple[pd.Timestamp, ...], windows: tuple[Window, ...]) -> np.ndarray | None:
    """:func:`seasonal.adjustment_matrix` for a unit's months (None: not adjustable), memoised:
    most units share the same months."""
    try:
        L = seasonal.adjustment_matrix(pd.DatetimeIndex(months), windows)
    except seasonal.SeasonalError:
        return None
    L.setflags(write=False)
    return L


def linear_maps(months: pd.DatetimeIndex, n: np.ndarray, windows: Sequence[Window] | None,
                statistics: Sequence[str] = STATISTICS
                ) -> list[tuple[str, pd.DatetimeIndex | list, np.ndarray, np.ndarray]]:
    """(statistic, period labels, L, person-months behind each value) for a unit observed at ``months`` with ``n`` person-months each.

    Adjusted statistics are left out when the unit's reference months miss a calendar month.
    Tertials are Jan–Apr, May–Aug, Sep–Dec, complete (four observed months) only, as
    :func:`indicator.tertial_means`.
    """
    out: list[tuple[str, pd.DatetimeIndex | list, np.ndarray, np.ndarray]] = []
    for st, periods, L, Tm, _ in month_maps(months, windows, statistics):
        if st == "period":
            if n.sum() > 0:
                out.append((st, [pd.NaT], (n / n.sum())[None, :], np.array([n.sum()])))
        else:
            out.append((st, periods, L, n if Tm is None else 4 * Tm @ n))
    return out


def month_maps(months: pd.DatetimeIndex, windows: Sequence[Window] | None, statistics: Sequence[str] = STATISTICS
               ) -> list[tuple[str, pd.DatetimeIndex | list, np.ndarray | None, np.ndarray | None, np.ndarray | None]]:
    """The part of :func:`linear_maps` that depends on the months only (units observed in the
    same months share it): (statistic, period labels, L (None for the period mean, whose weights
    are the person-months), the tertial averaging matrix (None: not a tertial), tertial keys)."""
    out: list[tuple[str, pd.DatetimeIndex | list, np.ndarray | None, np.ndarray | None, np.ndarray | None]] = []
    T = len(months)
    L_adj = None
    if windows is not None and any(s.endswith("adjusted") for s in statistics):
        L_adj = _adjustment(tuple(months), tuple(windows))
    tkey = months.year.to_numpy() * 3 + (months.month.to_numpy() - 1) // 4
    uk, inv, cnt = np.unique(tkey, return_inverse=True, return_counts=True)
    full = np.flatnonzero(cnt == 4)
    Tm = np.zeros((full.size, T))
    for j, kk in enumerate(full):
        Tm[j, inv == kk] = 0.25
    starts = [pd.Timestamp(year=int(k // 3), month=int(k % 3) * 4 + 1, day=1) for k in uk[full]]
    for st in statistics:
        if st == "month":
            out.append((st, months, np.eye(T), None, None))
        elif st == "month_adjusted" and L_adj is not None:
            out.append((st, months, L_adj, None, None))
        elif st == "tertial" and len(starts):
            out.append((st, pd.DatetimeIndex(starts), Tm, Tm, uk[full]))
        elif st == "tertial_adjusted" and len(starts) and L_adj is not None:
            out.append((st, pd.DatetimeIndex(starts), Tm @ L_adj, Tm, uk[full]))
        elif st == "period":
            out.append((st, [pd.NaT], None, None, None))
    return out


def _bounds(point: np.ndarray, se: np.ndarray, levels: Sequence[float] = LEVELS,
            df: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Normal bounds, or Student t bounds with ``df`` degrees of freedom per value."""
    out: dict[str, np.ndarray] = {"indicator": point, "se": se}
    for lv in levels:
        q = Z[lv] if df is None else _t_quantile(lv, df)
        out[f"lower_{int(lv * 100)}"] = point - q * se
        out[f"upper_{int(lv * 100)}"] = point + q * se
    return out


_T_MAX_DF = 20_000


@lru_cache(maxsize=8)
def _t_table(level: float) -> np.ndarray:
    """Two-sided ``level`` Student t quantiles for 1…_T_MAX_DF degrees of freedom (index = df)."""
    return np.r_[np.nan, stats.t.ppf(0.5 + level / 2, np.arange(1, _T_MAX_DF + 1))]


def _t_quantile(level: float, df: np.ndarray) -> np.ndarray:
    """t quantile per value, df rounded down (conservative); NaN for df < 1; the normal one beyond
    _T_MAX_DF (within 1e-4)."""
    d = np.asarray(df, dtype=float)
    k = np.where(np.isfinite(d), np.clip(d, 0, _T_MAX_DF), 0).astype(np.int64)
    return np.where(d > _T_MAX_DF, Z[level], _t_table(level)[k])


def clusters_behind(gs: GroupSums, unit: int, stat: str, idx: np.ndarray, periods: object,
                    keys: np.ndarray | None = None) -> np.ndarray:
    """Effective clusters G behind each value of a statistic (for the few-clusters correction).

    ``G = (Σ_p n_p)² / Σ_p n_p²`` over the clusters (persons) p with n_p rows in: the cell (a
    month), the unit's four months (a tertial), the unit (adjusted values and the period mean,
    which average over many months). With unbalanced clusters this is Carter, Schnepel and
    Steigerwald's (2017) effective number of clusters for a mean whose within-person correlation
    dominates; balanced clusters give the distinct count, and one row per person (a month) n.
    ``keys``: the tertials' keys (year·3 + tertial) if known (:func:`month_maps`), else from ``periods``.
    """
    if stat == "month" and gs.clusters_cell is not None:
        return gs.clusters_cell[idx]
    if stat == "tertial" and gs.clusters_tertial is not None and gs.tertial_keys is not None:
        if keys is None:
            p = pd.DatetimeIndex(periods)  # type: ignore[arg-type]
            keys = p.year.to_numpy() * 3 + (p.month.to_numpy() - 1) // 4
        return gs.clusters_tertial[unit][np.searchsorted(gs.tertial_keys, keys)]
    k = 1 if stat == "period" else len(periods)  # type: ignore[arg-type]
    return np.full(k, (gs.clusters_unit if gs.clusters_unit is not None else gs.persons)[unit])


def cr1_factor(G: np.ndarray) -> np.ndarray:
    """CR1 small-sample factor ``G/(G−1)`` of a cluster-robust variance with G clusters."""
    G = np.asarray(G, dtype=float)
    return np.where(G > 1, G / np.maximum(G - 1, 1), np.nan)


def appendix_c_bounds(reps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Appendix C's percentile interval: the 10th and 190th of 200 sorted values, a **90 %** interval.

    For R replicates the ``round(0.05 R)``-th and ``round(0.95 R)``-th sorted values (1-based);
    with R = 200 exactly the report's 10th and 190th. ``reps`` is statistics × replicates.
    """
    R = reps.shape[1]
    srt = np.sort(reps, axis=1)
    lo = max(int(round(0.05 * R)), 1) - 1
    hi = min(int(round(0.95 * R)), R) - 1
    return srt[:, lo], srt[:, hi]


# ---------------------------------------------------------------------------------------------
# Interval tables
# ---------------------------------------------------------------------------------------------


@dataclass
class Intervals:
    """Long table of intervals and what happened while computing them."""

    table: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    failed_replicates: int = 0
    aliased_replicates: int = 0
    separated_replicates: int = 0


class _Collector:
    """Rows of the long interval table, collected as arrays and framed once."""

    KEYS = ("outcome", "grouping", "unit", "method", "statistic")

    def __init__(self) -> None:
        self.parts: list[dict[str, object]] = []

    def add(self, outcome: str, grouping: str, unit: str, method: str, stat: str, periods: object, n: np.ndarray,
            persons: np.ndarray | None, cols: dict[str, np.ndarray]) -> None:
        k = len(n)
        d: dict[str, object] = dict(zip(self.KEYS, (outcome, grouping, unit, method, stat)))
        d["_k"] = k
        if isinstance(periods, np.ndarray) and periods.dtype == "datetime64[ns]":
            d["period"] = periods
        else:
            d["period"] = np.asarray(pd.DatetimeIndex(periods))
        d.update(cols)
        d["n"] = n
        d["persons"] = persons if persons is not None else n
        self.parts.append(d)

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame()
        cols = list(dict.fromkeys(c for p in self.parts for c in p if c != "_k"))
        out: dict[str, np.ndarray] = {}
        for c in cols:
            if c in self.KEYS:
                out[c] = np.concatenate([np.repeat(np.array([p[c]], dtype=object), p["_k"]) for p in self.parts])  # type: ignore[arg-type]
            else:
                out[c] = np.concatenate([np.asarray(p[c], dtype="datetime64[ns]" if c == "period" else float)
                                         if c in p else np.full(p["_k"], np.nan) for p in self.parts])  # type: ignore[arg-type]
        df = pd.DataFrame(out)
        for c in self.KEYS:
            df[c] = df[c].astype(str)
        return df


def _quantile(a: np.ndarray, q: float) -> np.ndarray:
    return np.quantile(a, q, axis=1) if not np.isnan(a).any() else np.nanquantile(a, q, axis=1)


def _percentile_bounds(reps: np.ndarray) -> dict[str, np.ndarray]:
    """95 % percentile bounds (numpy's linear rule) and appendix C's 90 % bounds from one sort.

    Replicates that failed everywhere (NaN columns) are left out; statistics without any
    finite replicate get NaN; a statistic with some NaN replicates falls back to nanquantile.
    """
    keep = ~np.isnan(reps).all(axis=0)
    reps = reps[:, keep]
    out = {k: np.full(reps.shape[0], np.nan) for k in ("lower_95_pct", "upper_95_pct", "lower_90_appc", "upper_90_appc")}
    R = reps.shape[1]
    if R == 0:
        return out
    rows_nan = np.isnan(reps)
    full = ~rows_nan.any(axis=1)
    srt = np.sort(reps[full], axis=1)
    for key, q in (("lower_95_pct", 0.025), ("upper_95_pct", 0.975)):
        h = q * (R - 1)
        lo = int(np.floor(h))
        hi = min(lo + 1, R - 1)
        out[key][full] = srt[:, lo] + (h - lo) * (srt[:, hi] - srt[:, lo])
    lo_c, hi_c = max(int(round(0.05 * R)), 1) - 1, min(int(round(0.95 * R)), R) - 1
    out["lower_90_appc"][full], out["upper_90_appc"][full] = srt[:, lo_c], srt[:, hi_c]
    part = ~full & ~rows_nan.all(axis=1)
    if part.any():
        out["lower_95_pct"][part] = np.nanquantile(reps[part], 0.025, axis=1)
        out["upper_95_pct"][part] = np.nanquantile(reps[part], 0.975, axis=1)
        out["lower_90_appc"][part], out["upper_90_appc"][part] = appendix_c_bounds(reps[part])
    return out


def summarise(inf: Influence, windows: Sequence[Window] | None, methods: Sequence[str],
               curves: dict[str, dict[str, np.ndarray]] | None = None,
               statistics: Sequence[str] = STATISTICS) -> pd.DataFrame:
    """Rows for every grouping, unit and statistic (BLAS limited to one thread: many small products)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: only speed depends on it
        return _summarise_impl(inf, windows, methods, curves, statistics)
    with threadpool_limits(1):
        return _summarise_impl(inf, windows, methods, curves, statistics)


def _unit_maps(cache: dict[bytes, list], all_months: pd.DatetimeIndex, pos: np.ndarray, n: np.ndarray,
               windows: Sequence[Window] | None, statistics: Sequence[str]
               ) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]]:
    """:func:`linear_maps` of a unit observed at month positions ``pos`` (periods as datetime64),
    with the months-only part memoised in ``cache``; also the tertial keys."""
    key = pos.tobytes()
    if key not in cache:
        cache[key] = [(st, np.asarray(pd.DatetimeIndex(periods)).astype("datetime64[ns]"), L, Tm, keys)
                      for st, periods, L, Tm, keys in month_maps(all_months[pos], windows, statistics)]
    out = []
    for st, periods, L, Tm, keys in cache[key]:
        if st == "period":
            if n.sum() > 0:
                out.append((st, periods, (n / n.sum())[None, :], np.array([n.sum()]), keys))
        else:
            out.append((st, periods, L, n if Tm is None else 4 * Tm @ n, keys))
    return out


def _summarise_impl(inf: Influence, windows: Sequence[Window] | None, methods: Sequence[str],
                    curves: dict[str, dict[str, np.ndarray]] | None = None,
                    statistics: Sequence[str] = STATISTICS) -> pd.DataFrame:
    """Rows for every grouping, unit and statistic from the accumulated pieces.

    ``curves``: method -> grouping -> (G × R) replicate monthly indicators (refit bootstrap).
    """
    lay = inf.layout
    T = len(lay.months)
    out = _Collector()
    jobb = lay.outcome.startswith("jobb")
    maps: dict[bytes, list] = {}  # month positions -> month_maps (most units share their months)
    for g, labels in lay.units.items():
        gs = inf.groups[g]
        dev = multiplier_deviations(inf, g) if inf.replicates else None
        blocks = gs.blocks
        B_all = gs.D @ inf.Hinv
        ind = gs.indicator
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_y = gs.sy / gs.n
            var_y = (gs.syy - gs.n * mean_y**2) / (gs.n - 1)
            var_r = (gs.srr - gs.n * ind**2) / (gs.n - 1)
            se_printed = np.sqrt(mean_y * (1 - mean_y) / gs.n) if jobb else np.sqrt(var_y / gs.n)
            se_resid = np.sqrt(var_r / gs.n)
        for u, label in enumerate(labels):
            C, idx = unit_covariance(inf, g, u, blocks, B_all)
            if idx.size == 0:
                continue
            n = gs.n[idx]
            for stat, periods, L, nn, keys in _unit_maps(maps, lay.months, idx - u * T, n, windows, statistics):
                point = L @ ind[idx]
                persons = np.array([gs.persons[u]]) if stat == "period" else None
                G = clusters_behind(gs, u, stat, idx, periods, keys)
                for m in methods:
                    if m.endswith("observation") and stat not in MONTHLY:
                        continue  # observation-level intervals under-cover multi-month means
                    if m in ("printed", "residual"):
                        se_m = (se_printed if m == "printed" else se_resid)[idx]
                        cols = _bounds(point, np.sqrt((L**2) @ se_m**2))
                    elif m.startswith("analytic"):
                        # CR1 (G/(G−1)) and a t reference with G−1 degrees of freedom: few clusters
                        var = np.clip(((L @ C) * L).sum(axis=1), 0, None) * cr1_factor(G)
                        cols = _bounds(point, np.sqrt(var), df=G - 1)
                    else:
                        if m.startswith("multiplier"):
                            if dev is None:
                                continue
                            reps = point[:, None] + np.sqrt(cr1_factor(G))[:, None] * (L @ dev[idx])
                        else:
                            if not curves or m not in curves:
                                continue
                            reps = L @ curves[m][g][idx]
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore", RuntimeWarning)
                            cols = _bounds(point, np.nanstd(reps, axis=1, ddof=1), df=(G - 1) if m.startswith("multiplier") else None)
                            cols.update(_percentile_bounds(reps))
                    out.add(lay.outcome, g, str(label), m, stat, periods, nn, persons, cols)
    return out.frame()


def clustered_intervals(
    df: pd.DataFrame,
    outcome: str,
    options: CovariateOptions,
    windows: Sequence[Window] | None,
    *,
    fit_result: FitResult | None = None,
    groupings: Sequence[str] = tuple(GROUPINGS),
    levels: Sequence[Level] = ("person", "observation"),
    replicates: int = 0,
    seed: int = 0,
    refit_replicates: int = 0,
    statistics: Sequence[str] = STATISTICS,
    chunk_rows: int = 250_000,
) -> Intervals:
    """Every interval method for every grouping, unit and statistic of one outcome (long table).

    ``replicates`` multiplier replicates per level (0: none); ``refit_replicates`` refit
    bootstrap replicates per level (0: none; appendix C uses 200 by observation).
    """
    t0 = time.perf_counter()
    parts: list[pd.DataFrame] = []
    seconds: dict[str, float] = {}
    result = Intervals(table=pd.DataFrame())
    layout, res, chunks = panel_chunks(df, outcome, options, fit_result, groupings=groupings, chunk_rows=chunk_rows)
    infs = accumulate_levels(layout, res, chunks, replicates=replicates if "person" in levels else 0,
                             obs_replicates=replicates if "observation" in levels else 0, seed=seed,
                             levels=tuple(levels))
    seconds["influence"] = time.perf_counter() - t0
    for lv in levels:
        inf = infs[lv]
        methods = [f"analytic_{lv}"] + ([f"multiplier_{lv}"] if replicates else [])
        if lv == levels[0]:
            methods = ["printed", "residual"] + methods
        curves = None
        if refit_replicates:
            t2 = time.perf_counter()
            rb = refit_bootstrap(df, outcome, options, replicates=refit_replicates, seed=seed + 10 + (lv == "observation"),
                                 level=lv, groupings=groupings, fit_result=res)
            curves = {f"refit_{lv}": rb.curves}
            methods.append(f"refit_{lv}")
            seconds[f"refit_{lv}"] = time.perf_counter() - t2
            seconds[f"refit_{lv}_per_replicate"] = rb.seconds / refit_replicates
            result.failed_replicates += rb.failed
            result.aliased_replicates += rb.aliased
            result.separated_replicates += rb.separated
        parts.append(summarise(inf, windows, methods, curves, statistics))
    result.table = pd.concat(parts, ignore_index=True)
    seconds["total"] = time.perf_counter() - t0
    result.seconds = seconds
    return result


# ---------------------------------------------------------------------------------------------
# Coefficients under separation; comparisons; export
# ---------------------------------------------------------------------------------------------


def clustered_coefficients(design: Design, y: np.ndarray, family: str, groups: np.ndarray, outcome: str = "y"
                           ) -> pd.DataFrame:
    """Classical and person-clustered standard errors; separated dummies reported as not estimable.

    Under perfect separation the MLE of a dummy does not exist; its robust and clustered
    standard errors come out small and finite (the score of those rows vanishes) although the
    classical one is huge. Such coefficients get NaN and ``estimable = False``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeparationWarning)
        cl = fit(design, y, family=family, outcome=outcome, cov_type="classical")  # type: ignore[arg-type]
        cc = fit(design, y, family=family, outcome=outcome, cov_type="cluster", groups=groups)  # type: ignore[arg-type]
    used = ~np.isnan(y) & (design.mask if design.mask is not None else True)
    X = _csr(design.codes[used], design.n_columns)
    cnt = np.asarray(X.sum(axis=0)).ravel()
    sy = X.T @ y[used]
    sep = np.zeros(design.n_columns, dtype=bool)
    if family == "probit":
        sep[1:] = (cnt[1:] > 0) & ((sy[1:] <= 0) | (sy[1:] >= cnt[1:]))
    pos = [design.names.index(n) for n in cl.params.index]
    est = ~sep[pos]
    return pd.DataFrame({
        "coefficient": cl.params.to_numpy(),
        "se_classical": cl.bse.to_numpy(),
        "se_cluster": np.where(est, cc.bse.reindex(cl.params.index).to_numpy(), np.nan),
        "estimable": est,
    }, index=cl.params.index)


# ---------------------------------------------------------------------------------------------
# What the uncertainty chapter computes (cached)
# ---------------------------------------------------------------------------------------------


@dataclass
class BookIntervals:
    """Interval table of all outcomes and the run's diagnostics (small, serialisable)."""

    table: pd.DataFrame
    diagnostics: pd.DataFrame  # outcome, seconds per stage, refit replicate counts
    refit_groupings: tuple[str, ...]


def _module_fingerprint() -> str:
    """Cache key part for the interval and coverage computations: the whole package's source
    (:func:`arbeidsindikator.io.code_fingerprint`), so any change to the engine, the seasonal
    adjustment or these modules recomputes them."""
    from arbeidsindikator.io import code_fingerprint

    return code_fingerprint()


def book_intervals(
    cfg: RunConfig,
    outcomes: Sequence[str] = OUTCOMES,
    refit_groupings: tuple[str, ...] = ("national", "county"),
    refit_outcomes: tuple[str, ...] | None = None,
    multiplier_factor: int = 1,
    max_refit_rows: int | None = None,
    max_observation_multiplier_rows: int = 2_000_000,
) -> BookIntervals:
    """Every method for every outcome and grouping at the configuration's scale, cached on disk.

    The analytic and multiplier intervals stream over the store
    (:func:`streaming.store_influences`; ``multiplier_factor × cfg.bootstrap_replicates``
    replicates by person, and by observation up to ``max_observation_multiplier_rows`` rows).
    The refit bootstrap (by observation and by person, ``cfg.bootstrap_replicates`` replicates,
    for ``refit_groupings`` and ``refit_outcomes``, default ``bootstrap.refit_outcomes``) refits the model per replicate, so it runs
    on the whole panel only up to ``max_refit_rows`` observable rows (``bootstrap.max_refit_rows``,
    default 2 000 000); above that on a deterministic person subsample of about that many rows,
    where its methods are named ``refit_*_subsample`` and compared with ``analytic_person_subsample``
    on the same subsample (the diagnostics say so).
    The cache key is the configuration, the input files, the panel's fingerprint and the code.
    """
    import hashlib
    import json
    from pathlib import Path

    import pyarrow.parquet as pq

    from arbeidsindikator import pipeline
    from arbeidsindikator.analyses import streaming
    from arbeidsindikator.io import atomic_write

    if refit_outcomes is None:
        refit_outcomes = tuple(cfg.refit_outcomes)
    if max_refit_rows is None:
        raw = (getattr(cfg, "raw", None) or {}).get("bootstrap", {}) or {}
        max_refit_rows = int(raw.get("max_refit_rows", 2_000_000))
    pdata = pipeline.panel_meta(cfg)
    key = hashlib.sha256(json.dumps([cfg.fingerprint(), pipeline.input_fingerprint(cfg), pdata.fingerprint,
                                     _module_fingerprint(), list(outcomes), list(refit_groupings), list(refit_outcomes),
                                     multiplier_factor, max_refit_rows, max_observation_multiplier_rows,
                                     str(pipeline.store_dir(cfg))]).encode()).hexdigest()[:16]
    folder = Path(cfg.cache_dir) / f"intervals-{key}"
    if (folder / "table.parquet").exists() and (folder / "diagnostics.parquet").exists():
        return BookIntervals(pd.read_parquet(folder / "table.parquet"), pd.read_parquet(folder / "diagnostics.parquet"),
                             refit_groupings)
    opts = pipeline.covariate_options(cfg)
    R = cfg.bootstrap_replicates
    pipeline.main_models(cfg)
    n_rows = pq.ParquetFile(pipeline.store_panel_path(cfg)).metadata.num_rows
    Ro = multiplier_factor * R if n_rows <= max_observation_multiplier_rows else 0
    t0 = time.perf_counter()
    infs, secs = streaming.store_influences(cfg, outcomes, replicates=multiplier_factor * R, obs_replicates=Ro,
                                            seeds={o: cfg.bootstrap_seed + 100 * k for k, o in enumerate(outcomes)})
    t_stream = time.perf_counter() - t0
    parts, diag = [], []
    for k, o in enumerate(outcomes):
        w = seasonal.windows_for(cfg, o)
        t1 = time.perf_counter()
        pm = ["printed", "residual", "analytic_person"] + (["multiplier_person"] if R else [])
        parts.append(summarise(infs[o]["person"], w, pm))
        parts.append(summarise(infs[o]["observation"], w, ["analytic_observation"] + (["multiplier_observation"] if Ro else [])))
        n_obs = int(infs[o]["person"].groups["national"].n.sum()) if "national" in infs[o]["person"].groups else 0
        d = {"outcome": o, "rows": n_obs, "multiplier_replicates": multiplier_factor * R,
             "multiplier_observation_replicates": Ro, "seconds_influence_person": t_stream / len(outcomes),
             "seconds_stream_all_outcomes": t_stream, "seconds_tables": time.perf_counter() - t1,
             **{f"seconds_{a}": b for a, b in secs.items() if a.startswith(o)}}
        if R and o in refit_outcomes:
            parts += _book_refit(cfg, o, k, opts, w, refit_groupings, R, n_obs, max_refit_rows, d)
        diag.append(d)
    table = pd.concat(parts, ignore_index=True)
    diagnostics = pd.DataFrame(diag)
    atomic_write(folder / "table.parquet", lambda p: table.to_parquet(p, index=False))
    atomic_write(folder / "diagnostics.parquet", lambda p: diagnostics.to_parquet(p, index=False))
    return BookIntervals(table, diagnostics, refit_groupings)


def person_subsample(cfg: RunConfig, rows: int, seed: int) -> pd.DataFrame:
    """About ``rows`` person-months of whole persons from the store (deterministic in ``seed``)."""
    import pyarrow.parquet as pq

    from arbeidsindikator import pipeline

    share = min(1.0, rows / max(pq.ParquetFile(pipeline.store_panel_path(cfg)).metadata.num_rows, 1))
    parts = []
    for df in pipeline.iter_chunks(cfg):
        pid = pd.util.hash_array(df["person_id"].to_numpy(), hash_key=f"{seed:016d}"[:16])
        parts.append(df[(pid % 1_000_003) < share * 1_000_003])
    return pd.concat(parts, ignore_index=True)


def _book_refit(cfg: RunConfig, o: str, k: int, opts: CovariateOptions, w: Sequence[Window] | None,
                refit_groupings: tuple[str, ...], R: int, n_obs: int, max_refit_rows: int,
                d: dict[str, object]) -> list[pd.DataFrame]:
    """The refit bootstrap of one outcome for the book: whole panel, or a person subsample."""
    sub = n_obs > max_refit_rows
    if sub:
        df, f = person_subsample(cfg, max_refit_rows, cfg.bootstrap_seed), None
    else:
        df, f = read_panel(cfg, o)
    suffix = "_subsample" if sub else ""
    layout, f, chunks = panel_chunks(df, o, opts, f, groupings=refit_groupings)
    infs = accumulate_levels(layout, f, chunks)
    out = []
    if sub:  # the fast methods on the same subsample, to compare the refit bootstrap with
        for lv in ("person", "observation"):
            t = summarise(infs[lv], w, [f"analytic_{lv}"])
            out.append(t.assign(method=t["method"] + suffix))
        d.update({"refit_sample_persons": int(df["person_id"].nunique()), "refit_sample_rows": int(df[o].notna().sum())})
    d["refit_sample"] = "subsample" if sub else "panel"
    d["refit_max_rows"] = max_refit_rows
    for lv in ("observation", "person"):
        t0 = time.perf_counter()
        rb = refit_bootstrap(df, o, opts, replicates=R, seed=cfg.bootstrap_seed + 100 * k + 50 + (lv == "person"),
                             level=lv, groupings=refit_groupings, fit_result=f)  # type: ignore[arg-type]
        t = summarise(infs[lv], w, [f"refit_{lv}"], {f"refit_{lv}": rb.curves})
        out.append(t.assign(method=t["method"] + suffix))
        d.update({f"refit_{lv}_seconds_per_replicate": rb.seconds / R, f"refit_{lv}_aliased": rb.aliased,
                  f"refit_{lv}_failed": rb.failed, f"refit_{lv}_separated": rb.separated,
                  f"refit_{lv}_replicates": R, f"seconds_refit_{lv}": time.perf_counter() - t0})
    return out
