"""The main models, their predictions and the indicator cube on a ``dask.distributed`` cluster.

Same numbers as the in-process path (:func:`arbeidsindikator.pipeline.fit_main_models`,
:func:`arbeidsindikator.indicator.cube.build`) up to float64 summation order, computed by tasks
that each read one partition of the panel parquet (:mod:`~arbeidsindikator.engines.partitions`)
and return small sums. Per horizon (3, 12 months):

1. inflow value counts per partition → the panel-wide quantile cut (:mod:`.design`);
2. level codes per partition (written to the work folder as ``.npy``, with the outcomes) and
   rows per level → the global design;
3. per outcome, the fit's passes (:func:`.stats.fit_from_passes`): each pass one task per
   partition on the stored codes, summed on the client; probit is one pass per Newton step;
4. predictions: one task per partition writes the partition's panel rows with ``exp_<outcome>``
   and the derived flags (a part of the store);
5. the cube and the chapters' summaries: one task per store partition
   (:func:`arbeidsindikator.indicator.cube.chunk_partials`, ``chunk_summaries``), added up.

A worker holds one partition at a time; memory per worker is bounded by the partition size,
not the panel. On a multi-node cluster the work folder and the panel must be on a file system
every worker sees, and every worker needs this package installed (same version).
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from arbeidsindikator.data.contract import OUTCOMES
from arbeidsindikator.engines import design as gd
from arbeidsindikator.engines.partitions import MODEL_COLUMNS, Partition, read_partition
from arbeidsindikator.engines.stats import add_passes, fit_from_passes, partition_pass
from arbeidsindikator.io import peak_rss_mb
from arbeidsindikator.panel.covariates import CovariateOptions, horizon_of

__all__ = ["DaskEngine"]


# --- worker tasks (module level: pickled by reference) -------------------------------------------

def _t_inflow_counts(part: Partition, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    col = f"innstrom{horizon}"
    return gd.value_counts(read_partition(part, [col])[col].to_numpy())


def _t_code(part: Partition, i: int, horizon: int, options: CovariateOptions, edges: np.ndarray,
            outcomes: Sequence[str], folder: str) -> tuple[list[str], list[pd.Index], list[np.ndarray], Any]:
    pool = options.pooling.active
    extra: list[str] = []
    if pool:  # the rule reads every outcome of the horizon (used rows, no variation) and the months
        import pyarrow.parquet as pq

        have = set(pq.read_schema(part.path).names)
        extra = [c for c in ["month", *gd.pooling_outcomes(have, horizon)[0]] if c not in outcomes]
        extra = [c for c in extra if c in have]
    df = read_partition(part, list(dict.fromkeys([*MODEL_COLUMNS, *outcomes, *extra])))
    codes, blocks, cats = gd.covariate_codes(df, horizon, options, edges)
    d = Path(folder)
    np.save(d / f"codes-{i:05d}.npy", codes)
    np.save(d / f"person-{i:05d}.npy", df["person_id"].to_numpy())
    for o in outcomes:
        np.save(d / f"y-{o}-{i:05d}.npy", df[o].to_numpy(dtype=np.float64))
    counts = None
    if pool:
        counts, used = gd.pooling_counts(df, codes, cats, horizon, options.pooling)
        np.save(d / f"used-{i:05d}.npy", used)
    return blocks, cats, gd.level_counts(codes, cats), counts


def _load_pool_inputs(i: int, folder: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = Path(folder)
    return np.load(d / f"codes-{i:05d}.npy"), np.load(d / f"used-{i:05d}.npy"), np.load(d / f"person-{i:05d}.npy")


def _t_small_pairs(i: int, folder: str, small: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    return gd.small_pairs(*_load_pool_inputs(i, folder), small)


def _t_level_persons(i: int, folder: str, block: int, levels: np.ndarray) -> np.ndarray:
    return gd.level_persons(*_load_pool_inputs(i, folder), block, levels)


def _t_pass(i: int, folder: str, outcome: str, g: gd.GlobalDesign, kind: str, kw: dict[str, Any]) -> list:
    d = Path(folder)
    design = g.design_for(np.load(d / f"codes-{i:05d}.npy"))
    y = np.load(d / f"y-{outcome}-{i:05d}.npy")
    groups = np.load(d / f"person-{i:05d}.npy") if kind == "cluster" else None
    return partition_pass(kind, design, y, groups=groups, **kw)


def _t_predict(part: Partition, i: int, folders: dict[int, str], designs: dict[int, gd.GlobalDesign],
               fits: dict[str, Any], out: str) -> tuple[str, int]:
    from arbeidsindikator.indicator.indicator import add_derived_groups

    df = read_partition(part)
    exp = {}
    for o, res in fits.items():
        h = horizon_of(o)
        design = designs[h].design_for(np.load(Path(folders[h]) / f"codes-{i:05d}.npy"))
        exp[f"exp_{o}"] = res.predict(design, unseen="nan")
    df = add_derived_groups(df.assign(**exp))
    path = Path(out) / f"part-{i:05d}.parquet"
    tmp = path.with_suffix(".tmp")
    df.to_parquet(tmp, index=False, row_group_size=max(len(df), 1))
    os.replace(tmp, path)
    return str(path), len(df)


def _t_cube(part: Partition, levels: Any, columns: Sequence[str], outcomes: Sequence[str]) -> tuple[pd.DataFrame, dict]:
    from arbeidsindikator.indicator import cube as cb

    chunk = read_partition(part, list(columns))
    return cb.chunk_partials(chunk, levels, outcomes), cb.chunk_summaries(chunk, levels)


# --- the engine -----------------------------------------------------------------------------------

@dataclass
class DaskEngine:
    """A connection to a Dask cluster: a scheduler address, or a ``LocalCluster`` started here.

    ``workers``, ``threads_per_worker`` and ``memory_limit`` (per worker, e.g. ``"4GB"``) apply
    to the local cluster only; a remote cluster has its own. ``work_dir`` holds the coded design
    between passes (must be visible to every worker). Use as a context manager.
    """

    scheduler: str | None = None
    workers: int = 2
    threads_per_worker: int = 1
    memory_limit: str = "4GB"
    work_dir: str | Path | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._cluster = None
        self._client = None
        self._own_work = False

    def __enter__(self) -> "DaskEngine":
        from dask.distributed import Client, LocalCluster

        if self.scheduler:
            self._client = Client(self.scheduler)
        else:
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=self.threads_per_worker,
                                         memory_limit=self.memory_limit, processes=True, dashboard_address=None,
                                         env={"NUMBA_NUM_THREADS": str(self.threads_per_worker)})
            self._client = Client(self._cluster)
        if self.work_dir is None:
            import tempfile

            self.work_dir = tempfile.mkdtemp(prefix="arbeidsindikator-dask-")
            self._own_work = True
        Path(self.work_dir).mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        if self._own_work and self.work_dir is not None:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    @property
    def client(self) -> Any:
        if self._client is None:
            raise RuntimeError("DaskEngine is not started: use it as a context manager (with DaskEngine(...) as eng)")
        return self._client

    def _map(self, fn: Any, *iterables: Sequence[Any], **kw: Any) -> list:
        """fn over the partitions on the cluster, results in partition order."""
        futures = self.client.map(fn, *iterables, key=f"{fn.__name__}-{uuid.uuid4().hex[:8]}", pure=False, **kw)
        return self.client.gather(futures)

    def worker_peak_mb(self) -> dict[str, float]:
        """Peak resident memory (MB) of every worker process since it started.

        :func:`arbeidsindikator.io.peak_rss_mb` (``VmHWM``) run on each worker: ``ru_maxrss`` would
        carry the client's peak over ``exec`` into a spawned worker.
        """
        return {str(k): float(v) for k, v in self.client.run(peak_rss_mb).items()}

    # -- models ------------------------------------------------------------------------------
    def fit_models(self, parts: list[Partition], options: CovariateOptions, outcomes: Sequence[str] = OUTCOMES,
                   family: dict[str, str] | None = None, cov_type: str = "classical"
                   ) -> tuple[dict[str, Any], dict[int, gd.GlobalDesign], dict[str, float]]:
        """Fit the main model of every outcome over ``parts``: fits, global designs, seconds.

        With ``options.pooling`` active the rare levels are pooled over the whole panel (the
        rule's counts are partition totals; :func:`.design.decide_pooling`); each design's
        ``pooled`` holds the pooling table's records of its horizon.
        """
        from arbeidsindikator.spec import FAMILY

        family = family or FAMILY
        if not parts:
            raise ValueError("no partitions: the panel is empty")
        n_rows = sum(p.n_rows for p in parts)
        idx = list(range(len(parts)))
        fits: dict[str, Any] = {}
        designs: dict[int, gd.GlobalDesign] = {}
        self._folders: dict[int, str] = {}
        seconds: dict[str, float] = {}
        for h in sorted({horizon_of(o) for o in outcomes}):
            t0 = time.perf_counter()
            outs = [o for o in outcomes if horizon_of(o) == h]
            folder = Path(self.work_dir) / f"h{h}"  # type: ignore[arg-type]
            folder.mkdir(parents=True, exist_ok=True)
            self._folders[h] = str(folder)
            edges = gd.quantile_edges(*gd.merge_counts(self._map(_t_inflow_counts, parts, horizon=h)),
                                      options.inflow_categories)
            coded = self._map(_t_code, parts, idx, horizon=h, options=options, edges=edges, outcomes=outs,
                              folder=str(folder))
            blocks, cats = gd.check_same_blocks([(c[0], c[1]) for c in coded])
            counts = [sum(x) for x in zip(*[c[2] for c in coded], strict=True)]
            pool_maps, pooled = None, None
            if options.pooling.active:  # the whole panel's pooling from partition totals (design.decide_pooling)
                import pyarrow.parquet as pq

                probits = gd.pooling_outcomes(pq.read_schema(parts[0].path).names, h)[1]
                pool_maps, pooled = gd.decide_pooling(
                    blocks, cats, counts, [c[3] for c in coded], h, options.pooling, probits,
                    lambda small, _f=str(folder): self._map(_t_small_pairs, idx, folder=_f, small=small),
                    lambda b, lv, _f=str(folder): self._map(_t_level_persons, idx, folder=_f, block=b, levels=lv))
            g = gd.GlobalDesign.from_counts(blocks, cats, counts, edges, pool_maps, pooled)
            designs[h] = g
            [g_future] = self.client.scatter([g], broadcast=True)
            t_design = time.perf_counter() - t0
            self.timings[f"design_h{h}"] = round(t_design, 2)  # read, covariates, quantiles, counts, pooling
            for o in outs:
                t0 = time.perf_counter()

                def run(kind: str, _o: str = o, **kw: Any) -> list:
                    return add_passes(self._map(_t_pass, idx, folder=str(folder), outcome=_o, g=g_future, kind=kind, kw=kw))

                fits[o] = fit_from_passes(run, g, family=family[o], outcome=o, cov_type=cov_type, n_rows=n_rows)
                seconds[o] = round(time.perf_counter() - t0 + t_design, 2)
                t_design = 0.0
        self.timings.update({f"fit_{k}": v for k, v in seconds.items()})
        return {o: fits[o] for o in outcomes}, designs, seconds

    def predict_to(self, parts: list[Partition], fits: dict[str, Any], designs: dict[int, gd.GlobalDesign],
                   out_dir: str | Path) -> list[tuple[str, int]]:
        """Write each partition's rows with ``exp_<outcome>`` and the flags to ``out_dir/part-*.parquet``."""
        if not getattr(self, "_folders", None):
            raise RuntimeError("predict_to needs the coded design of fit_models (run it first, same engine)")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        [d_future] = self.client.scatter([designs], broadcast=True)
        [f_future] = self.client.scatter([fits], broadcast=True)
        res = self._map(_t_predict, parts, list(range(len(parts))), folders=self._folders, designs=d_future,
                        fits=f_future, out=str(out))
        self.timings["predict"] = round(time.perf_counter() - t0, 2)
        return res

    # -- cube --------------------------------------------------------------------------------
    def cube(self, parts: list[Partition], levels: Any, columns: Sequence[str], outcomes: Sequence[str] = OUTCOMES
             ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        """The indicator cube and summaries (as :func:`arbeidsindikator.indicator.cube.build`)."""
        from arbeidsindikator.indicator import cube as cb

        t0 = time.perf_counter()
        [lv] = self.client.scatter([levels], broadcast=True)
        acc = cb.Accumulator(cb.n_cells(levels, outcomes))
        summaries: list[dict[str, pd.DataFrame]] = []
        futures = self.client.map(_t_cube, parts, levels=lv, columns=list(columns), outcomes=list(outcomes),
                                  key=f"cube-{uuid.uuid4().hex[:8]}", pure=False)
        for fut in futures:  # in partition order: the same additions as the in-process pass
            partial, summ = fut.result()
            fut.release()
            acc.add(partial)
            summaries.append(summ)
            if len(summaries) >= 8:
                summaries = [cb.combine_summaries(summaries)]
        self.timings["cube"] = round(time.perf_counter() - t0, 2)
        return cb.label_cube(acc.result(), levels, outcomes), cb.combine_summaries(summaries)
