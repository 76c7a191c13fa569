"""Benchmark of the Dask backend (arbeidsindikator.engines) on a panel four times production size.

The source is the finished full-scale analysis panel (1.5 M synthetic persons, ~23 M person-months;
``panel-*.parquet`` of a full-scale cache, read-only). It is replicated four times with new person
ids (``person_id + r · (max id + 1)``, r = 0..3) into a partitioned parquet dataset
(``--out``/panel/part-r<r>-<i>.parquet, whole persons per file, rows sorted by person), built once.
Then, on a ``LocalCluster`` of ``--workers`` processes (``--threads`` threads each) with the memory
limit per worker ``--memory-limit`` — below what an in-memory fit needs (the x4 panel is ~32 GB in
pandas, its coded design alone ~3 GB per horizon) — the stages run and are timed:

* ``fit``      the main models named by ``--outcomes`` (global design: inflow quantiles, level
               counts and the pooling of rare levels of ``--config``; per-partition sufficient
               statistics; probit one pass per Newton step)
* ``predict``  (``--predict``) expected values for every row, written as the store's part files
* ``cube``     (``--cube``, needs ``--predict``) the indicator cube and summaries from those files

Printed: seconds per stage, rows, partitions, each worker's peak resident memory (``VmHWM``
of the worker process, ``io.peak_rss_mb``) and the client's, and the machine's load average before and after.
Figures only, no pass/fail. Heavy: run under the shared lock, e.g.::

    flock /work/fullscale/big.lock env PYTHONPATH=src python benchmarks/bench_distributed.py \\
        --source /work/fullscale/cache-main --out /work/fullscale/x4-distributed --outcomes atid3 jobb3
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def build_x4(source: Path, out: Path, replicas: int, rows_per_file: int) -> list[str]:
    """The replicated panel (built once; a ``_COMPLETE`` marker records what it holds)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from arbeidsindikator.engines.partitions import plan_partitions, read_partition

    src = sorted(source.glob("panel-*.parquet")) if source.is_dir() else [source]
    if len(src) != 1:
        raise SystemExit(f"expected one panel-*.parquet in {source}, found {[str(s) for s in src]}")
    folder = out / "panel"
    marker = out / "_COMPLETE.json"
    want = {"source": str(src[0]), "size": src[0].stat().st_size, "replicas": replicas, "rows_per_file": rows_per_file}
    if marker.exists() and json.loads(marker.read_text()) == want:
        return sorted(str(f) for f in folder.glob("*.parquet"))
    folder.mkdir(parents=True, exist_ok=True)
    for f in folder.glob("*.parquet"):
        f.unlink()
    pid_max = int(pq.read_table(src[0], columns=["person_id"]).column(0).to_numpy().max())
    parts = plan_partitions(src[0], rows_per_file)
    t0 = time.perf_counter()
    for i, p in enumerate(parts):
        df = read_partition(p)
        for r in range(replicas):
            d = df.assign(person_id=df["person_id"] + r * (pid_max + 1))
            tmp = folder / f"part-r{r}-{i:04d}.tmp"
            pq.write_table(pa.Table.from_pandas(d, preserve_index=False), tmp, row_group_size=len(d))
            os.replace(tmp, folder / f"part-r{r}-{i:04d}.parquet")
        del df
    marker.write_text(json.dumps(want))
    print(f"x4 panel written: {len(parts) * replicas} files in {time.perf_counter() - t0:.0f} s", flush=True)
    return sorted(str(f) for f in folder.glob("*.parquet"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", type=Path, default=Path("/work/fullscale/fullscale.yml"),
                    help="run configuration of the source panel (model options, months)")
    ap.add_argument("--source", type=Path, default=Path("/work/fullscale/cache-main"))
    ap.add_argument("--out", type=Path, default=Path("/work/fullscale/x4-distributed"))
    ap.add_argument("--replicas", type=int, default=4)
    ap.add_argument("--rows-per-file", type=int, default=2_000_000)
    ap.add_argument("--partition-rows", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--memory-limit", default="2GB")
    ap.add_argument("--outcomes", nargs="+", default=["atid3", "jobb3", "atid12", "jobb12"])
    ap.add_argument("--predict", action="store_true")
    ap.add_argument("--cube", action="store_true")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument("--budget-s", type=float, default=900.0,
                    help="skip predict (after 2/3 of it) and cube (after all of it) once this many seconds have passed")
    ap.add_argument("--build-only", action="store_true", help="only write the replicated panel (~1.5 GB resident)")
    args = ap.parse_args()

    from arbeidsindikator.engines.dask_backend import DaskEngine
    from arbeidsindikator.engines.partitions import plan_partitions
    from arbeidsindikator.estimation import SeparationWarning

    load0 = _load()
    t_start = time.perf_counter()
    t0 = time.perf_counter()
    files = build_x4(args.source, args.out, args.replicas, args.rows_per_file)
    t_build = time.perf_counter() - t0
    if args.build_only:
        print(f"{len(files)} files under {args.out / 'panel'} ({t_build:.0f} s)")
        return
    t0 = time.perf_counter()
    parts = plan_partitions(files, args.partition_rows)
    t_plan = time.perf_counter() - t0
    n_rows = sum(p.n_rows for p in parts)
    print(f"panel x{args.replicas}: {n_rows:,} rows in {len(files)} files, {len(parts)} partitions "
          f"(≤ {args.partition_rows:,} rows); load {load0}", flush=True)
    out: dict = {"rows": n_rows, "files": len(files), "partitions": len(parts), "workers": args.workers,
                 "threads_per_worker": args.threads, "memory_limit": args.memory_limit, "load_before": load0,
                 "seconds": {"build_x4": round(t_build, 1), "plan": round(t_plan, 1)}, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    work = args.out / "work"
    from arbeidsindikator import pipeline
    from arbeidsindikator.config import load_config

    cfg = load_config(args.config)
    options = pipeline.covariate_options(cfg)
    t0 = time.perf_counter()
    with DaskEngine(workers=args.workers, threads_per_worker=args.threads, memory_limit=args.memory_limit,
                    work_dir=work) as eng:
        out["seconds"]["cluster_start"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SeparationWarning)
            fits, designs, secs = eng.fit_models(parts, options, args.outcomes)
        out["seconds"]["fit"] = round(time.perf_counter() - t0, 1)
        out["seconds"]["fit_by_outcome_incl_design"] = secs
        out["seconds"]["design_by_horizon"] = {k: v for k, v in eng.timings.items() if k.startswith("design_h")}
        out["pooled_levels"] = {str(h): len(g.pooled) for h, g in designs.items()}
        out["models"] = {o: {"nobs": f.nobs, "n_coef": len(f.params), "n_iter": f.n_iter, "converged": f.converged,
                             "const": float(f.params.iloc[0])} for o, f in fits.items()}
        print(f"fit {args.outcomes}: {out['seconds']['fit']} s {secs} (design {out['seconds']['design_by_horizon']}, "
              f"pooled levels {out['pooled_levels']}); worker peak MB "
              f"{ {k: round(v) for k, v in eng.worker_peak_mb().items()} }; load {_load()}", flush=True)
        if args.predict and time.perf_counter() - t_start > 2 * args.budget_s / 3:
            print(f"predict and cube skipped: {time.perf_counter() - t_start:.0f} s used of the {args.budget_s:.0f} s budget", flush=True)
            out["skipped"] = ["predict", "cube"]
        elif args.predict:
            t0 = time.perf_counter()
            written = eng.predict_to(parts, fits, designs, args.out / "store")
            out["seconds"]["predict"] = round(time.perf_counter() - t0, 1)
            print(f"predict: {out['seconds']['predict']} s; worker peak MB "
                  f"{ {k: round(v) for k, v in eng.worker_peak_mb().items()} }", flush=True)
            if args.cube and time.perf_counter() - t_start > args.budget_s:
                print(f"cube skipped: {time.perf_counter() - t_start:.0f} s used of the {args.budget_s:.0f} s budget", flush=True)
                out["skipped"] = ["cube"]
            elif args.cube:
                import pandas as pd

                from arbeidsindikator.engines.partitions import Partition
                from arbeidsindikator.indicator import cube as cb

                t0 = time.perf_counter()
                head = pd.read_parquet(written[0][0], columns=list(cb.GROUP_COLUMNS[1:]))
                levels = cb.levels_of(head, pd.DatetimeIndex(cfg.months.to_timestamp()))
                cols = ["person_id", "month", "fylke", "nav_kontor", "hovedgruppe", "innsatsgruppe", "tiltak",
                        "ungdomsgaranti", "landgruppe3", "timer_t", "alder", "barn", "kvinne", "gift", "landgruppe",
                        "ufor", "nav_historikk", "nav_varighet", *args.outcomes, *[f"exp_{o}" for o in args.outcomes]]
                cparts = [Partition(f, 0, n) for f, n in written]
                cells, _ = eng.cube(cparts, levels, cols, args.outcomes)
                out["seconds"]["cube"] = round(time.perf_counter() - t0, 1)
                out["cube_cells"] = len(cells)
                print(f"cube: {out['seconds']['cube']} s, {len(cells):,} cells", flush=True)
        out["worker_peak_mb"] = {k: round(v) for k, v in eng.worker_peak_mb().items()}
    from arbeidsindikator.io import peak_rss_mb

    out["client_peak_mb"] = round(peak_rss_mb())
    out["load_after"] = _load()
    print(json.dumps(out, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
