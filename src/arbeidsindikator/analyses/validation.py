"""Proof by simulation: do the intervals cover, and does the indicator find planted effects? (issue 14)

A data-generating process with known truth, simulated directly here (not with the big
generator, so that hundreds of replications run in minutes):

* persons with a fixed office (offices nested in counties), a spell of consecutive months,
  fixed categorical characteristics (age group, sex) and a time-varying one (benefit type);
* ``y = α + x'β + county_c + office_o + month_t + u_p + ε_it`` with a **persistent person
  component** ``u_p ~ N(0, σ_u²)`` and ``ε ~ N(0, σ_e²)``; county, office and month effects are
  the planted truth, fixed across replications; ``u`` and ``ε`` are redrawn.

The model (as the report's) regresses y on the characteristics only; the indicator of group g
is the mean residual. Its expectation given the design is ``mean_g(M f)`` (``f`` the fixed part,
``M`` the residual maker), so every statistic's true value is known exactly. Per replication
every interval method of :mod:`uncertainty` is computed for national, county and office
statistics; the study reports coverage of nominal 50/80/95 %, mean SE / Monte-Carlo SD, bias,
and the recovery of planted county and office contributions (correlation, RMSE, raw and after
empirical-Bayes shrinkage). Results are cached by parameters and code fingerprint.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from arbeidsindikator.estimation import build_design, fit
from arbeidsindikator.io import atomic_write
from arbeidsindikator.analyses import funnel as fn
from arbeidsindikator.analyses import uncertainty as unc
from arbeidsindikator.config import Window


@dataclass(frozen=True)
class SimSpec:
    """Parameters of the data-generating process and the study (all seeds are parameters)."""

    n_persons: int = 800
    n_months: int = 24
    n_counties: int = 5
    offices_per_county: int = 4
    mean_spell: float = 12.0
    sigma_person: float = 3.0
    sigma_noise: float = 4.0
    sd_county: float = 1.0
    sd_office: float = 0.7
    replications: int = 200
    multiplier_replicates: int = 100
    refit_replications: int = 20  # the refit bootstrap runs in the first few replications only
    refit_replicates: int = 50
    levels: tuple[str, ...] = ("person", "observation")
    seed: int = 20261201


@dataclass
class Design0:
    """The fixed design of the study and its truth."""

    frame: pd.DataFrame  # person_id, month, county, office, age, sex, benefit
    f: np.ndarray  # fixed part of y
    county_effect: pd.Series
    office_effect: pd.Series
    months: pd.DatetimeIndex


def simulate_design(spec: SimSpec) -> Design0:
    """Persons, spells, offices and the fixed part of the outcome (planted effects)."""
    rng = np.random.default_rng(spec.seed)
    months = pd.date_range("2018-01-01", periods=spec.n_months, freq="MS")
    n_off = spec.n_counties * spec.offices_per_county
    # office sizes vary (small offices are the point of the funnel)
    off_w = rng.gamma(1.5, 1.0, n_off)
    office = rng.choice(n_off, spec.n_persons, p=off_w / off_w.sum())
    start = rng.integers(-6, spec.n_months, spec.n_persons)
    length = rng.geometric(1 / spec.mean_spell, spec.n_persons)
    age = rng.integers(0, 5, spec.n_persons)
    sex = rng.integers(0, 2, spec.n_persons)
    rows = []
    for p in range(spec.n_persons):
        a, b = max(start[p], 0), min(start[p] + length[p], spec.n_months)
        if b > a:
            rows.append(np.column_stack([np.full(b - a, p), np.arange(a, b)]))
    pm = np.concatenate(rows)
    pid, t = pm[:, 0], pm[:, 1]
    benefit = rng.choice(3, pid.size, p=[0.5, 0.3, 0.2])
    county_eff = rng.normal(0, spec.sd_county, spec.n_counties)
    office_eff = rng.normal(0, spec.sd_office, n_off)
    month_eff = 0.8 * np.sin(np.arange(spec.n_months) * 2 * np.pi / 12) + np.linspace(0, 1, spec.n_months)
    beta_age = np.array([0.0, 2.0, 3.0, 1.0, -2.0])
    beta_sex = np.array([0.0, -1.0])
    beta_ben = np.array([0.0, -3.0, 1.5])
    oc = office // spec.offices_per_county
    f = (8.0 + beta_age[age[pid]] + beta_sex[sex[pid]] + beta_ben[benefit] + county_eff[oc[pid]]
         + office_eff[office[pid]] + month_eff[t])
    frame = pd.DataFrame({
        "person_id": pid + 1, "month": months[t], "county": [f"c{c}" for c in oc[pid]],
        "office": [f"o{o:02d}" for o in office[pid]], "age": pd.Categorical(age[pid]), "sex": pd.Categorical(sex[pid]),
        "benefit": pd.Categorical(benefit),
    })
    return Design0(frame=frame, f=f, county_effect=pd.Series(county_eff, index=[f"c{c}" for c in range(spec.n_counties)]),
                   office_effect=pd.Series(office_eff + county_eff[np.arange(n_off) // spec.offices_per_county],
                                           index=[f"o{o:02d}" for o in range(n_off)]),
                   months=months)


def _windows(months: pd.DatetimeIndex) -> tuple[Window, ...]:
    return (Window(months[0].to_period("M"), months[-1].to_period("M")),)


def _layout_parts(d0: Design0) -> tuple[dict[str, np.ndarray], dict[str, pd.Index], np.ndarray]:
    labels, codes = {}, {}
    fr = d0.frame
    codes["national"] = np.zeros(len(fr), dtype=np.int64)
    labels["national"] = pd.Index(["Norge"])
    for g, col in (("county", "county"), ("office", "office")):
        cat = pd.Categorical(fr[col])
        codes[g] = cat.codes.astype(np.int64)
        labels[g] = pd.Index(cat.categories)
    return codes, labels, d0.months.get_indexer(pd.DatetimeIndex(fr["month"]))


def truth_table(d0: Design0, design, codes, labels, month_idx) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """True value of every statistic: the statistic of ``M f`` (exact, design fixed)."""
    res = fit(design, d0.f, family="ols")
    layout, chunks = unc.design_chunks(design, d0.f, res, d0.frame["person_id"].to_numpy(), month_idx, d0.months,
                                       codes, labels, outcome="sim", family="ols", level="person")
    inf = unc.accumulate(layout, res, chunks)
    t = unc.summarise(inf, _windows(d0.months), ["analytic_person"])
    return t.drop(columns=[c for c in t.columns if c not in ("grouping", "unit", "statistic", "period", "indicator")]) \
        .rename(columns={"indicator": "truth"})


def one_replication(d0: Design0, spec: SimSpec, design, codes, labels, month_idx, rep: int) -> tuple[pd.DataFrame, dict]:  # type: ignore[no-untyped-def]
    """All interval methods on one draw of person effects and noise."""
    rng = np.random.default_rng([spec.seed, rep])
    pid = d0.frame["person_id"].to_numpy()
    u = rng.normal(0, spec.sigma_person, pid.max() + 1)[pid]
    y = d0.f + u + rng.normal(0, spec.sigma_noise, pid.size)
    res = fit(design, y, family="ols", outcome="sim")
    parts = []
    win = _windows(d0.months)
    layout, chunks = unc.design_chunks(design, y, res, pid, month_idx, d0.months, codes, labels, outcome="sim",
                                       family="ols")
    R = spec.multiplier_replicates
    infs = unc.accumulate_levels(layout, res, chunks, replicates=R if "person" in spec.levels else 0,
                                 obs_replicates=R if "observation" in spec.levels else 0, seed=spec.seed + rep,
                                 levels=tuple(spec.levels))  # type: ignore[arg-type]
    for lv in spec.levels:
        inf = infs[lv]
        methods = ([] if lv == "observation" else ["printed", "residual"]) + [f"analytic_{lv}"]
        methods += [f"multiplier_{lv}"] if spec.multiplier_replicates else []
        curves = None
        if rep < spec.refit_replications:
            T = len(d0.months)
            gids = {g: c * T + month_idx for g, c in codes.items()}
            rb = unc.refit_design(design, y, "ols", "sim", pid, gids, {g: len(labels[g]) * T for g in codes},
                                  replicates=spec.refit_replicates, seed=spec.seed + 7 * rep + (lv == "person"), level=lv)
            curves = {f"refit_{lv}": rb.curves}
            methods.append(f"refit_{lv}")
        parts.append(unc.summarise(inf, win, methods, curves))
    t = pd.concat(parts, ignore_index=True)
    t["rep"] = rep
    # recovery of planted contributions (period statistic, person-clustered SEs)
    rec = {}
    for g, planted in (("county", d0.county_effect), ("office", d0.office_effect)):
        ut = fn.unit_table(t, "sim", g, "analytic_person")
        fr = fn.funnel(ut)
        est = fr.units.set_index("unit")
        w = est["n"] / est["n"].sum()
        target = planted.reindex(est.index)
        target = target - float((target * w).sum())  # the indicator is relative to the national level
        for kind, col in (("raw", "indicator"), ("shrunken", "shrunken")):
            e = est[col] - float((est[col] * w).sum())
            rec[(g, kind)] = {"corr": float(np.corrcoef(e, target)[0, 1]), "rmse": float(np.sqrt(np.mean((e - target) ** 2)))}
        rec[(g, "phi")] = {"corr": fr.phi, "rmse": fr.tau2}
    return t, rec


def run_study(spec: SimSpec = SimSpec()) -> dict[str, pd.DataFrame]:
    """Run all replications; summaries per method × grouping × statistic, and recovery."""
    t0 = time.perf_counter()
    d0 = simulate_design(spec)
    codes, labels, month_idx = _layout_parts(d0)
    design = build_design(d0.frame[["age", "sex", "benefit"]])
    truth = truth_table(d0, design, codes, labels, month_idx)
    tabs, recs = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for rep in range(spec.replications):
            t, rec = one_replication(d0, spec, design, codes, labels, month_idx, rep)
            tabs.append(t[["grouping", "unit", "statistic", "period", "method", "indicator", "se", "n", "rep"]
                          + [c for c in t.columns if c.startswith(("lower_", "upper_"))]])
            recs.append(pd.DataFrame([{"grouping": g, "kind": k, **v, "rep": rep} for (g, k), v in rec.items()]))
    allt = pd.concat(tabs, ignore_index=True).merge(truth, on=["grouping", "unit", "statistic", "period"], how="left")
    return {"coverage": summarise_coverage(allt), "recovery": summarise_recovery(pd.concat(recs, ignore_index=True)),
            "seconds": pd.DataFrame({"seconds": [time.perf_counter() - t0]})}


def summarise_coverage(allt: pd.DataFrame, min_cell: int = 10) -> pd.DataFrame:
    """Coverage at 50/80/95 %, mean SE / Monte-Carlo SD and bias per method × grouping × statistic.

    Only cells the book would publish (at least ``min_cell`` person-months) count; statistics
    that are identically zero by construction (the national period mean of an OLS indicator)
    are left out.
    """
    a = allt[allt["n"] >= min_cell].copy()
    for lv in (50, 80, 95):
        a[f"cov{lv}"] = (a[f"lower_{lv}"] <= a["truth"]) & (a["truth"] <= a[f"upper_{lv}"])
    a["err"] = a["indicator"] - a["truth"]
    key = ["grouping", "statistic", "method", "unit", "period"]
    cell = a.groupby(key, observed=True, dropna=False).agg(
        se=("se", "mean"), sd=("indicator", "std"), bias=("err", "mean"), reps=("rep", "nunique"),
        cov50=("cov50", "mean"), cov80=("cov80", "mean"), cov95=("cov95", "mean"))
    cell = cell[cell["sd"] > 1e-9]
    out = cell.groupby(["grouping", "statistic", "method"], observed=True).agg(
        coverage_50=("cov50", "mean"), coverage_80=("cov80", "mean"), coverage_95=("cov95", "mean"),
        se_over_sd=("se", "sum"), sd_sum=("sd", "sum"), bias=("bias", "mean"), abs_bias_over_sd=("bias", lambda b: 0.0),
        replications=("reps", "max"), cells=("se", "size"))
    out["se_over_sd"] = out["se_over_sd"] / out["sd_sum"]
    rel = (cell["bias"].abs() / cell["sd"]).groupby(level=["grouping", "statistic", "method"], observed=True).mean()
    out["abs_bias_over_sd"] = rel
    return out.drop(columns="sd_sum").reset_index()


def summarise_recovery(rec: pd.DataFrame) -> pd.DataFrame:
    """Mean correlation and RMSE between estimated and planted unit contributions (raw, shrunken)."""
    r = rec[rec["kind"] != "phi"].groupby(["grouping", "kind"]).agg(correlation=("corr", "mean"), rmse=("rmse", "mean"))
    phi = rec[rec["kind"] == "phi"].groupby("grouping").agg(phi=("corr", "mean"), tau2=("rmse", "mean"))
    return r.reset_index().merge(phi.reset_index(), on="grouping", how="left")


_STUDY_TABLES = ("coverage", "recovery", "seconds")


def study_folder(cache_dir: Path, spec: SimSpec = SimSpec()) -> Path:
    """Where :func:`cached_study` keeps the study: keyed by the parameters and the sources of the
    modules it runs (a code change recomputes it)."""
    import hashlib

    key = hashlib.sha256((json.dumps(asdict(spec), sort_keys=True) + unc._module_fingerprint()).encode()).hexdigest()[:16]
    return Path(cache_dir) / f"validation-{key}"


def study_is_cached(cache_dir: Path, spec: SimSpec = SimSpec()) -> bool:
    """True when :func:`cached_study` would read the study instead of running it."""
    folder = study_folder(cache_dir, spec)
    return all((folder / f"{n}.parquet").exists() for n in _STUDY_TABLES)


def cached_study(cache_dir: Path, spec: SimSpec = SimSpec()) -> dict[str, pd.DataFrame]:
    """:func:`run_study`, cached on disk by the parameters and the sources of the modules it runs."""
    folder = study_folder(cache_dir, spec)
    if study_is_cached(cache_dir, spec):
        return {n: pd.read_parquet(folder / f"{n}.parquet") for n in _STUDY_TABLES}
    out = run_study(spec)
    folder.mkdir(parents=True, exist_ok=True)
    for n in _STUDY_TABLES:
        atomic_write(folder / f"{n}.parquet", lambda p, n=n: out[n].to_parquet(p, index=False))
    return out


def verdicts(coverage: pd.DataFrame, lo: float = 0.93, hi: float = 0.97) -> pd.DataFrame:
    """Per method: pooled 95 % coverage and SE/SD for monthly cells and for multi-month means, and a verdict.

    A method is trusted for a use when its pooled 95 % coverage lies in [lo, hi]; 'too wide'
    above, 'too narrow' below; 'not computed' where the method gives no such intervals.
    """
    c = coverage.assign(kind=np.where(coverage["statistic"].isin(["month", "month_adjusted"]), "monthly",
                                      "tertial / period"))
    rows = []
    for m, g in c.groupby("method", sort=False):
        row: dict[str, object] = {"method": m}
        for kind in ("monthly", "tertial / period"):
            k = g[g["kind"] == kind]
            if k.empty:
                row[f"coverage 95 % ({kind})"] = np.nan
                row[f"SE/SD ({kind})"] = np.nan
                row[f"verdict ({kind})"] = "not computed"
                continue
            cov = float((k["coverage_95"] * k["cells"]).sum() / k["cells"].sum())
            row[f"coverage 95 % ({kind})"] = cov
            row[f"SE/SD ({kind})"] = float((k["se_over_sd"] * k["cells"]).sum() / k["cells"].sum())
            row[f"verdict ({kind})"] = "trusted" if lo <= cov <= hi else ("too wide" if cov > hi else "too narrow")
        rows.append(row)
    return pd.DataFrame(rows)


if __name__ == "__main__":  # python -m arbeidsindikator.analyses.validation CACHE_DIR (book.build runs it beside the preparation)
    import signal
    import sys

    # SIGTERM (BackgroundStudy.stop) as SystemExit, so an atomic write in progress removes its temporary file
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    Path(sys.argv[1]).mkdir(parents=True, exist_ok=True)  # fail before the study, not after it
    cached_study(Path(sys.argv[1]))
