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

Bounded memory (issue 11). The person-month panel is never held in pandas. One pass over the
store's chunks (:func:`pipeline.iter_chunks`, only the columns needed) turns each chunk's
regressors into compact integer codes (int8 per regressor block, :class:`Coded`); every
alternative's design is assembled from those codes and fitted by the engine
(:func:`arbeidsindikator.estimation.fit`, which accumulates the sufficient statistics X'WX, X'Wy
and the probit Newton terms from the codes, never a dense matrix). What the chapter shows is
summed by month (and group) from arrays. At 24.8 M person-months that is ~1 GB of codes and
outcomes plus one design (int16 codes) at a time. The spell-gap alternative rebuilds only the
columns the gap changes (duration, pre-entry income), one chunk of persons at a time.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from arbeidsindikator.config import RunConfig
from arbeidsindikator.data.contract import GROWTH_COLUMN
from arbeidsindikator.indicator import indicator
from arbeidsindikator.indicator import seasonal
from arbeidsindikator.panel.covariates import (
    NO_POOLING,
    CovariateOptions,
    build_covariates,
    pool_rare_levels,
    duration_category,
    growth_category,
    horizon_of,
    income_category,
    quantile_category,
)
from arbeidsindikator.pipeline import covariate_options, indicator_series, iter_chunks, panel_meta, store_dir
from arbeidsindikator.spec import FAMILY, HORIZONS, SPELL_GAP_MONTHS, SPELL_GAP_MONTHS_ALTERNATIVE

if TYPE_CHECKING:
    from arbeidsindikator.data.extracts import Extracts
    from arbeidsindikator.panel.build import _Global

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
    """Expected values of an alternative model for every row it was fitted on, and what it cost."""

    expected: np.ndarray
    seconds: float
    n_fit: int
    pooled_rows: int = 0  # rows whose level was unseen in the fit and borrowed a neighbour's
    fit_seconds: float = float("nan")  # fit + prediction on the built design (as the main models' times)


def pool_unseen(X: pd.DataFrame, fit_rows: np.ndarray) -> tuple[pd.DataFrame, int]:
    """Map levels with no fitting rows to the nearest seen level (ordered blocks) or the reference.

    Needed for out-of-sample prediction (e.g. inflow classes that occur only in the COVID months).
    Returns the recoded frame and the number of rows recoded. Works on the integer codes.
    """
    out = {}
    recoded = np.zeros(len(X), dtype=bool)
    for block in X.columns:
        s = X[block]
        cats = list(s.cat.categories)
        codes = s.cat.codes.to_numpy()
        present = np.bincount(codes[fit_rows], minlength=len(cats)) > 0 if len(cats) else np.zeros(0, bool)
        seen = {c for c, p in zip(cats, present) if p}
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
        lut = np.arange(len(cats))
        for old, new in mapping.items():
            lut[cats.index(old)] = cats.index(new)
        new_codes = lut[codes].astype(codes.dtype)
        recoded |= new_codes != codes
        out[block] = pd.Categorical.from_codes(new_codes, dtype=s.dtype)
    return pd.DataFrame(out, index=X.index, copy=False), int(recoded.sum())


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
    """Fit one outcome with a changed specification on a panel frame; predict every row of it.

    The in-memory form (small panels, tests): the chapter's alternatives go through
    :func:`fit_covariates` on codes read in chunks (:func:`coded`).
    """
    t0 = time.perf_counter()
    X = build_covariates(panel, horizon_of(outcome), options)
    for name, col in (extra or {}).items():
        X[name] = col
    v = fit_covariates(X, panel[outcome].to_numpy(dtype=float), outcome, fit_rows=fit_rows, family=family)
    v.seconds = time.perf_counter() - t0
    return v


def fit_covariates(
    X: pd.DataFrame,
    y: np.ndarray,
    outcome: str,
    *,
    fit_rows: np.ndarray | None = None,
    family: str | None = None,
) -> Variant:
    """Fit ``y`` on the categorical regressors ``X`` (rows ``fit_rows`` only); predict every row.

    Rows outside ``fit_rows`` are predicted out of sample: their levels unseen in the fit borrow a
    neighbour's (:func:`pool_unseen`). Aliased levels (a sub-sample can make a level collinear)
    are merged into the reference and counted in ``pooled_rows``. The design is built once as
    int16 codes and used for the fit and the prediction.
    """
    from arbeidsindikator.estimation import DesignError, build_design, fit
    from arbeidsindikator.estimation.design import compact_code_dtype

    t0 = time.perf_counter()
    y = np.array(y, dtype=float, copy=True)
    pooled = 0
    if fit_rows is not None:
        y[~fit_rows] = np.nan
        X, pooled = pool_unseen(X, ~np.isnan(y))
    code_dtype = compact_code_dtype(X)
    for _attempt in range(5):
        try:
            design = build_design(X, mask=~np.isnan(y), code_dtype=code_dtype)
            t_fit = time.perf_counter()
            res = fit(design, y, family=family or FAMILY[outcome], outcome=outcome)  # type: ignore[arg-type]
            break
        except DesignError as exc:
            # Like R's NA coefficients: the aliased level is merged into its block's reference
            # (coefficient 0) and the model refitted; the rows are counted.
            design = None
            X, n = _merge_aliased(X, str(exc))
            if n == 0:
                raise
            pooled += n
    else:  # pragma: no cover - five rounds of aliasing do not happen with categorical designs
        raise DesignError("could not resolve the rank deficiency by merging aliased levels")
    del X
    # rows at a level without estimation rows have no outcome either: NaN, never in an indicator
    expected = res.predict(design, unseen="nan")
    t1 = time.perf_counter()
    return Variant(expected=expected, seconds=t1 - t0, n_fit=int(res.nobs), pooled_rows=pooled, fit_seconds=t1 - t_fit)


def _merge_aliased(X: pd.DataFrame, message: str) -> tuple[pd.DataFrame, int]:
    """Merge the levels a DesignError names as aliased ("block[level] is collinear ...") into the reference."""
    cols = dict(X.items())
    n = 0
    for line in message.splitlines():
        line = line.strip()
        if " is collinear with " not in line:
            continue
        name = line.split(" is collinear with ")[0]
        block, _, level = name.partition("[")
        level = level[:-1]
        if block in cols and level in list(cols[block].cat.categories):
            s = cols[block]
            j = list(s.cat.categories).index(level)
            codes = s.cat.codes.to_numpy().copy()
            hit = codes == j
            n += int(hit.sum())
            codes[hit] = 0
            cols[block] = pd.Series(pd.Categorical.from_codes(codes, dtype=s.dtype), index=X.index)
    return pd.DataFrame(cols, index=X.index, copy=False), n


# ---------------------------------------------------------------------------------------------
# Compact codes, read once from the store in chunks
# ---------------------------------------------------------------------------------------------

#: Panel columns the regressors need (nothing else is read for them).
_COVARIATE_COLUMNS = ["alder", "kvinne", "gift", "barn", "landgruppe", "botid", "hoyere_utd", "lonn_desil",
                      "pgi_desil", "nav_historikk", "nav_varighet", "ufor", "permittert", "helse_ytelse",
                      "arbeid_ytelse", "timer_t"]
#: Blocks that depend on the rows fitted (quantiles) or on an option: kept raw, coded per variant.
_RAW_BLOCKS = ("nav_varighet", "innstromming")


def _block_key(block: str, options: CovariateOptions) -> tuple:
    """What a regressor block's levels depend on besides the rows: its name and its option."""
    if block == "nav_varighet":
        return (block, options.duration_categories)
    if block == "innstromming":
        return (block, options.inflow_categories)
    if block == GROWTH_COLUMN:
        return (block, options.growth_intervals)
    return (block,)


@dataclass
class Coded:
    """One horizon's regressors and outcomes for every store row, as compact arrays.

    ``blocks`` holds the option-independent regressor blocks (int8 categoricals, in the order of
    :func:`build_covariates`, with ``nav_varighet`` and ``innstromming`` as placeholders coded per
    variant from ``duration`` and ``inflow``; the growth block, if the store has the column, is
    coded from ``growth``). ``month`` indexes ``months``.

    The blocks of all rows are kept once made, unpooled and pooled (per block and option, e.g.
    the 20- and the 61-category duration): the pooling rule treats every block on its own
    (:func:`~arbeidsindikator.panel.covariates.pool_rare_levels`), so a variant that changes one
    block pools only that block, and the alternatives of a chapter share the rest (issue 11).
    """

    horizon: int
    order: list[str]
    blocks: dict[str, pd.Categorical]
    duration: np.ndarray  # nav_varighet, months (int32)
    inflow: np.ndarray  # innstrom<h>, float64 (quantile classes depend on the rows fitted)
    month: np.ndarray  # int16 codes into months
    months: pd.DatetimeIndex
    hovedgruppe: pd.Categorical
    fylke: pd.Categorical
    y: dict[str, np.ndarray] = field(default_factory=dict)
    person: np.ndarray | None = None  # person ids (the pooling rule counts distinct persons)
    growth: np.ndarray | None = None  # expected employment growth (float64) if the store has it
    _made: dict[tuple, pd.Categorical] = field(default_factory=dict, repr=False)  # all rows, unpooled
    _pooled: dict[tuple, pd.Categorical] = field(default_factory=dict, repr=False)  # all rows, pooled

    @property
    def n(self) -> int:
        return int(self.duration.shape[0])

    def _order(self, options: CovariateOptions) -> list[str]:
        order = [b for b in self.order if not (b == "timer_t" and not options.include_hours_at_t)]
        if options.include_growth:
            if self.growth is None:
                raise ValueError(f"model.growth is on, but the store has no column {GROWTH_COLUMN!r}: the raw "
                                 "extracts need the optional table sysselsettingsvekst (data/README.md)")
            order.append(GROWTH_COLUMN)
        return order

    def _make(self, b: str, options: CovariateOptions, take: Any, dur: np.ndarray,
              replace: dict[str, pd.Categorical]) -> pd.Categorical:
        if b in replace:
            return take(replace[b])
        if b == "nav_varighet":
            return duration_category(pd.Series(take(dur)), options.duration_categories)
        if b == "innstromming":
            return quantile_category(pd.Series(take(self.inflow)), options.inflow_categories)
        if b == GROWTH_COLUMN:
            assert self.growth is not None
            return growth_category(pd.Series(take(self.growth)), options.growth_intervals)
        return take(self.blocks[b])

    def covariates(self, options: CovariateOptions, rows: np.ndarray | None = None,
                   extra: dict[str, pd.Categorical] | None = None,
                   replace: dict[str, pd.Categorical] | None = None,
                   duration: np.ndarray | None = None) -> pd.DataFrame:
        """The covariate frame :func:`build_covariates` gives for these rows and options.

        ``rows`` (bool) restricts the rows first (the inflow quantiles are then over those rows,
        as ``build_covariates`` on the sub-frame); ``replace`` swaps whole blocks and ``duration``
        the NAV duration (all rows; the spell-gap alternative). Blocks of all rows that neither
        swaps are served from (and kept in) the memo.
        """
        replace = dict(replace or {})
        dur = self.duration if duration is None else duration
        take = (lambda a: a) if rows is None else (lambda a: a[rows])
        rule = options.pooling

        def memo_key(b: str) -> tuple | None:  # None: this block is made for this call only
            if rows is not None or b in replace or (b == "nav_varighet" and duration is not None):
                return None
            return _block_key(b, options)

        cols: dict[str, pd.Categorical] = {}
        todo: list[str] = []  # blocks still to pool
        for b in self._order(options):
            key = memo_key(b)
            if key is not None and rule.active and (key, rule) in self._pooled:
                cols[b] = self._pooled[(key, rule)]
                continue
            if key is not None and key in self._made:
                cols[b] = self._made[key]
            else:
                cols[b] = self._make(b, options, take, dur, replace)
                if key is not None:
                    self._made[key] = cols[b]
            todo.append(b)
        if rule.active and todo:
            # the rule counts persons and outcome variation over all rows fitted, as in the main
            # models' design (never per chunk); each block on its own, so only these are pooled
            rows_panel = pd.DataFrame({"month": take(self.month), **{o: take(v) for o, v in self.y.items()},
                                       **({"person_id": take(self.person)} if self.person is not None else {})})
            Xp, _ = pool_rare_levels(pd.DataFrame({b: cols[b] for b in todo}, copy=False), rows_panel, self.horizon, rule)
            del rows_panel
            for b in todo:
                cols[b] = Xp[b].array
                key = memo_key(b)
                if key is not None:
                    self._pooled[(key, rule)] = cols[b]
        X = pd.DataFrame(cols, copy=False)
        for name, col in (extra or {}).items():
            X[name] = take(col)
        return X

    def month_category(self) -> pd.Categorical:
        """One level per measurement month ("YYYY-MM", sorted; the first month is the reference)."""
        return pd.Categorical.from_codes(self.month, dtype=pd.CategoricalDtype(list(self.months.strftime("%Y-%m"))))


_CODED: dict[tuple[str, int], Coded] = {}


def coded(cfg: RunConfig, horizon: int) -> Coded:
    """:class:`Coded` for a configuration and horizon, from one pass over the store's chunks.

    Memoised (one horizon at a time): the chapter's alternatives of one horizon share it; the
    next horizon of the same store reuses every block that does not depend on the horizon
    (:func:`_other_horizon`), so a second horizon reads three columns instead of twenty.
    """
    key = (str(store_dir(cfg)), horizon)
    if key in _CODED:
        return _CODED[key]
    other = next((c for (k, _h), c in _CODED.items() if k == key[0]), None)
    _CODED.clear()
    if other is not None:  # the other horizon's codes are in memory: only what the horizon changes is read
        _CODED[key] = _other_horizon(cfg, other, horizon)
        return _CODED[key]
    import pyarrow.parquet as pq

    from arbeidsindikator.pipeline import main_models, store_panel_path

    outcomes = [o for o, h in HORIZONS.items() if h == horizon]
    if not store_panel_path(cfg).exists():
        main_models(cfg)
    has_growth = GROWTH_COLUMN in pq.read_schema(store_panel_path(cfg)).names
    columns = ["person_id", "month", "hovedgruppe", "fylke", *_COVARIATE_COLUMNS, f"innstrom{horizon}", *outcomes,
               *([GROWTH_COLUMN] if has_growth else [])]
    n = pq.ParquetFile(store_panel_path(cfg)).metadata.num_rows
    opts = CovariateOptions(pooling=NO_POOLING)  # pooled over all rows in Coded.covariates, never per chunk
    # arrays filled chunk by chunk (no list of parts to concatenate: the peak is one copy)
    arrays: dict[str, np.ndarray] = {"duration": np.empty(n, np.int32), "inflow": np.empty(n),
                                     "month": np.empty(n, np.int64), "person_id": np.empty(n, np.int64), **{o: np.empty(n) for o in outcomes},
                                     **({"growth": np.empty(n)} if has_growth else {})}
    dtypes: dict[str, pd.CategoricalDtype] = {}
    order: list[str] = []
    lo = 0
    for chunk in iter_chunks(cfg, columns):
        hi = lo + len(chunk)
        X = build_covariates(chunk, horizon, opts)
        order = list(X.columns)
        cats = [(b, X[b]) for b in order if b not in _RAW_BLOCKS]
        cats += [("hovedgruppe", chunk["hovedgruppe"]), ("fylke", chunk["fylke"])]
        for b, s in cats:
            if b in dtypes and s.dtype != dtypes[b]:
                raise AssertionError(f"column {b!r} has different levels in different chunks")
            dtypes[b] = s.dtype
            cc = s.cat.codes.to_numpy()
            if b not in arrays:
                arrays[b] = np.empty(n, cc.dtype)
            arrays[b][lo:hi] = cc
        del X, cats
        arrays["duration"][lo:hi] = chunk["nav_varighet"].to_numpy(dtype=np.int32)
        arrays["inflow"][lo:hi] = chunk[f"innstrom{horizon}"].to_numpy(dtype=float)
        arrays["person_id"][lo:hi] = chunk["person_id"].to_numpy(dtype=np.int64)
        for o in outcomes:
            arrays[o][lo:hi] = chunk[o].to_numpy(dtype=float)
        if has_growth:
            arrays["growth"][lo:hi] = chunk[GROWTH_COLUMN].to_numpy(dtype=float)
        arrays["month"][lo:hi] = chunk["month"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
        lo = hi
        del chunk
    if lo != n:
        raise AssertionError(f"the store's chunks hold {lo} rows, its metadata {n}")
    if n == 0:
        raise ValueError(f"the store of {cfg.name!r} has no rows")
    m64 = arrays.pop("month")
    mvals = np.unique(m64)
    months = pd.DatetimeIndex(mvals.astype("datetime64[ns]"), name="month")
    month = np.searchsorted(mvals, m64).astype(np.int16)
    del m64

    def cat(name: str) -> pd.Categorical:
        return pd.Categorical.from_codes(arrays.pop(name), dtype=dtypes[name])

    c = Coded(horizon=horizon, order=order, blocks={b: cat(b) for b in order if b not in _RAW_BLOCKS},
              duration=arrays.pop("duration"), inflow=arrays.pop("inflow"),
              month=month, months=months, hovedgruppe=cat("hovedgruppe"), fylke=cat("fylke"),
              y={o: arrays.pop(o) for o in outcomes}, person=arrays.pop("person_id"), growth=arrays.pop("growth", None))
    _CODED[key] = c
    return c


def _other_horizon(cfg: RunConfig, c: Coded, horizon: int) -> Coded:
    """:class:`Coded` of ``horizon`` from the codes of the other horizon and three store columns.

    Only the inflow block (``innstrom<h>``, averaged over the horizon) and the outcomes depend on
    the horizon in :func:`build_covariates`; every other block, the durations, months, groups and
    persons are the other horizon's (shared arrays, never written). Blocks are made and pooled
    anew (the pooling counts the horizon's own used rows).
    """
    outcomes = [o for o, h in HORIZONS.items() if h == horizon]
    inflow = np.empty(c.n)
    y = {o: np.empty(c.n) for o in outcomes}
    lo = 0
    for chunk in iter_chunks(cfg, [f"innstrom{horizon}", *outcomes]):
        hi = lo + len(chunk)
        inflow[lo:hi] = chunk[f"innstrom{horizon}"].to_numpy(dtype=float)
        for o in outcomes:
            y[o][lo:hi] = chunk[o].to_numpy(dtype=float)
        lo = hi
        del chunk
    if lo != c.n:
        raise AssertionError(f"the store's chunks hold {lo} rows, the codes {c.n}")
    return Coded(horizon=horizon, order=list(c.order), blocks=c.blocks, duration=c.duration, inflow=inflow,
                 month=c.month, months=c.months, hovedgruppe=c.hovedgruppe, fylke=c.fylke, y=y, person=c.person,
                 growth=c.growth)


def _column(cfg: RunConfig, name: str) -> np.ndarray:
    """One numeric column of the store for every row (read chunk by chunk)."""
    return np.concatenate([ch[name].to_numpy(dtype=float) for ch in iter_chunks(cfg, [name])])


def forget() -> None:
    """Drop the memoised codes (e.g. at the end of the chapter)."""
    _CODED.clear()


def _national(c: Coded, outcome: str, expected: np.ndarray, cfg: RunConfig, rows: np.ndarray | None = None,
              by: str | None = None, by_values: pd.Categorical | None = None, y: np.ndarray | None = None) -> pd.DataFrame:
    """Seasonally adjusted monthly indicator (by ``by``) with the given expected values.

    ``rows`` restricts to a subset (``expected`` is then for those rows). Sums by cell with
    :func:`cube.monthly_from_arrays`: equal to ``indicator.monthly`` on the frame (up to summation order).
    """
    from arbeidsindikator.indicator import cube as cb

    yy = c.y[outcome] if y is None else y
    m = c.month
    if rows is not None:
        yy, m = yy[rows], m[rows]
        if by_values is not None:
            by_values = by_values[rows]
    t = cb.monthly_from_arrays(c.months[m], yy, np.asarray(expected, dtype=float), outcome, by_values, by)
    return seasonal.adjust_table(t, seasonal.windows_for(cfg, outcome), group_levels=[by] if by else [])


def compare_national(cfg: RunConfig, outcome: str, variants: dict[str, np.ndarray]) -> pd.DataFrame:
    """Months × (main, variants...) seasonally adjusted national indicator (variants on all rows)."""
    cols = {"main model": indicator_series(cfg, outcome)["indicator"]}
    c = coded(cfg, horizon_of(outcome))
    for name, exp in variants.items():
        cols[name] = _national(c, outcome, exp, cfg)["indicator"]
    return pd.DataFrame(cols)


def covid_out_of_sample(cfg: RunConfig, outcome: str = "atid3") -> tuple[pd.DataFrame, Variant]:
    """Alternative 1: estimate without the COVID stocks, predict them out of sample (fig. 30)."""
    assert cfg.covid_window is not None
    c = coded(cfg, horizon_of(outcome))
    in_covid = np.asarray(cfg.covid_window.contains(c.months.to_period("M")), dtype=bool)
    fit_rows = ~in_covid[c.month]
    v = fit_covariates(c.covariates(covariate_options(cfg)), c.y[outcome], outcome, fit_rows=fit_rows)
    return compare_national(cfg, outcome, {"COVID stocks left out of estimation": v.expected}), v


def calendar_time(cfg: RunConfig, outcome: str = "atid3") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Alternative 2: a dummy per measurement month; county indicators with and without it (fig. 31)."""
    c = coded(cfg, horizon_of(outcome))
    v = fit_covariates(c.covariates(covariate_options(cfg), extra={"maaned": c.month_category()}), c.y[outcome], outcome)
    with_time = _national(c, outcome, v.expected, cfg, by="fylke", by_values=c.fylke)
    main = indicator_series(cfg, outcome, "fylke")
    k = cfg.min_cell_count
    return indicator.wide(main, "indicator", "fylke", k), indicator.wide(with_time, "indicator", "fylke", k)


def _split_groups(c: Coded) -> pd.Categorical:
    """Main group → the three groups of figure 32 (levels sorted, only those present)."""
    labels = np.array([MAIN_GROUP_SPLIT.get(str(g), str(g)) for g in c.hovedgruppe.categories], dtype=object)
    codes = c.hovedgruppe.codes
    present = sorted(set(labels[np.unique(codes[codes >= 0])]))
    lut = np.array([present.index(x) if x in present else -1 for x in labels], dtype=np.int8)
    return pd.Categorical.from_codes(lut[codes], dtype=pd.CategoricalDtype(present))


def separate_by_main_group(cfg: RunConfig, outcome: str = "atid3") -> pd.DataFrame:
    """Alternative 3: one regression per main group vs the common one; indicator per group (fig. 32)."""
    c = coded(cfg, horizon_of(outcome))
    groups = _split_groups(c)
    exp = np.full(c.n, np.nan)
    opts = covariate_options(cfg)
    for j in range(len(groups.categories)):
        rows = groups.codes == j
        exp[rows] = fit_covariates(c.covariates(opts, rows=rows), c.y[outcome][rows], outcome).expected
    common = _national(c, outcome, _column(cfg, f"exp_{outcome}"), cfg, by="split_group", by_values=groups)
    separate = _national(c, outcome, exp, cfg, by="split_group", by_values=groups)
    a = indicator.wide(common, "indicator", "split_group").add_suffix(" (common)")
    b = indicator.wide(separate, "indicator", "split_group").add_suffix(" (separate)")
    return a.join(b)


def lpm_vs_probit(cfg: RunConfig, outcome: str = "jobb3") -> tuple[pd.DataFrame, dict[str, float]]:
    """Alternative 4: linear probability model instead of probit (curves and run time).

    Run times are fit + prediction on the same design size in this build: the LPM's here, the
    probit's from the main model stage (:func:`pipeline.main_models`; the probit *is* the main
    model of the job measures, so it is not refitted only to be timed).
    """
    from arbeidsindikator.pipeline import main_models

    c = coded(cfg, horizon_of(outcome))
    lpm = fit_covariates(c.covariates(covariate_options(cfg)), c.y[outcome], outcome, family="lpm")
    curves = compare_national(cfg, outcome, {"linear probability model": lpm.expected})
    return curves, {"probit_s": float(main_models(cfg).seconds[outcome]), "lpm_s": lpm.fit_seconds,
                    "max_abs_diff_pp": float(100 * (curves["main model"] - curves["linear probability model"]).abs().max())}


def specification_variants(cfg: RunConfig, outcome: str = "atid3") -> pd.DataFrame:
    """Alternative 6: without hours at t (fig. 2) and with 61 duration categories (appendix D)."""
    c = coded(cfg, horizon_of(outcome))
    base = covariate_options(cfg)
    no_hours = fit_covariates(c.covariates(dataclasses.replace(base, include_hours_at_t=False)),
                              c.y[outcome], outcome).expected
    other_dur = 61 if base.duration_categories == 20 else 20
    dur = fit_covariates(c.covariates(dataclasses.replace(base, duration_categories=other_dur)),
                         c.y[outcome], outcome).expected
    return compare_national(cfg, outcome, {"without hours at t": no_hours, f"{other_dur} duration categories": dur})


def entry_cohorts(cfg: RunConfig, outcome: str = "atid3") -> pd.DataFrame:
    """Alternative 5: one row per person at the start of each spell (duration 0), fitted on its own.

    Returns months × (main model on all rows, entry-cohort model on entrants) national indicator.
    """
    c = coded(cfg, horizon_of(outcome))
    rows = c.duration == 0
    opts = covariate_options(cfg)
    # duration is 0 for every entrant: two categories, the second without rows (dropped)
    X = c.covariates(dataclasses.replace(opts, duration_categories=2), rows=rows)
    v = fit_covariates(X, c.y[outcome][rows], outcome)
    main = indicator_series(cfg, outcome)["indicator"]
    cohort = _national(c, outcome, v.expected, cfg, rows=rows)["indicator"]
    return pd.DataFrame({"main model (all person-months)": main, "entry cohorts (first month of spell)": cohort})


def _gap_chunk(ex: Extracts, gl: _Global, lo_id: int, hi_id: int, gap_months: int) -> dict[str, np.ndarray]:
    """The rows, NAV duration and pre-entry income (in G) of persons ``lo_id..hi_id`` for a spell gap.

    The part of the panel builder's chunk step (:mod:`arbeidsindikator.panel.build`) that the
    gap changes, through the builder's own functions (:func:`~arbeidsindikator.panel.build.spell_rows`,
    :func:`~arbeidsindikator.panel.build.pre_entry_income`, and its exclusions in
    :func:`~arbeidsindikator.panel.build.excluded_rows`); hours, outcomes and the other columns
    are not rebuilt (they do not depend on the gap). A test checks the result against the whole
    rebuilt panel.
    """
    from arbeidsindikator.data.extracts import INNSATSGRUPPER_RAW
    from arbeidsindikator.data.grunnbelop import sql_month_index
    from arbeidsindikator.panel.build import VARIG, _sql_list, excluded_rows, pre_entry_income, spell_rows

    # the builder's status query (same rows: the join on the office table) with only the columns used
    st = ex.df(f"SELECT s.person_id AS pid, {sql_month_index('s.month')} AS midx, "
               f"list_position({_sql_list(INNSATSGRUPPER_RAW)}, s.innsatsgruppe) - 1 AS ig "
               "FROM status s JOIN _kontor k ON s.nav_kontor = k.nav_kontor "
               "WHERE s.person_id BETWEEN ? AND ? ORDER BY s.person_id, s.month", [lo_id, hi_id])
    pid = st["pid"].to_numpy(np.int64)
    midx = st["midx"].to_numpy(np.int64)
    in_pop = st["ig"].to_numpy(np.int16) != VARIG
    del st
    sp = spell_rows(pid, midx, in_pop, gl, gap_months, "elapsed")
    pid_r, t = pid[sp.rows], midx[sp.rows]
    pers = ex.df(f"SELECT person_id AS pid, {sql_month_index('fodt')} AS fodt FROM personer "
                 "WHERE person_id BETWEEN ? AND ? ORDER BY person_id", [lo_id, hi_id])
    ppos = np.searchsorted(pers["pid"].to_numpy(np.int64), pid_r)
    alder = (t - pers["fodt"].to_numpy(np.int64)[ppos]) // 12
    inc = pre_entry_income(ex, gl, lo_id, hi_id, pid_r, sp.spell_start, sp.censored)
    keep = excluded_rows(alder, inc.unknown)[0]
    return {"person_id": pid_r[keep], "midx": t[keep], "nav_varighet": sp.duration[keep], "lonn_g": inc.lonn_g[keep],
            "pgi_g": inc.pgi_g[keep]}


def _other_gap_columns(cfg: RunConfig, folder: Path, gap_months: int, c: Coded,
                       chunk_persons: int = 125_000) -> dict[str, np.ndarray]:
    """NAV duration and the pre-entry income block of the panel rebuilt with another spell gap.

    One chunk of persons at a time (:func:`_gap_chunk`) on the validated extracts, so the memory
    is one chunk plus a few arrays, not a second panel. The rows must be the store's rows in the
    store's order (the gap changes durations only): checked. Income deciles are over the whole
    rebuilt panel, as in :func:`arbeidsindikator.panel.build.build_panel`.
    """
    from arbeidsindikator.data.extracts import validate_extracts
    from arbeidsindikator.data.grunnbelop import month_to_index
    from arbeidsindikator.panel.build import _globals, decile, decile_edges

    keep = ("person_id", "midx", "nav_varighet", "lonn_g", "pgi_g")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keep}
    # DuckDB's working memory bounded (it spills to disk): the main build validated the same folder
    ex = validate_extracts(folder, memory_limit="1GB")
    try:
        gl = _globals(ex, pd.Period(cfg.start, freq="M"), pd.Period(cfg.end, freq="M"))
        ids = ex.df("SELECT person_id FROM personer ORDER BY person_id")["person_id"].to_numpy(np.int64)
        for c0 in range(0, len(ids), chunk_persons):
            c1 = min(len(ids), c0 + chunk_persons) - 1
            out = _gap_chunk(ex, gl, int(ids[c0]), int(ids[c1]), gap_months)
            out["midx"] = out["midx"].astype(np.int32)
            out["nav_varighet"] = out["nav_varighet"].astype(np.int32)
            for k in keep:
                parts[k].append(out[k])
            del out
    finally:
        ex.close()
    cols: dict[str, np.ndarray] = {}
    for k in keep:  # one column's parts at a time: the peak is one extra column, not a second copy
        cols[k] = np.concatenate(parts.pop(k)) if parts[k] else np.zeros(0)
    # the rows: the store's rows in the store's order
    pid = np.concatenate([ch["person_id"].to_numpy(np.int64) for ch in iter_chunks(cfg, ["person_id"])])
    midx = np.array([month_to_index(p) for p in c.months.to_period("M")], dtype=np.int64)[c.month]
    if len(pid) != len(cols["person_id"]) or not (np.array_equal(pid, cols["person_id"]) and np.array_equal(midx, cols["midx"])):
        raise AssertionError("the spell gap changed the population rows; it must only change durations")
    del pid, midx
    lonn_desil = decile(cols["lonn_g"], decile_edges(cols["lonn_g"]))
    pgi_desil = decile(cols["pgi_g"], decile_edges(cols["pgi_g"]))
    return {"duration": cols["nav_varighet"].astype(np.int32),
            "inntekt": income_category(pd.Series(lonn_desil), pd.Series(pgi_desil))}


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
    other = SPELL_GAP_MONTHS_ALTERNATIVE if cfg.gap_months == SPELL_GAP_MONTHS else SPELL_GAP_MONTHS
    folder = Path(str(panel_meta(cfg).report.get("extracts") or cfg.data_path))
    alt_cfg = dataclasses.replace(cfg, gap_months=other, source="extracts", data_path=folder)
    main_curve = indicator_series(cfg, outcome)["indicator"]
    c = coded(cfg, horizon_of(outcome))
    alt = _other_gap_columns(cfg, folder, other, c)
    X = c.covariates(covariate_options(alt_cfg), replace={"inntekt": alt["inntekt"]}, duration=alt["duration"])
    v = fit_covariates(X, c.y[outcome], outcome)
    del X
    curves = pd.DataFrame({
        f"main model (gap {cfg.gap_months} months)": main_curve,
        f"spell gap {other} months": _national(c, outcome, v.expected, alt_cfg)["indicator"],
    })
    d_main, d_alt = c.duration, alt["duration"]
    summary = {"other_gap": float(other), "share_rows_changed": float((d_main != d_alt).mean()),
               "mean_duration_main": float(d_main.astype(float).mean()), "mean_duration_other": float(d_alt.astype(float).mean()),
               "max_abs_diff": float((curves.iloc[:, 0] - curves.iloc[:, 1]).abs().max())}
    return curves, summary
