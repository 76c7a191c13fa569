"""Alternative models of seed 002 appendix B, figure 2 and appendix D (digest §1.8).

Each alternative refits the model with one choice changed and returns the national (or group)
indicator beside the main model's, so the book can show what the choice does:

1. leave the COVID stocks out of estimation and predict them out of sample (fig. 30);
2. add a dummy per measurement month (calendar-time control; fig. 31, counties);
3. separate regressions per main group (fig. 32);
4. linear probability model instead of probit for the job measures (curves and run time);
5. an entry-cohort data set (one row per person at the start of each spell);
6. without hours at the measurement month (fig. 2); 61 instead of 20 duration categories (app. D);
7. the spell rule with the other gap: a spell breaks after 2 months outside NAV (footnotes 11/13)
   instead of 3 (the text), or the reverse.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from arbeidsindikator.indicator import indicator
from arbeidsindikator.indicator import seasonal
from arbeidsindikator.config import RunConfig
from arbeidsindikator.panel.covariates import CovariateOptions, build_covariates, horizon_of
from arbeidsindikator.spec import FAMILY, SPELL_GAP_MONTHS, SPELL_GAP_MONTHS_ALTERNATIVE
from arbeidsindikator.pipeline import covariate_options, indicator_series, load_panel, panel_meta, store_frame

#: Blocks whose levels are ordered: an unseen level borrows the nearest seen level's coefficient.
ORDERED_BLOCKS = ("alder", "nav_varighet", "nav_historikk", "timer_t", "innstromming", "barn")

MAIN_GROUP_SPLIT = {
    "nedsatt_arbeidsevne": "reduced work capacity",
    "helt_ledige": "job seekers",
    "delvis_ledige": "job seekers",
    "arbeidssokere_tiltak": "job seekers",
    "andre": "others",
}


@dataclass
class Variant:
    """Expected values of an alternative model for every panel row, and what it cost."""

    expected: np.ndarray
    seconds: float
    n_fit: int
    pooled_rows: int = 0  # rows whose level was unseen in the fit and borrowed a neighbour's


def pool_unseen(X: pd.DataFrame, fit_rows: np.ndarray) -> tuple[pd.DataFrame, int]:
    """Map levels with no fitting rows to the nearest seen level (ordered blocks) or the reference.

    Needed for out-of-sample prediction (e.g. inflow classes that occur only in the COVID months).
    Returns the recoded frame and the number of rows recoded.
    """
    out = {}
    recoded = np.zeros(len(X), dtype=bool)
    for block in X.columns:
        s = X[block]
        cats = list(s.cat.categories)
        seen = set(s[fit_rows].unique())
        unseen = [c for c in cats if c not in seen]
        if not unseen:
            out[block] = s
            continue
        if block in ORDERED_BLOCKS:
            order = sorted(range(len(cats)), key=lambda i: _order_key(cats[i]))
            ranked = [cats[i] for i in order]
            seen_pos = [i for i, c in enumerate(ranked) if c in seen]
            mapping = {c: ranked[min(seen_pos, key=lambda j: abs(j - i))] for i, c in enumerate(ranked) if c not in seen}
        else:
            mapping = {c: cats[0] for c in unseen}
        # recode through the integer codes (no object array per row)
        lut = np.arange(len(cats))
        for old, new in mapping.items():
            lut[cats.index(old)] = cats.index(new)
        codes = s.cat.codes.to_numpy()
        recoded |= lut[codes] != codes
        out[block] = pd.Categorical.from_codes(lut[codes], dtype=s.dtype)
    return pd.DataFrame(out, index=X.index), int(recoded.sum())


def _order_key(level: str) -> float:
    digits = "".join(ch if ch.isdigit() else " " for ch in level).split()
    return float(digits[0]) if digits else -1.0


def fit_variant(
    panel: pd.DataFrame,
    outcome: str,
    options: CovariateOptions,
    *,
    fit_rows: np.ndarray | None = None,
    extra: dict[str, pd.Categorical] | None = None,
    family: str | None = None,
) -> Variant:
    """Fit one outcome with a changed specification; predict every row of ``panel``."""
    from arbeidsindikator.estimation import DesignError, build_design, fit

    t0 = time.perf_counter()
    X = build_covariates(panel, horizon_of(outcome), options)
    for name, col in (extra or {}).items():
        X[name] = col
    y = panel[outcome].to_numpy(dtype=float).copy()
    pooled = 0
    if fit_rows is not None:
        y[~fit_rows] = np.nan
        X, pooled = pool_unseen(X, fit_rows & ~np.isnan(panel[outcome].to_numpy(dtype=float)))
    for _attempt in range(5):
        try:
            # one design for the fit and the prediction (a DataFrame would be encoded twice)
            design = build_design(X, mask=~np.isnan(y))
            res = fit(design, y, family=family or FAMILY[outcome], outcome=outcome)  # type: ignore[arg-type]
            break
        except DesignError as exc:
            # A sub-sample (one main group, the entry cohorts) can make a level collinear with
            # others. Like R's NA coefficients, the aliased level is merged into its block's
            # reference (coefficient 0) and the model refitted; the rows are counted.
            X, n = _merge_aliased(X, str(exc))
            if n == 0:
                raise
            pooled += n
    else:  # pragma: no cover - five rounds of aliasing do not happen with categorical designs
        raise DesignError("could not resolve the rank deficiency by merging aliased levels")
    # rows at a level without estimation rows have no outcome either: NaN, never in an indicator
    del X
    return Variant(expected=res.predict(design, unseen="nan"), seconds=time.perf_counter() - t0, n_fit=int(res.nobs), pooled_rows=pooled)


def _merge_aliased(X: pd.DataFrame, message: str) -> tuple[pd.DataFrame, int]:
    """Merge the levels a DesignError names as aliased ("block[level] is collinear ...") into the reference."""
    X = X.copy()
    n = 0
    for line in message.splitlines():
        line = line.strip()
        if " is collinear with " not in line:
            continue
        name = line.split(" is collinear with ")[0]
        block, _, level = name.partition("[")
        level = level[:-1]
        if block in X.columns and level in list(X[block].cat.categories):
            hit = (X[block] == level).to_numpy()
            n += int(hit.sum())
            X[block] = X[block].where(~hit, X[block].cat.categories[0])
    return X, n


#: Panel columns an alternative needs (covariates, outcomes, groupings); nothing else is read.
_COLUMNS = ["person_id", "month", "hovedgruppe", "fylke", "alder", "kvinne", "gift", "barn", "landgruppe", "botid",
            "hoyere_utd", "lonn_desil", "pgi_desil", "nav_historikk", "nav_varighet", "ufor", "permittert",
            "helse_ytelse", "arbeid_ytelse", "timer_t", "innstrom3", "innstrom12"]


def _frame(cfg: RunConfig, outcome: str) -> pd.DataFrame:
    """The columns one outcome's alternatives need, from the store (not the whole panel)."""
    return store_frame(cfg, [*_COLUMNS, outcome, f"exp_{outcome}"])


def _national(df: pd.DataFrame, outcome: str, expected: np.ndarray, cfg: RunConfig, by: str | None = None,
              by_values: np.ndarray | pd.Series | None = None) -> pd.DataFrame:
    """Seasonally adjusted monthly indicator (by ``by``) with the given expected values.

    Sums by cell with :func:`cube.monthly_from_arrays`, so no copy of the frame is made; equal
    to ``indicator.monthly(df.assign(exp=expected), outcome, by)`` (up to summation order).
    """
    from arbeidsindikator.indicator import cube as cb

    t = cb.monthly_from_arrays(df["month"], df[outcome].to_numpy(dtype=float), np.asarray(expected, dtype=float),
                               outcome, None if by is None else (df[by] if by_values is None else by_values), by)
    return seasonal.adjust_table(t, seasonal.windows_for(cfg, outcome), group_levels=[by] if by else [])


def _month_category(month: pd.Series) -> pd.Categorical:
    """One level per measurement month ("YYYY-MM", sorted; the first month is the reference)."""
    m = pd.DatetimeIndex(month)
    uniq = np.unique(m.to_numpy())
    labels = list(pd.DatetimeIndex(uniq).strftime("%Y-%m"))
    return pd.Categorical.from_codes(np.searchsorted(uniq, m.to_numpy()), dtype=pd.CategoricalDtype(labels))


def compare_national(cfg: RunConfig, outcome: str, variants: dict[str, np.ndarray]) -> pd.DataFrame:
    """Months × (main, variants...) seasonally adjusted national indicator."""
    cols = {"main model": indicator_series(cfg, outcome)["indicator"]}
    df = _frame(cfg, outcome)
    for name, exp in variants.items():
        cols[name] = _national(df, outcome, exp, cfg)["indicator"]
    return pd.DataFrame(cols)


def covid_out_of_sample(cfg: RunConfig, outcome: str = "atid3") -> tuple[pd.DataFrame, Variant]:
    """Alternative 1: estimate without the COVID stocks, predict them out of sample (fig. 30)."""
    df = _frame(cfg, outcome)
    assert cfg.covid_window is not None
    months = pd.DatetimeIndex(df["month"]).to_period("M")
    fit_rows = ~np.asarray(cfg.covid_window.contains(months))
    v = fit_variant(df, outcome, covariate_options(cfg), fit_rows=fit_rows)
    return compare_national(cfg, outcome, {"COVID stocks left out of estimation": v.expected}), v


def calendar_time(cfg: RunConfig, outcome: str = "atid3") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Alternative 2: a dummy per measurement month; county indicators with and without it (fig. 31)."""
    df = _frame(cfg, outcome)
    v = fit_variant(df, outcome, covariate_options(cfg), extra={"maaned": _month_category(df["month"])})
    with_time = _national(df, outcome, v.expected, cfg, by="fylke")
    main = indicator_series(cfg, outcome, "fylke")
    k = cfg.min_cell_count
    return indicator.wide(main, "indicator", "fylke", k), indicator.wide(with_time, "indicator", "fylke", k)


def separate_by_main_group(cfg: RunConfig, outcome: str = "atid3") -> pd.DataFrame:
    """Alternative 3: one regression per main group vs the common one; indicator per group (fig. 32)."""
    df = _frame(cfg, outcome)
    group = df["hovedgruppe"].astype(str).map(MAIN_GROUP_SPLIT)
    exp = np.full(len(df), np.nan)
    opts = covariate_options(cfg)
    for g in sorted(group.unique()):
        rows = (group == g).to_numpy()
        sub = df[rows]
        exp[rows] = fit_variant(sub, outcome, opts).expected
    g = group.to_numpy()
    common = _national(df, outcome, df[f"exp_{outcome}"].to_numpy(), cfg, by="split_group", by_values=g)
    separate = _national(df, outcome, exp, cfg, by="split_group", by_values=g)
    a = indicator.wide(common, "indicator", "split_group").add_suffix(" (common)")
    b = indicator.wide(separate, "indicator", "split_group").add_suffix(" (separate)")
    return a.join(b)


def lpm_vs_probit(cfg: RunConfig, outcome: str = "jobb3") -> tuple[pd.DataFrame, dict[str, float]]:
    """Alternative 4: linear probability model instead of probit (curves and run time)."""
    df = _frame(cfg, outcome)
    opts = covariate_options(cfg)
    lpm = fit_variant(df, outcome, opts, family="lpm")
    probit = fit_variant(df, outcome, opts, family="probit")
    curves = compare_national(cfg, outcome, {"linear probability model": lpm.expected})
    return curves, {"probit_s": probit.seconds, "lpm_s": lpm.seconds,
                    "max_abs_diff_pp": float(100 * (curves["main model"] - curves["linear probability model"]).abs().max())}


def specification_variants(cfg: RunConfig, outcome: str = "atid3") -> pd.DataFrame:
    """Alternative 6: without hours at t (fig. 2) and with 61 duration categories (appendix D)."""
    df = _frame(cfg, outcome)
    base = covariate_options(cfg)
    no_hours = fit_variant(df, outcome, CovariateOptions(base.duration_categories, False, base.inflow_categories))
    other_dur = 61 if base.duration_categories == 20 else 20
    dur = fit_variant(df, outcome, CovariateOptions(other_dur, base.include_hours_at_t, base.inflow_categories))
    return compare_national(cfg, outcome, {"without hours at t": no_hours.expected, f"{other_dur} duration categories": dur.expected})


def entry_cohorts(cfg: RunConfig, outcome: str = "atid3") -> pd.DataFrame:
    """Alternative 5: one row per person at the start of each spell (duration 0), fitted on its own.

    Returns months × (main model on all rows, entry-cohort model on entrants) national indicator.
    """
    df = _frame(cfg, outcome)
    rows = (df["nav_varighet"] == 0).to_numpy()
    entrants = df[rows]
    del df
    opts = covariate_options(cfg)
    v = fit_variant(entrants, outcome, CovariateOptions(2, opts.include_hours_at_t, opts.inflow_categories))  # duration is 0 for all
    main = indicator_series(cfg, outcome)["indicator"]
    cohort = _national(entrants, outcome, v.expected, cfg)["indicator"]
    return pd.DataFrame({"main model (all person-months)": main, "entry cohorts (first month of spell)": cohort})


def spell_gap(cfg: RunConfig, outcome: str = "atid3") -> tuple[pd.DataFrame, dict[str, float]]:
    """Alternative 7: rebuild the panel with the other spell gap (2 ↔ 3 months) and refit.

    The source says both: a spell breaks after three months outside NAV (text) or two
    (footnotes 11/13). Only NAV duration (and the pre-entry income block, anchored at the spell's
    start) changes; the rows are the same. Needs raw extracts (synthetic or real): a ready-made
    panel file has its durations fixed. Returns months × (main, other gap) national indicator and
    a summary: the other gap, the share of rows whose duration changes, mean durations (months).
    """
    if cfg.source not in ("synthetic", "extracts"):
        raise ValueError("the spell-gap alternative needs raw extracts (data.source synthetic or extracts)")
    from arbeidsindikator import pipeline

    other = SPELL_GAP_MONTHS_ALTERNATIVE if cfg.gap_months == SPELL_GAP_MONTHS else SPELL_GAP_MONTHS
    folder = panel_meta(cfg).report.get("extracts") or cfg.data_path
    alt_cfg = dataclasses.replace(cfg, gap_months=other, source="extracts", data_path=Path(str(folder)))
    main_curve = indicator_series(cfg, outcome)["indicator"]
    df = store_frame(cfg, ["person_id", "month", "nav_varighet"], memo=False)
    alt = load_panel(alt_cfg).panel
    pipeline.forget(alt_cfg)  # the alternative panel is used once: not kept in the kernel's memo
    key = ["person_id", "month"]
    if len(alt) != len(df) or not alt[key].reset_index(drop=True).equals(df[key].reset_index(drop=True)):
        raise AssertionError("the spell gap changed the population rows; it must only change durations")
    d_main = df["nav_varighet"].to_numpy(float)
    del df
    v = fit_variant(alt, outcome, covariate_options(alt_cfg))
    curves = pd.DataFrame({
        f"main model (gap {cfg.gap_months} months)": main_curve,
        f"spell gap {other} months": _national(alt, outcome, v.expected, alt_cfg)["indicator"],
    })
    d_alt = alt["nav_varighet"].to_numpy(float)
    summary = {"other_gap": float(other), "share_rows_changed": float((d_main != d_alt).mean()),
               "mean_duration_main": float(d_main.mean()), "mean_duration_other": float(d_alt.mean()),
               "max_abs_diff": float((curves.iloc[:, 0] - curves.iloc[:, 1]).abs().max())}
    return curves, summary
