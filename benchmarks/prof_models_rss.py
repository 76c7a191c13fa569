"""RSS timeline of the models stage (fit + store write) on a cached panel.

Prints the resident set (VmRSS, GiB; numpy and numba allocations count) and the innermost
wrapped call each time the maximum grows by 20 MiB, to find which phase sets the stage's peak.
Measured 2026-12-02 21:04 UTC on the idle full-scale panel (24.8 M rows): 2.68 GiB, reached in
the covariates (2.02 GiB) and the pooling (2.60 GiB); designs, fits and store writes reuse that.
Session 11 (2026-12-03 13:58–14:33 UTC, idle, fresh extracts of the same seed): 2.63 GiB with
that code; 2.47 with glibc's mmap threshold fixed at 1 MiB, 2.57 with pyarrow's jemalloc pool,
2.36 with the fixed threshold and pyarrow's system pool (``io.freed_memory_returned``), then
**1.95 GiB** (1.93 with the settings scoped as in the stage) with the 12-month covariates
sharing the 3-month blocks (no dict copy) and the design taking codes as views; fits and store
bit-identical to the first run.

Usage: ``prof_models_rss.py OUT_DIR CONFIG PANEL_GLOB`` (OUT_DIR is written).
"""

from __future__ import annotations

import glob
import pickle
import sys
import threading
import time
from pathlib import Path
from typing import Any

PHASE = ["start"]
PEAK: list[Any] = [0.0, "start"]
T00 = time.perf_counter()


def rss_gib() -> float:
    """The process's resident set in GiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 2**20
    return 0.0


def sampler() -> None:
    """Every 0.1 s: print when the resident set exceeds the last printed maximum by 20 MiB."""
    while True:
        r = rss_gib()
        if r > PEAK[0] + 0.02:
            PEAK[:] = [r, PHASE[-1]]
            print(f"{time.perf_counter() - T00:7.1f}s {r:5.2f} GiB  {'/'.join(PHASE)}", flush=True)
        time.sleep(0.1)


def wrap(owner: Any, name: str) -> None:
    """Replace ``owner.name`` by a wrapper that records the phase while it runs."""
    f = getattr(owner, name)

    def g(*a: Any, **k: Any) -> Any:
        PHASE.append(name)
        try:
            return f(*a, **k)
        finally:
            PHASE.pop()

    setattr(owner, name, g)


if __name__ == "__main__":
    import arbeidsindikator.estimation as E
    import arbeidsindikator.estimation.design as D
    from arbeidsindikator.config import load_config
    from arbeidsindikator.estimation.results import FitResult
    from arbeidsindikator.pipeline import models as M
    from arbeidsindikator.pipeline import store as S
    from arbeidsindikator.pipeline.sources import covariate_options

    for owner, name in [(M, "covariates_from_file"), (M, "_pool_from_file"), (M, "_pooling_rows"),
                        (M, "compact_design"), (D, "rebuild_design"), (E, "fit"), (M, "read_column"),
                        (S, "_write_store_from_file"), (FitResult, "predict")]:
        wrap(owner, name)
    threading.Thread(target=sampler, daemon=True).start()
    cfg = load_config(sys.argv[2])
    ppath = Path(glob.glob(sys.argv[3])[0])
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    from arbeidsindikator.io import freed_memory_returned

    with freed_memory_returned() as allocators:  # as pipeline.store.main_models runs the stage
        print("allocators:", allocators, flush=True)
        t0 = time.perf_counter()
        full, spills = M.fit_main_models_from_file(ppath, covariate_options(cfg), out / "spill", chunk_rows=2_000_000)
        t1 = time.perf_counter()
        S._write_store_from_file(ppath, spills, out / "panel.parquet", 2_000_000)
        t2 = time.perf_counter()
    (out / "fits.pkl").write_bytes(pickle.dumps({o: (r.params, r.bse) for o, r in full.fits.items()}))
    print(f"fit {t1 - t0:.1f}s write {t2 - t1:.1f}s peak {PEAK[0]:.2f} GiB in {PEAK[1]}", flush=True)
