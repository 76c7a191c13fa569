"""RSS timeline of the models stage (fit + store write) on a cached panel: prints the RSS and the innermost
wrapped call each time the maximum grows. Usage: prof_models_rss.py OUT_DIR CONFIG PANEL_GLOB (OUT_DIR is written)."""
import glob, sys, threading, time
from pathlib import Path

def rss():
    for l in open("/proc/self/status"):
        if l.startswith("VmRSS"):
            return int(l.split()[1]) / 2**20
phase = ["start"]; peak = [0.0, "start"]; t00 = time.perf_counter()
def sampler():
    while True:
        r = rss()
        if r > peak[0] + 0.02:
            peak[:] = [r, phase[-1]]
            print(f"{time.perf_counter()-t00:7.1f}s {r:5.2f} GiB  {'/'.join(phase)}", flush=True)
        time.sleep(0.1)

if __name__ == "__main__":
    from arbeidsindikator.config import load_config
    from arbeidsindikator.pipeline import models as M, store as S
    from arbeidsindikator.pipeline.sources import covariate_options
    import arbeidsindikator.estimation as E, arbeidsindikator.estimation.design as D
    from arbeidsindikator.estimation.results import FitResult
    def wrap(mod, name):
        f = getattr(mod, name)
        def g(*a, **k):
            phase.append(name)
            try: return f(*a, **k)
            finally: phase.pop()
        setattr(mod, name, g)
    for mod, n in [(M, "covariates_from_file"), (M, "_pool_from_file"), (M, "_pooling_rows"), (M, "compact_design"),
                   (D, "rebuild_design"), (E, "fit"), (M, "regressor_summary") if hasattr(M, "regressor_summary") else (M, "read_column"),
                   (S, "_write_store_from_file"), (M, "read_column")]:
        wrap(mod, n)
    wrap(FitResult, "predict")
    threading.Thread(target=sampler, daemon=True).start()
    cfg = load_config(sys.argv[2])
    ppath = Path(glob.glob(sys.argv[3])[0])
    out = Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    full, spills = M.fit_main_models_from_file(ppath, covariate_options(cfg), out / "spill", chunk_rows=2_000_000)
    t1 = time.perf_counter()
    S._write_store_from_file(ppath, spills, out / "panel.parquet", 2_000_000)
    t2 = time.perf_counter()
    import pickle
    (out / "fits.pkl").write_bytes(pickle.dumps({o: (r.params, r.bse) for o, r in full.fits.items()}))
    print(f"fit {t1-t0:.1f}s write {t2-t1:.1f}s peak {peak[0]:.2f} GiB in {peak[1]}", flush=True)
