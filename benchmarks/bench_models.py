"""Benchmark of the estimation engine (arbeidsindikator.estimation) on synthetic data.

Synthetic codes shaped like the indicator's design (digest §1.4; shared/docs/performance.md):
18 categorical blocks (age 50 levels, duration 61, inflow 20, income 22, history 8, hours 7,
a BA-region-like block of 33, an employment-growth-like block of 20, country group and
residence-time interactions, booleans) = 249 design columns incl. the constant, at most 19
non-zero per row; persons observed over 79 months; outcomes of the last 3 / 12 months missing.

Every stage runs in its own subprocess; peak memory is that process's ``VmHWM`` (peak resident
set, so numpy and numba allocations count, unlike tracemalloc), reported together with the
resident size after the data were generated. Stages:

* ``design``   build_design on the DataFrame of categoricals
* ``ols``      OLS fit (atid3), classical SEs
* ``probit``   probit fit (jobb3), classical SEs
* ``cluster``  OLS + probit with SEs clustered by person
* ``predict``  predictions for all rows (both models) + residual means by month × county
* ``all4``     the production run: atid3, jobb3, atid12, jobb12 fitted, predicted for all rows
               and aggregated by month × county (two designs, one at a time)
* ``statsmodels`` at ``--statsmodels-rows``: statsmodels OLS and Probit on the dense dummy
               matrix vs this engine on the same data (time ratio, max |coef diff|)
* ``glum``     at ``--glum-rows`` (default ``--rows``, then the same data as ``ols``/``probit``):
               this engine (design, OLS atid3, probit jobb3) and then glum + tabmat on the same
               rows (tabmat matrix from the pandas categoricals, first level dropped; Gaussian
               identity without penalty; binomial with a hand-added probit link); time ratios
               glum / ours and max |coef diff|. ``ours_peak_gb`` is the peak before glum runs,
               ``peak_gb`` the process peak (glum's). glum's OpenMP threads follow ``--threads``
               (``OMP_NUM_THREADS``); under CPU contention OpenMP spin-waiting can slow it a lot.

Measured 2026-12-02 (branch models, 5 M rows, ``--stages all4 --int16 --threads 2 --skip-statsmodels``,
the machine shared, load average 4.7-5.6 on 2 cores, so the fits' times are noisy): the two designs
of ``all4`` took 5.75 s before (Python loop over row chunks and blocks, ``np.bincount`` per block)
and 1.59 s after (level counts and the code fill as numba kernels on the engine's threads; codes
identical); all4 55.8 s -> 34.6 s, most of the rest being load noise in the probits. No 23 M-row
glum comparison could be run on a quiet machine in that session. At full scale (cache-main's
store, 24.8 M rows x 17 blocks, h=3 + growth, load 4.1-4.4) one design took 6.3 s and 10.1 s
before, 6.9 s after (warm numba cache; 13.2 s on the first call, which compiles the kernels for
that block count): within the noise. The covariates from the file took 38-56 s per design there,
the larger cost.

Measured 2026-12-02 16:10-16:35 UTC (branch models; the production stage, not this script: full-scale
panel of cache-main, 24.8 M rows, fullscale.yml, ``fit_main_models_from_file`` + the store write,
numba warm, nice 10 on a machine at load 7.6-10.6, so wall times are mostly waiting; CPU-s =
user + sys of the process): main 475.6 s wall / 138.0 CPU-s for the fits stage (design_h3 138 s,
design_h12 75 s) + store write 201 s / 47.4 CPU-s, peak 3.56 GB; this branch 121.4 s / 117.6 CPU-s
(design_h3 34.5 s, design_h12 0.25 s: the 12-month design is rebuilt from the 3-month one) +
91.6 s / 33.0 CPU-s, peak 2.56 GB; coefficients, SEs, iterations and the whole store file
bit-identical. With the covariate chunks on two threads too (load 10.6-11.4): 390 s / 114.6 CPU-s
+ 94.4 s / 34.3 CPU-s, process 155.5 CPU-s (main 190.9), peak 2.71 GB. Cube stage on that store:
64.0 CPU-s incl. the new kernel's first compile (main 66.8), peak 1.47 GB (1.70), cells identical. The probits
are now the largest cost (jobb3 7 and jobb12 6 Newton passes, ~65 CPU-s); starting jobb12 from
jobb3's solution or jobb3 from the LPM saved no pass (4.1 M-row subset: 6 vs 6, 6+1 vs 7).

Figures only, no pass/fail. Goals (issue): full scale 23 M rows, all four outcomes fit + predict +
aggregates ≤ 5 min and ≤ 4 GB (stretch ≤ 2 min, ≤ 3 GB); ≥ 20× faster than statsmodels at 1 M;
≥ 5× faster than glum on the identical design (shared/docs/performance.md).

Usage::

    PYTHONPATH=src python benchmarks/bench_models.py --rows 2_000_000 --statsmodels-rows 1_000_000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numba as nb
import numpy as np
import pandas as pd

N_MONTHS = 79
N_COUNTIES = 15

# block name -> number of levels (first level = reference)
BLOCKS: dict[str, int] = {
    "alder": 50,
    "barn": 5,
    "landgruppe": 5,
    "landgruppe_botid": 21,
    "gift": 2,
    "kvinne": 2,
    "hoyere_utd": 2,
    "inntekt": 22,
    "nav_historikk": 8,
    "nav_varighet": 61,
    "ufor": 2,
    "permittert": 2,
    "helse_ytelse": 2,
    "arbeid_ytelse": 2,
    "timer_t": 7,
    "innstromming": 20,
    "ba_region": 33,
    "sysselsettingsvekst": 20,
}
STAGES = ("design", "ols", "probit", "cluster", "predict", "all4", "glum")
#: glum's convergence criterion (for its probit IRLS; OLS is solved in closed form). glum's default
#: (1e-4 on the gradient of the weight-normalised deviance) left probit coefficients ~2e-6 from the
#: MLE at 200 k rows; 1e-8 gives ~5e-10, comparable to this engine's tol=1e-10 on the Newton step.
GLUM_GRADIENT_TOL = 1e-8


def load_average() -> str:
    """The machine's 1/5/15-minute load averages (``uptime``): every figure is reported with it."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def peak_rss_gb() -> float:
    """Peak resident set size of this process in GiB (``VmHWM``: :func:`arbeidsindikator.io.peak_rss_mb`)."""
    from arbeidsindikator.io import peak_rss_mb

    return peak_rss_mb() / 1024


def current_rss_gb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**3


#: Blocks that are a property of the person (constant over the person's months); the others
#: vary from month to month. Age advances with the month.
PERSON_BLOCKS = ("barn", "landgruppe", "landgruppe_botid", "gift", "kvinne", "hoyere_utd", "inntekt", "ba_region")


def _draw_codes(rng: np.random.Generator, k: int, size: int) -> np.ndarray:
    """Level codes 0..k-1 with random frequencies; level 0 (the reference) the most frequent."""
    probs = rng.dirichlet(np.full(k, 2.0))
    probs[0] += 0.5
    probs /= probs.sum()
    return np.searchsorted(np.cumsum(probs), rng.random(size), side="right").clip(0, k - 1).astype(np.int8)


def make_data(n: int, persons: int, seed: int) -> dict[str, object]:
    """Synthetic panel: categorical regressors (int8 codes), outcomes, month, county, person.

    Rows are ordered by month (as a stacked monthly stock); person ids are not contiguous.
    """
    rng = np.random.default_rng(seed)
    month = np.sort(rng.integers(0, N_MONTHS, n)).astype(np.int16)
    person = rng.integers(0, persons, n)
    county = (person % N_COUNTIES).astype(np.int8)
    cols: dict[str, pd.Categorical] = {}
    xb = np.zeros(n)
    for name, k in BLOCKS.items():
        if name == "alder":
            birth = rng.integers(0, k, persons)
            codes = np.minimum(birth[person] + month // 12, k - 1).astype(np.int8)
        elif name in PERSON_BLOCKS:
            codes = _draw_codes(rng, k, persons)[person]
        else:
            codes = _draw_codes(rng, k, n)
        effect = np.r_[0.0, rng.normal(scale=0.15, size=k - 1)]
        xb += effect[codes]
        cols[name] = pd.Categorical.from_codes(codes, categories=[f"{name}{i}" for i in range(k)])
    X = pd.DataFrame(cols)
    e = rng.normal(size=n)
    atid3 = np.clip(8.0 + 6.0 * xb + 8.0 * e, 0.0, None)
    atid12 = np.clip(10.0 + 6.0 * xb + 8.0 * e + 2.0 * rng.normal(size=n), 0.0, None)
    jobb3 = (xb - 0.7 + e > 0).astype(np.float64)
    jobb12 = (xb - 0.5 + 0.8 * e + 0.6 * rng.normal(size=n) > 0).astype(np.float64)
    del xb, e
    for y, h in ((atid3, 3), (jobb3, 3), (atid12, 12), (jobb12, 12)):
        y[month >= N_MONTHS - h] = np.nan
    inflow12 = rng.integers(0, BLOCKS["innstromming"], n).astype(np.int8)
    return {
        "X": X,
        "month": month,
        "county": county,
        "person": person,
        "atid3": atid3,
        "jobb3": jobb3,
        "atid12": atid12,
        "jobb12": jobb12,
        "inflow12": inflow12,
    }


@nb.njit(cache=True)
def _group_resid_sums(y, pred, month, county, n_counties, s, c):  # type: ignore[no-untyped-def]
    for i in range(y.shape[0]):
        if not np.isnan(y[i]):
            k = month[i] * n_counties + county[i]
            s[k] += y[i] - pred[i]
            c[k] += 1.0


def residual_means(y: np.ndarray, pred: np.ndarray, month: np.ndarray, county: np.ndarray) -> np.ndarray:
    """Mean (actual − expected) by month × county over rows with an outcome (digest §1.3).

    One pass, no row-length temporaries (the indicator module does the real aggregation).
    """
    size = N_MONTHS * N_COUNTIES
    s = np.zeros(size)
    c = np.zeros(size)
    _group_resid_sums(y, pred, month, county, N_COUNTIES, s, c)
    with np.errstate(invalid="ignore", divide="ignore"):
        return s / c


def run_stage(stage: str, args: argparse.Namespace) -> dict[str, object]:
    """Run one stage in this process; return timings (s) and memory (GB)."""
    from arbeidsindikator.estimation import build_design, fit

    code_dtype = np.int16 if args.int16 else np.int32
    warm = make_data(3000, 300, 1)  # load the cached numba kernels before timing anything
    wd = build_design(warm["X"], code_dtype=code_dtype)  # type: ignore[arg-type]
    for fam, name in (("ols", "atid3"), ("probit", "jobb3")):
        r = fit(wd, warm[name], family=fam, cov_type="cluster", groups=warm["person"])  # type: ignore[arg-type]
        fit(wd, warm[name], family=fam)  # type: ignore[arg-type]
        r.predict(wd)
    del warm, wd
    t0 = time.perf_counter()
    n = {"statsmodels": args.statsmodels_rows, "glum": args.glum_rows}.get(stage, args.rows)
    if stage == "statsmodels":
        persons = max(n // 15, 2)
    else:  # glum at --rows: the very data of the other stages
        persons = args.persons if n == args.rows else max(int(n / 15.3), 2)
    data = make_data(n, persons, args.seed)
    out: dict[str, object] = {
        "stage": stage,
        "rows": n,
        "gen_s": time.perf_counter() - t0,
        "rss_data_gb": current_rss_gb(),
    }
    X: pd.DataFrame = data.pop("X")  # type: ignore[assignment]
    ck = {"chunk_rows": args.chunk_rows}
    if stage == "statsmodels":
        return run_statsmodels(X, data, out, ck)
    if stage == "glum":
        return run_glum(X, data, out, ck, code_dtype)
    t = time.perf_counter()
    d = build_design(X, code_dtype=code_dtype)
    out["design_s"] = time.perf_counter() - t
    out["p"] = d.n_columns
    if stage not in ("design", "all4"):
        del X  # the design replaces the DataFrame (all4 needs it for the 12-month design)
    if stage == "ols":
        t = time.perf_counter()
        r = fit(d, data["atid3"], family="ols", outcome="atid3", **ck)
        out["ols_s"] = time.perf_counter() - t
    elif stage == "probit":
        t = time.perf_counter()
        r = fit(d, data["jobb3"], family="probit", outcome="jobb3", **ck)
        out["probit_s"] = time.perf_counter() - t
        out["probit_iter"] = r.n_iter
    elif stage == "cluster":
        t = time.perf_counter()
        fit(d, data["atid3"], family="ols", cov_type="cluster", groups=data["person"], **ck)
        out["ols_cluster_s"] = time.perf_counter() - t
        t = time.perf_counter()
        fit(d, data["jobb3"], family="probit", cov_type="cluster", groups=data["person"], **ck)
        out["probit_cluster_s"] = time.perf_counter() - t
    elif stage == "predict":
        ro = fit(d, data["atid3"], family="ols", **ck)
        rp = fit(d, data["jobb3"], family="probit", **ck)
        t = time.perf_counter()
        for r, y in ((ro, data["atid3"]), (rp, data["jobb3"])):
            pred = r.predict(d, **ck)
            residual_means(y, pred, data["month"], data["county"])  # type: ignore[arg-type]
            del pred
        out["predict_gm_s"] = time.perf_counter() - t
    elif stage == "all4":
        del data["person"]  # not used by the production run (classical SEs)
        design_first = float(out["design_s"])  # type: ignore[arg-type]
        t_all = time.perf_counter()
        for h in (3, 12):
            if h == 12:
                cats = X["innstromming"].cat.categories
                X["innstromming"] = pd.Categorical.from_codes(data["inflow12"], categories=cats)  # type: ignore[arg-type]
                t = time.perf_counter()
                d = build_design(X, code_dtype=code_dtype)
                out["design_s"] = float(out["design_s"]) + time.perf_counter() - t  # type: ignore[arg-type]
            for fam, name in (("ols", f"atid{h}"), ("probit", f"jobb{h}")):
                t = time.perf_counter()
                r = fit(d, data[name], family=fam, outcome=name, **ck)  # type: ignore[arg-type]
                out[f"{name}_fit_s"] = time.perf_counter() - t
                if fam == "probit":
                    out[f"{name}_iter"] = r.n_iter
                t = time.perf_counter()
                pred = r.predict(d, **ck)
                residual_means(data[name], pred, data["month"], data["county"])  # type: ignore[arg-type]
                out[f"{name}_pred_gm_s"] = time.perf_counter() - t
                del pred
            del d
        # fits + predictions + aggregates of all four outcomes, including both design builds
        out["all4_s"] = time.perf_counter() - t_all + design_first
    out["peak_gb"] = peak_rss_gb()
    return out


def run_statsmodels(
    X: pd.DataFrame, data: dict[str, object], out: dict[str, object], ck: dict[str, int]
) -> dict[str, object]:
    """statsmodels OLS and Probit on the dense dummy matrix vs the engine on identical data."""
    import statsmodels.api as sm

    from arbeidsindikator.estimation import build_design, fit

    t = time.perf_counter()
    d = build_design(X)
    out["design_s"] = time.perf_counter() - t
    t = time.perf_counter()
    ro = fit(d, data["atid3"], family="ols", **ck)
    out["ours_ols_s"] = time.perf_counter() - t
    t = time.perf_counter()
    rp = fit(d, data["jobb3"], family="probit", **ck)
    out["ours_probit_s"] = time.perf_counter() - t
    t = time.perf_counter()
    ok = ~np.isnan(data["atid3"])  # type: ignore[call-overload]
    D = np.zeros((int(ok.sum()), d.n_columns))
    D[:, 0] = 1.0
    rows = np.arange(D.shape[0])
    for b in range(d.codes.shape[1]):
        c = d.codes[ok, b]
        hit = c >= 0
        D[rows[hit], c[hit]] = 1.0
    out["sm_dense_s"] = time.perf_counter() - t
    t = time.perf_counter()
    so = sm.OLS(data["atid3"][ok], D).fit()  # type: ignore[index]
    out["sm_ols_s"] = time.perf_counter() - t
    t = time.perf_counter()
    sp = sm.Probit(data["jobb3"][ok], D).fit(disp=0, method="newton")  # type: ignore[index]
    out["sm_probit_s"] = time.perf_counter() - t
    out["ols_max_abs_coef_diff"] = float(np.max(np.abs(ro.params.to_numpy() - so.params)))
    out["ols_max_rel_se_diff"] = float(np.max(np.abs(ro.bse.to_numpy() / so.bse - 1)))
    out["probit_max_abs_coef_diff"] = float(np.max(np.abs(rp.params.to_numpy() - sp.params)))
    out["probit_max_rel_se_diff"] = float(np.max(np.abs(rp.bse.to_numpy() / sp.bse - 1)))
    out["speedup_ols"] = float(out["sm_ols_s"]) / float(out["ours_ols_s"])  # type: ignore[arg-type]
    out["speedup_probit"] = float(out["sm_probit_s"]) / float(out["ours_probit_s"])  # type: ignore[arg-type]
    out["peak_gb"] = peak_rss_gb()
    return out


def _glum_probit_link() -> object:
    """A probit link for glum (3.4 ships none): ``mu = Φ(eta)``; IRLS needs the derivatives."""
    from glum import Link
    from scipy import special

    def phi(x: np.ndarray) -> np.ndarray:
        return np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)

    class ProbitLink(Link):
        def __eq__(self, other: object) -> bool:
            return isinstance(other, ProbitLink)

        def link(self, mu: np.ndarray) -> np.ndarray:
            return special.ndtri(mu)

        def derivative(self, mu: np.ndarray) -> np.ndarray:
            return 1.0 / phi(special.ndtri(mu))

        def inverse(self, lin_pred: np.ndarray) -> np.ndarray:
            eps = 50 * np.finfo(np.float64).eps  # as glum's LogitLink: keep mu inside (0, 1)
            return np.clip(special.ndtr(lin_pred), eps, 1.0 - eps)

        def inverse_derivative(self, lin_pred: np.ndarray) -> np.ndarray:
            return phi(lin_pred)

        def inverse_derivative2(self, lin_pred: np.ndarray) -> np.ndarray:
            return -lin_pred * phi(lin_pred)

    return ProbitLink()


def run_glum(
    X: pd.DataFrame,
    data: dict[str, object],
    out: dict[str, object],
    ck: dict[str, int],
    code_dtype: type[np.integer],
) -> dict[str, object]:
    """This engine, then glum + tabmat, on identical data: OLS atid3 and probit jobb3."""
    import glum
    import tabmat

    from arbeidsindikator.estimation import build_design, fit

    t = time.perf_counter()
    d = build_design(X, code_dtype=code_dtype)
    out["design_s"] = time.perf_counter() - t
    t = time.perf_counter()
    ro = fit(d, data["atid3"], family="ols", outcome="atid3", **ck)  # type: ignore[arg-type]
    out["ols_s"] = time.perf_counter() - t
    t = time.perf_counter()
    rp = fit(d, data["jobb3"], family="probit", outcome="jobb3", **ck)  # type: ignore[arg-type]
    out["probit_s"] = time.perf_counter() - t
    out["probit_iter"] = rp.n_iter
    out["ours_peak_gb"] = peak_rss_gb()
    del d

    # glum needs the rows with an outcome (atid3 and jobb3 are missing in the same months)
    y_ols, y_probit = np.asarray(data["atid3"]), np.asarray(data["jobb3"])
    t = time.perf_counter()
    ok = ~np.isnan(y_ols)
    M = tabmat.from_df(X[ok], drop_first=True, categorical_format="{name}[{category}]")
    out["glum_design_s"] = time.perf_counter() - t
    del X
    out["glum_threads"] = os.environ.get("OMP_NUM_THREADS", "all")
    for key, ours, family, link, y in (
        ("ols", ro, "normal", "identity", y_ols[ok]),
        ("probit", rp, "binomial", _glum_probit_link(), y_probit[ok]),
    ):
        model = glum.GeneralizedLinearRegressor(
            family=family, link=link, alpha=0, drop_first=True, gradient_tol=GLUM_GRADIENT_TOL
        )
        t = time.perf_counter()
        model.fit(M, y)
        out[f"glum_{key}_s"] = time.perf_counter() - t
        if key == "probit":
            out["glum_probit_iter"] = int(model.n_iter_)
        # glum names dummies "{block}[{level}]" like this engine; its intercept is our "const"
        g = pd.Series(np.r_[model.intercept_, model.coef_], index=["const", *model.feature_names_])
        common = ours.params.index.intersection(g.index)
        out[f"{key}_unmatched_coefs"] = len(ours.params.index.symmetric_difference(g.index))
        out[f"{key}_max_abs_coef_diff"] = float(np.max(np.abs(ours.params[common] - g[common])))
        out[f"speedup_{key}"] = out[f"glum_{key}_s"] / out[f"{key}_s"]  # type: ignore[operator]
    ours_total = sum(float(out[k]) for k in ("design_s", "ols_s", "probit_s"))  # type: ignore[arg-type]
    glum_total = sum(float(out[k]) for k in ("glum_design_s", "glum_ols_s", "glum_probit_s"))  # type: ignore[arg-type]
    out["speedup_total"] = glum_total / ours_total
    out["peak_gb"] = peak_rss_gb()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2_000_000, help="person-months (production: ~23 M)")
    ap.add_argument("--persons", type=int, default=None, help="distinct persons (default rows / 15.3)")
    ap.add_argument("--statsmodels-rows", type=int, default=1_000_000)
    ap.add_argument("--skip-statsmodels", action="store_true")
    ap.add_argument("--glum-rows", type=int, default=None, help="rows of the glum stage (default: --rows)")
    ap.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated subset of {STAGES}")
    ap.add_argument("--chunk-rows", type=int, default=1_000_000)
    ap.add_argument("--int16", action="store_true", help="build designs with int16 codes")
    ap.add_argument(
        "--threads", type=int, default=None, help="numba threads; glum stage: also OpenMP (default: all cores)"
    )
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--stage", help=argparse.SUPPRESS)  # internal: run one stage, print JSON
    args = ap.parse_args()
    if args.persons is None:
        args.persons = max(int(args.rows / 15.3), 2)
    if args.glum_rows is None:
        args.glum_rows = args.rows
    if args.stage:
        print(json.dumps(run_stage(args.stage, args)))
        return
    stages = [s for s in args.stages.split(",") if s]
    if not args.skip_statsmodels:
        stages.append("statsmodels")
    # compile (or load) the numba kernels once so that no stage pays for compilation
    warm_cmd = [sys.executable, __file__, "--stage", "design", "--rows", "2000", "--persons", "100"]
    subprocess.run(warm_cmd + (["--int16"] if args.int16 else []), check=True, capture_output=True)
    results = []
    for stage in stages:
        cmd = [
            sys.executable,
            __file__,
            "--stage",
            stage,
            "--rows",
            str(args.rows),
            "--persons",
            str(args.persons),
            "--statsmodels-rows",
            str(args.statsmodels_rows),
            "--glum-rows",
            str(args.glum_rows),
            "--chunk-rows",
            str(args.chunk_rows),
            "--seed",
            str(args.seed),
        ]
        if args.int16:
            cmd.append("--int16")
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
        if args.threads:
            env["NUMBA_NUM_THREADS"] = str(args.threads)
            if stage == "glum":
                env["OMP_NUM_THREADS"] = str(args.threads)  # glum / tabmat use OpenMP
        load0, t0 = load_average(), time.strftime("%H:%M:%S", time.gmtime())
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            print(f"stage {stage} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
            continue
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        res["load"] = f"{t0} UTC {load0} -> {time.strftime('%H:%M:%S', time.gmtime())} UTC {load_average()}"
        results.append(res)
        print(json.dumps(res), file=sys.stderr)
    print(f"\n{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC  load average (1/5/15 min) {load_average()}  "
          f"cores {os.cpu_count()}  OMP_NUM_THREADS {os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print(
        f"rows {args.rows:,}  persons {args.persons:,}  numba threads {args.threads or os.cpu_count()}  "
        f"codes {'int16' if args.int16 else 'int32'}  chunk_rows {args.chunk_rows:,}"
    )
    print(f"{'stage':<12} {'rows':>11} {'timings (s)':<78} {'data GB':>8} {'peak GB':>8}")
    skip = {"stage", "rows", "rss_data_gb", "peak_gb", "p", "gen_s", "load"}
    for r in results:
        figs = "  ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items() if k not in skip)
        print(f"{r['stage']:<12} {r['rows']:>11,} {figs:<78} {r['rss_data_gb']:>8.2f} {r['peak_gb']:>8.2f}")
        print(f"{'':<12} load average during the stage: {r['load']}")
    glum = [r for r in results if r["stage"] == "glum"]
    if glum:  # the goal: >= 5x faster than glum, overall and per model
        g = glum[0]
        print("glum / ours: " + "  ".join(f"{k.removeprefix('speedup_')} {float(g[k]):.2f}x" for k in
                                          ("speedup_ols", "speedup_probit", "speedup_total") if k in g)
              + "  (goal >= 5x each)")


if __name__ == "__main__":
    main()
