"""Benchmark of the data stages: generate synthetic extracts, validate them, build the panel.

Prints wall time and peak resident memory (RSS of the process and its worker processes, sampled
every 50 ms from /proc) per stage.
Issue 3 goal at full scale (~1.5 M persons, ~23 M person-months, Dec 2017 – Jun 2024):
generation + validation + panel within 30 minutes and 12 GB peak on 2 cores / 24 GB.

    PYTHONPATH=src python benchmarks/bench_data.py --persons 1500000
    PYTHONPATH=src python benchmarks/bench_data.py --persons 50000 --keep /tmp/extracts
    PYTHONPATH=src python benchmarks/bench_data.py --config /work/fullscale/scale/fullscale.yml

``--config`` measures the pipeline's panel stage of a run configuration instead (validation +
panel build + panel contract + panel parquet, as ``prepare`` runs it; issue 11: ≤ 12 GB), into
the configuration's ``output.cache_dir`` (give it an empty one, or the stage finds its cache).
It runs with whichever ``src`` is first on PYTHONPATH, so the same script measures a before/after.

This is a script, not a timed test.

Measured (issue 11, 2026-12-02, the streamed panel stage `_stream_panel_file`, chunks of 250 000
persons, full-scale extracts: 1.5 M persons, 24.8 M panel rows): main before the panel branch,
idle machine: 392 s wall (validate 88.9 s, build 303.2 s), 4.75 GB. Branch `panel`, under load
8–12 (nice 10): 332 CPU-s (user 262 + sys 77) in 964 s wall, peak RSS 4.64 GB; CPU-s by step:
validate extracts 92, chunk build 175 (DuckDB reads 75, pre-entry income 61, outcomes 25), panel
contract + parquet 64 (validate_panel 24, write_table 21, fingerprint hash 11). Same file content,
schema, report and fingerprint (55d1b3d2c583e1c7) as main's.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from arbeidsindikator.synthetic import generator as se  # noqa: E402
from arbeidsindikator.data.extracts import validate_extracts  # noqa: E402
from arbeidsindikator.io import peak_rss_mb  # noqa: E402
from arbeidsindikator.panel.build import PanelOptions, build_panel  # noqa: E402

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_of(pid: str) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def _rss() -> int:
    """RSS of this process plus its child processes (the generator's workers); pages the forked
    workers share with the parent are counted twice, so this errs on the high side."""
    total = _rss_of("self")
    for task in Path("/proc/self/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        total += sum(_rss_of(c) for c in children)
    return total


class PeakRSS:
    """Peak RSS of this process between ``start()`` and ``stop()`` (background sampling)."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._t: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss())
            time.sleep(self.interval)

    def start(self) -> "PeakRSS":
        self.peak = _rss()
        self._stop.clear()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def stop(self) -> int:
        self._stop.set()
        assert self._t is not None
        self._t.join()
        self.peak = max(self.peak, _rss())
        return self.peak


def _uptime() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def panel_stage(config: Path) -> None:
    """Wall time and peak RSS (process tree) of the pipeline's panel stage for ``config``."""
    import arbeidsindikator
    from arbeidsindikator import pipeline
    from arbeidsindikator.config import load_config

    cfg = load_config(config)
    print(f"code {Path(arbeidsindikator.__file__).parent}  config {config}  cache {cfg.cache_dir}")
    print(f"start {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC  load average {_uptime()}", flush=True)
    mon = PeakRSS().start()
    t0 = time.perf_counter()
    pipeline._panel_stage(cfg)
    sec, peak = time.perf_counter() - t0, mon.stop()
    path = pipeline.panel_path(cfg)
    import pyarrow.parquet as pq

    md = pq.ParquetFile(path).metadata
    print(f"end {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC  load average {_uptime()}")
    print(f"panel stage  {sec:.1f} s  peak RSS {peak / 2**30:.2f} GiB  "
          f"(process max RSS {peak_rss_mb() / 2**10:.2f} GiB)")
    print(f"panel file {path.name}: {md.num_rows:,} rows, {md.num_columns} columns, {md.num_row_groups} row groups")


def main() -> None:
    if "--config" in sys.argv:
        panel_stage(Path(sys.argv[sys.argv.index("--config") + 1]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=1_500_000, help="persons to generate (default 1.5 M)")
    ap.add_argument("--seed", type=int, default=20250401)
    ap.add_argument("--start", default="2017-12")
    ap.add_argument("--end", default="2024-06")
    ap.add_argument("--chunk-persons", type=int, default=se.CHUNK_PERSONS, help="generator chunk size")
    ap.add_argument("--panel-chunk-persons", type=int, default=PanelOptions().chunk_persons, help="panel chunk size")
    ap.add_argument("--no-truth", action="store_true", help="skip the planted-truth aggregation")
    ap.add_argument("--workers", type=int, default=None, help="generator worker processes (default: up to 2)")
    ap.add_argument("--keep", type=Path, default=None, help="write extracts here and keep them (default: a temporary folder)")
    ap.add_argument("--duckdb-memory", default="4GB", help="DuckDB memory limit during validation and build")
    args = ap.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-extracts-"))
    rows: list[tuple[str, float, int, str]] = []
    total0 = time.perf_counter()
    try:
        mon = PeakRSS().start()
        t0 = time.perf_counter()
        summary = se.generate_extracts(folder, n_persons=args.persons, seed=args.seed, start=args.start, end=args.end,
                                       chunk_persons=args.chunk_persons, truth=not args.no_truth, verbose=True,
                                       workers=args.workers)
        rows.append(("generate", time.perf_counter() - t0, mon.stop(),
                     f"{summary['candidates']:,} candidates simulated; "
                     + ", ".join(f"{k} {v:,}" for k, v in summary["rows"].items())))
        gc.collect()

        mon = PeakRSS().start()
        t0 = time.perf_counter()
        ex = validate_extracts(folder, memory_limit=args.duckdb_memory)
        rows.append(("validate", time.perf_counter() - t0, mon.stop(), "no violations"))

        mon = PeakRSS().start()
        t0 = time.perf_counter()
        panel, rep = build_panel(ex, options=PanelOptions(chunk_persons=args.panel_chunk_persons), verbose=True)
        mem_panel = panel.memory_usage(deep=True).sum()
        rows.append(("build panel", time.perf_counter() - t0, mon.stop(),
                     f"{len(panel):,} rows, {rep['persons']['in_panel']:,} persons, "
                     f"excluded {rep['excluded']}, panel frame {mem_panel / 2**30:.2f} GiB"))
        ex.close()
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    total = time.perf_counter() - total0
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if args.keep else None

    print()
    print(f"persons {args.persons:,}  seed {args.seed}  period {args.start}–{args.end}  cores {os.cpu_count()}")
    print(f"{'stage':<12} {'wall s':>9} {'peak RSS GiB':>13}  notes")
    for name, sec, peak, note in rows:
        print(f"{name:<12} {sec:>9.1f} {peak / 2**30:>13.2f}  {note}")
    print(f"{'total':<12} {total:>9.1f} {peak_rss_mb() / 2**10:>13.2f}  (process max RSS)")
    if size is not None:
        print(f"extracts on disk: {size / 2**30:.2f} GiB in {folder}")


if __name__ == "__main__":
    main()
