"""Benchmark of the interval methods at the store's scale (issue 14's performance goals).

Streams the store (:func:`arbeidsindikator.analyses.streaming.store_influences`) and times,
for all four outcomes and every curve the book and the export show (national, county, office,
service group, programme, youth guarantee, country group 3; monthly, adjusted, tertials of both,
period; printed, residual, analytic by person and by observation):

* ``analytic``: the three passes over the store and the interval table of every curve;
* ``multiplier``: ``--replicates`` multiplier replicates by person of every curve;
* ``refit``: one refit replicate by person (weighted fit + prediction + regrouping) per outcome
  on the whole panel (``--refit``), i.e. the refit bootstrap's time per replicate.

Peak memory is the process's ``ru_maxrss`` (cumulative). Goals at full scale (23–25 M rows,
1.5 M persons): analytic ≤ 3 min; 200 multiplier replicates ≤ 15 min and ≤ 8 GB on 2 cores.

``--store DIR`` reads a finished store built by another code version (e.g. the lead's
``/work/fullscale/cache-main/store-*``) read-only: its panel and models are used as they are,
and every chunk's design is checked against the stored expected values before use.
Measured 2026-12-02 ~01:15 UTC on the full-scale store (24.8 M person-months, 1.5 M persons,
seed 20261201; main's store), first row group only (``--row-groups 1``: 2 000 000 person-months
of whole persons, the whole panel's inflow edges), all four outcomes, every curve (747 408
table rows analytic; 393 024 multiplier), load average 12–13 on the 2 shared cores, so wall
times are ~3× the CPU times:

* analytic (person + observation level, every curve): 165.7 s wall, **42.0 s CPU**, peak 3.4 GB
  (of which ~0.4 GB the whole panel's two inflow columns);
* 200 multiplier replicates by person of every curve: 147.8 s wall, **57.8 s CPU**, peak 4.5 GB.

The passes are linear in rows with constant per-chunk memory, so the full panel (×12.4 rows)
needs ≈ 520 CPU-s analytic (goal 180 s: **not met**, ~3×) and ≈ 720 CPU-s for 200 multiplier
replicates (goal 900 s: met on one idle core), peak ≈ the same 4.5 GB (goal 8 GB: met). A
complete full-scale run (killed after 13 min wall / 2.5 CPU-min at load 12) was not possible
under the shared load before the deadline. The refit bootstrap's time per replicate at full
scale (``--refit``) was not measured this session (it needs the whole panel in memory).

Run under the shared lock at full scale::

    flock /work/fullscale/big.lock env PYTHONPATH=src python benchmarks/bench_intervals.py \\
        --config /work/fullscale/fullscale.yml --store /work/fullscale/cache-main/store-...
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from arbeidsindikator import pipeline
from arbeidsindikator.analyses import streaming
from arbeidsindikator.analyses import uncertainty as unc
from arbeidsindikator.config import load_config
from arbeidsindikator.indicator import seasonal
from arbeidsindikator.spec import OUTCOMES


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def cpu_s() -> float:
    """CPU seconds of this process (user + system): comparable across machine loads."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _tables(cfg, infs, levels_methods) -> int:  # type: ignore[no-untyped-def]
    rows = 0
    for o, by_level in infs.items():
        w = seasonal.windows_for(cfg, o)
        for lv, methods in levels_methods.items():
            rows += len(unc.summarise(by_level[lv], w, methods))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--store", default=None, help="an existing store folder to read (read-only)")
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--outcomes", default=",".join(OUTCOMES))
    ap.add_argument("--refit", action="store_true", help="time one refit replicate per outcome on the whole panel")
    ap.add_argument("--skip", default="", help="comma list of stages to skip: analytic,multiplier")
    ap.add_argument("--row-groups", type=int, default=0, help="read only the first N row groups (0: all)")
    ap.add_argument("--edges-store", default=None,
                    help="take the inflow quantile edges from this store's panel (a store whose panel repeats another's)")
    ap.add_argument("--refit-rows", type=int, default=0,
                    help="--refit on a person subsample of about this many rows (as bootstrap.max_refit_rows; 0: whole panel)")
    ap.add_argument("--threads", type=int, default=2, help="threads of the store pass (outcomes in parallel)")
    args = ap.parse_args()
    cfg = load_config(args.config)
    if args.store:
        store = Path(args.store)
        pipeline.store_dir = lambda _cfg: store  # type: ignore[assignment]  # read another version's store
    outcomes = tuple(args.outcomes.split(","))
    edges = None
    if args.row_groups:
        import pyarrow.parquet as pq

        whole = pd.read_parquet(pipeline.store_panel_path(cfg), columns=["innstrom3", "innstrom12"])
        opts = pipeline.covariate_options(cfg)
        edges = {h: streaming.inflow_edges(whole[f"innstrom{h}"].to_numpy(), opts.inflow_categories) for h in (3, 12)}
        del whole

        def first_groups(cfg_, columns=None):  # type: ignore[no-untyped-def]
            pf = pq.ParquetFile(pipeline.store_panel_path(cfg_))
            for i in range(min(args.row_groups, pf.num_row_groups)):
                yield pf.read_row_group(i, columns=columns).to_pandas()

        pipeline.iter_chunks = first_groups  # type: ignore[assignment]
    if args.edges_store:
        whole = pd.read_parquet(Path(args.edges_store) / "panel.parquet", columns=["innstrom3", "innstrom12"])
        opts = pipeline.covariate_options(cfg)
        edges = {h: streaming.inflow_edges(whole[f"innstrom{h}"].to_numpy(), opts.inflow_categories) for h in (3, 12)}
        del whole
    n_rows = sum(len(c) for c in pipeline.iter_chunks(cfg, ["person_id"]))
    print(f"store {pipeline.store_dir(cfg)}: {n_rows:,} person-months", flush=True)
    out: dict[str, object] = {"rows": n_rows, "outcomes": outcomes, "load_average": open("/proc/loadavg").read().split()[:3]}
    skip = set(args.skip.split(","))
    if "analytic" not in skip:
        t0, c0 = time.perf_counter(), cpu_s()
        infs, secs = streaming.store_influences(cfg, outcomes, edges=edges, threads=args.threads)
        t1 = time.perf_counter()
        rows = _tables(cfg, infs, {"person": ["printed", "residual", "analytic_person"],
                                   "observation": ["analytic_observation"]})
        t2 = time.perf_counter()
        del infs
        out["analytic"] = {"load_after": open("/proc/loadavg").read().split()[:3], "threads": args.threads,"passes_s": round(t1 - t0, 1), "tables_s": round(t2 - t1, 1), "total_s": round(t2 - t0, 1),
                           "cpu_s": round(cpu_s() - c0, 1),
                           "table_rows": rows, "peak_gb": round(peak_gb(), 2),
                           "passes": {k: round(v, 1) for k, v in secs.items()}}
        print("analytic:", json.dumps(out["analytic"]), flush=True)
    if "multiplier" not in skip:
        t0, c0 = time.perf_counter(), cpu_s()
        infs, secs = streaming.store_influences(cfg, outcomes, replicates=args.replicates, levels=("person",),
                                                seeds={o: 100 * k for k, o in enumerate(outcomes)}, edges=edges,
                                                threads=args.threads)
        t1 = time.perf_counter()
        rows = _tables(cfg, infs, {"person": ["analytic_person", "multiplier_person"]})
        t2 = time.perf_counter()
        del infs
        out["multiplier"] = {"load_after": open("/proc/loadavg").read().split()[:3], "threads": args.threads,"replicates": args.replicates, "passes_s": round(t1 - t0, 1), "tables_s": round(t2 - t1, 1),
                             "total_s": round(t2 - t0, 1), "cpu_s": round(cpu_s() - c0, 1), "table_rows": rows, "peak_gb": round(peak_gb(), 2),
                             "passes": {k: round(v, 1) for k, v in secs.items()}}
        print("multiplier:", json.dumps(out["multiplier"]), flush=True)
    if args.refit:
        from arbeidsindikator.estimation import build_design
        from arbeidsindikator.panel.covariates import build_covariates, horizon_of
        from arbeidsindikator.spec import FAMILY

        refit: dict[str, float] = {}
        df = unc.person_subsample(cfg, args.refit_rows, cfg.bootstrap_seed) if args.refit_rows else pipeline.panel_with_expected(cfg)
        out["refit_rows"], out["refit_persons"] = len(df), int(df["person_id"].nunique())
        opts = pipeline.covariate_options(cfg)
        _, person = np.unique(df["person_id"].to_numpy(), return_inverse=True)
        for o in outcomes:
            t0 = time.perf_counter()
            y = df[o].to_numpy(dtype=float)
            design = build_design(build_covariates(df, horizon_of(o), opts), mask=~np.isnan(y))
            t1 = time.perf_counter()
            rng = np.random.default_rng(1)
            w = np.bincount(rng.integers(0, person.max() + 1, person.max() + 1), minlength=person.max() + 1)[person].astype(float)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res, d_used, _, _ = unc.fit_replicate(design, y, FAMILY[o], o, w)
            if res is not None:
                pred = res.predict(d_used, unseen="nan")
                np.bincount(person % 97, weights=np.nan_to_num(w * (y - pred)))
            refit[o] = round(time.perf_counter() - t1, 1)
            refit[f"{o}_design_s"] = round(t1 - t0, 1)
            del design
            print(f"{o} refit: {refit[o]} s per replicate (design {refit[f'{o}_design_s']} s), peak {peak_gb():.2f} GB", flush=True)
        out["refit_per_replicate_s"] = refit
        out["refit_200_replicates_all_outcomes_h"] = round(sum(refit[o] for o in outcomes) * 200 / 3600, 2)
        out["peak_gb"] = round(peak_gb(), 2)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
