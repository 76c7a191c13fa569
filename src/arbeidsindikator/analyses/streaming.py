"""The person-clustered intervals' sums from the store, in chunks of whole persons (issue 11, 14).

:func:`store_influences` reads the store's panel (:func:`pipeline.iter_chunks`, row groups of
whole persons) three times and never holds more than one chunk of person-months:

0. unit labels of every grouping, the outcomes' observable months, and the whole panel's
   inflow column of each horizon (two float columns), whose quantile edges define the inflow
   classes of the main model's design (``quantile_category`` over the whole panel);
1. per outcome and cell: counts, outcome and residual sums, distinct persons (no design);
2. every column: the design of each horizon is built once per chunk (with the whole-panel
   inflow edges, its columns mapped to the fit's by name) and fed to every outcome's
   :class:`influence.Accumulator`.

Before use, every chunk's design is checked against the stored expected values: the fit's
prediction from the chunk design must equal ``exp_<outcome>`` (else ``ValueError``), so the
chunk designs are the whole-panel design.
"""

from __future__ import annotations

import dataclasses

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, Sequence

import numba as nb
import numpy as np
import pandas as pd
from scipy.special import ndtr

from arbeidsindikator.analyses.influence import GROUPINGS, Accumulator, Influence, Layout, Level, PanelChunk, unit_labels
from arbeidsindikator.config import RunConfig
from arbeidsindikator.estimation import FitResult, build_design
from arbeidsindikator.panel.covariates import NO_POOLING, apply_pooling, build_covariates, horizon_of
from arbeidsindikator.spec import FAMILY, OUTCOMES


def inflow_edges(values: np.ndarray, n_categories: int) -> np.ndarray:
    """Quantile edges of the inflow classes over the whole panel (as ``quantile_category``)."""
    return np.unique(np.quantile(values.astype(float), np.linspace(0, 1, n_categories + 1)[1:-1]))


def inflow_category(x: pd.Series, edges: np.ndarray) -> pd.Categorical:
    """Inflow classes ``q01``… of a chunk from the whole panel's edges (reference ``q01``)."""
    idx = np.searchsorted(edges, x.to_numpy(dtype=float), side="right")
    labels = [f"q{i + 1:02d}" for i in range(len(edges) + 1)]
    return pd.Categorical.from_codes(idx.astype(np.int16), categories=labels)


def fit_names(res: FitResult) -> list[str]:
    """The fit's coefficient names, constant first (the kernels' column 0)."""
    names = list(res.params.index)
    if not names or names[0] != "const":
        raise ValueError(f"the fit of {res.outcome!r} has no leading constant: {names[:3]}")
    return names


def _chunk_codes(X: pd.DataFrame, names: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """The chunk's design codes mapped to each outcome's fit columns (−1: no column)."""
    design = build_design(X)
    out = {}
    for o, nm in names.items():
        pos = {n: k for k, n in enumerate(nm)}
        lut = np.array([pos.get(n, -1) for n in design.names], dtype=np.int32)
        c = design.codes
        out[o] = np.where(c >= 0, lut[np.clip(c, 0, None)], np.int32(-1))  # int32: half the memory of int64
    return out


@nb.njit(cache=True, nogil=True)
def _k_linear_predictor(codes, beta):  # type: ignore[no-untyped-def]
    """beta[0] + Σ_b beta[codes[i, b]] over the row's columns (codes ≥ 0)."""
    out = np.empty(codes.shape[0])
    for i in range(codes.shape[0]):
        v = beta[0]
        for b in range(codes.shape[1]):
            c = codes[i, b]
            if c >= 0:
                v += beta[c]
        out[i] = v
    return out


def _check_prediction(codes: np.ndarray, res: FitResult, expected: np.ndarray, family: str, chunk: int) -> None:
    beta = res.params.to_numpy()
    xb = _k_linear_predictor(np.ascontiguousarray(codes), beta)
    pred = ndtr(xb) if family == "probit" else xb
    ok = ~np.isnan(expected)
    err = np.abs(pred[ok] - expected[ok])
    if err.size and err.max() > 1e-8 * (1 + np.abs(expected[ok]).max()):
        k = int(np.argmax(err))
        raise ValueError(f"store chunk {chunk}, outcome {res.outcome!r}: the chunk design does not reproduce the "
                         f"stored expected values (max |difference| {err.max():.3g} at row {np.flatnonzero(ok)[k]}); "
                         "the store and the fitted models disagree")


def _unit_positions(values: pd.Series, index: pd.Index) -> np.ndarray:
    """``index.get_indexer(unit_labels(values))``; for a categorical column by its categories
    (a few hundred labels) and codes instead of one string lookup per row."""
    if isinstance(values.dtype, pd.CategoricalDtype) and len(values.cat.categories):
        codes = values.cat.codes.to_numpy()
        pos = index.get_indexer(unit_labels(pd.Series(values.cat.categories)))
        nan_pos = index.get_indexer(["nan"])[0]
        return np.where(codes >= 0, pos[np.clip(codes, 0, None)], nan_pos)
    return index.get_indexer(unit_labels(values))


def _present_labels(values: pd.Series) -> set[str]:
    """The set of ``unit_labels(values)``; for a categorical column from the codes that occur
    (a few hundred labels) instead of one label per row."""
    if isinstance(values.dtype, pd.CategoricalDtype) and len(values.cat.categories):
        codes = np.unique(values.cat.codes.to_numpy())
        cats = unit_labels(pd.Series(values.cat.categories))
        return set(cats[codes[codes >= 0]]) | ({"nan"} if codes.size and codes[0] < 0 else set())
    return set(pd.unique(unit_labels(values)))


def _per_chunk(items: Iterator[tuple[str, PanelChunk]], k: int) -> Iterator[list[tuple[str, PanelChunk]]]:
    """Group the (outcome, chunk) stream into one list per store chunk (k outcomes each)."""
    batch: list[tuple[str, PanelChunk]] = []
    for it in items:
        batch.append(it)
        if len(batch) == k:
            yield batch
            batch = []
    if batch:
        yield batch


def store_influences(
    cfg: RunConfig,
    outcomes: Sequence[str] = OUTCOMES,
    groupings: Sequence[str] | None = None,
    *,
    replicates: int = 0,
    obs_replicates: int = 0,
    seeds: dict[str, int] | None = None,
    levels: tuple[Level, ...] = ("person", "observation"),
    edges: dict[int, np.ndarray] | None = None,
    threads: int = 2,
) -> tuple[dict[str, dict[str, Influence]], dict[str, float]]:
    """Influence sums of every outcome (per level) from the store; seconds per pass.

    ``edges`` (horizon -> inflow quantile edges) replaces pass 0's whole-panel edges (a
    benchmark reading part of the store passes the whole panel's). ``threads``: the outcomes'
    accumulators of one chunk run in this many threads (the numba kernels release the GIL);
    every accumulator still adds its chunks in store order, so the sums do not depend on it.
    """
    from arbeidsindikator import pipeline

    G = GROUPINGS
    groupings = tuple(groupings or G)
    mm = pipeline.main_models(cfg)
    fits = {o: mm.fits[o] for o in outcomes}
    opts = pipeline.covariate_options(cfg)
    # rare levels were pooled over the whole panel: chunks are built unpooled and get those merges
    pooled = getattr(mm, "pooled", None) or {}
    chunk_opts = dataclasses.replace(opts, pooling=NO_POOLING)
    horizons = sorted({horizon_of(o) for o in outcomes})
    gcols = list(dict.fromkeys(c for g in groupings for c in G[g] if c))
    light = ["person_id", "month", *gcols, *outcomes, *[f"exp_{o}" for o in outcomes]]
    t0 = time.perf_counter()
    # pass 0: labels, observable months, inflow columns
    labels: dict[str, set[str]] = {g: set() for g in groupings if G[g][0] is not None}
    months: dict[str, set[np.datetime64]] = {o: set() for o in outcomes}
    inflow: dict[int, list[np.ndarray]] = {h: [] for h in horizons}
    for df in pipeline.iter_chunks(cfg, light + [f"innstrom{h}" for h in horizons]):
        for g in labels:
            labels[g].update(_present_labels(df[G[g][0]]))
        m = df["month"].to_numpy(dtype="datetime64[ns]")
        for o in outcomes:
            months[o].update(np.unique(m[df[o].notna().to_numpy()]))
        for h in horizons:
            inflow[h].append(df[f"innstrom{h}"].to_numpy(dtype=float))
    edges = edges or {h: inflow_edges(np.concatenate(v), opts.inflow_categories) for h, v in inflow.items()}
    del inflow
    unit_index = {g: pd.Index(sorted(labels[g])) if g in labels else pd.Index(["Norge"]) for g in groupings}
    names = {o: fit_names(fits[o]) for o in outcomes}
    layouts = {o: Layout(o, FAMILY[o], pd.DatetimeIndex(sorted(months[o])), unit_index, names[o], level=levels[0])
               for o in outcomes}
    seeds = seeds or {}
    accs = {o: Accumulator(layouts[o], fits[o], replicates=replicates, obs_replicates=obs_replicates,
                           seed=seeds.get(o, 0), levels=levels) for o in outcomes}
    t1 = time.perf_counter()

    def chunks(columns: list[str] | None, with_design: bool):  # type: ignore[no-untyped-def]
        p_off = r_off = 0
        for k, df in enumerate(pipeline.iter_chunks(cfg, columns)):
            pid = df["person_id"].to_numpy()
            new = np.r_[True, pid[1:] != pid[:-1]] if len(pid) else np.zeros(0, bool)
            pord = p_off + np.cumsum(new) - 1
            units = {}
            for g in groupings:
                col, subset = G[g]
                u = _unit_positions(df[col], unit_index[g]) if col is not None else np.zeros(len(df), np.int64)
                if subset is not None:
                    u = np.where(df[subset].to_numpy(dtype=bool), u, -1)
                units[g] = u.astype(np.int64)
            codes = {}
            if with_design:
                for h in horizons:
                    X = apply_pooling(build_covariates(df, h, chunk_opts), pooled.get(h, []))
                    X["innstromming"] = inflow_category(df[f"innstrom{h}"], edges[h])
                    codes.update(_chunk_codes(X, {o: names[o] for o in outcomes if horizon_of(o) == h}))
                    del X
            mall = pd.DatetimeIndex(df["month"])
            for o in outcomes:
                y = df[o].to_numpy(dtype=float)
                e = df[f"exp_{o}"].to_numpy(dtype=float)
                if with_design:
                    _check_prediction(codes[o], fits[o], np.where(np.isnan(y), np.nan, e), FAMILY[o], k)
                rows = np.flatnonzero(~np.isnan(y) & ~np.isnan(e))
                yield o, PanelChunk(codes=codes[o][rows] if with_design else None, y=y[rows], expected=e[rows],
                                    person=pord[rows], month=layouts[o].months.get_indexer(mall[rows]),
                                    units={g: u[rows] for g, u in units.items()}, person_ordinal=pord[rows],
                                    row_ordinal=r_off + rows)
            p_off += int(new.sum())
            r_off += len(df)

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for batch in _per_chunk(chunks(light, False), len(outcomes)):
            list(pool.map(lambda oc: accs[oc[0]].add_cells(oc[1]), batch))
        t2 = time.perf_counter()
        for batch in _per_chunk(chunks(None, True), len(outcomes)):
            list(pool.map(lambda oc: accs[oc[0]].add(oc[1]), batch))
    t3 = time.perf_counter()
    out = {o: a.finish() for o, a in accs.items()}
    seconds = {"pass0_labels_edges": t1 - t0, "pass1_cells": t2 - t1, "pass2_design_kernels": t3 - t2,
               **{f"{o}_{k}": v for o, a in accs.items() for k, v in a.seconds.items()}}
    return out, seconds
