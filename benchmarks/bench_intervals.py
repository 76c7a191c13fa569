"""Benchmark of the interval methods (arbeidsindikator.analyses.uncertainty) on a synthetic design.

The design is bench_models.py's (18 blocks, 249 columns, persons over 79 months). Groupings as
the book's: national, county (15), office (``--offices``), service group (7), programme (10),
youth guarantee and country group 3 (flags). For each of the four outcomes: the fit, then

* ``analytic``: the person-clustered analytic intervals of every curve (monthly, adjusted,
  tertials, period) for every grouping;
* ``multiplier``: ``--replicates`` multiplier-bootstrap replicates of the same curves;
* ``refit``: the time of one refit replicate (weighted fit + prediction + regrouping).

Peak memory is the process's ``ru_maxrss``. Goals (issue 14): full scale (23 M rows, 1.5 M
persons, four outcomes) analytic ≤ 3 min, 200 multiplier replicates ≤ 15 min, ≤ 8 GB.

Measured 2026-12-01 (2 cores shared with ~7 other jobs, load average 8–12, so these are
upper bounds): 2 M rows, 130 000 persons, 250 offices, all four outcomes: analytic 237 s,
200 multiplier replicates 322 s, peak 1.29 GB; refit 2.5–4.0 s (OLS) and 6.9–7.2 s (probit)
per replicate, i.e. 1.15 h for 200 replicates of the four outcomes. Full scale could not be run
under that load; linear extrapolation (×11.5 rows) gives ~45 min analytic and ~60 min
multiplier: the goals (3 and 15 min) are not met yet. Time goes to the per-person kernel of
pass 2 (a person's score vector is added to each of its groups in 7 groupings) and to pass 1's
per-grouping bincounts and distinct-person counts.

Usage::

    PYTHONPATH=src python benchmarks/bench_intervals.py --rows 23_000_000 --persons 1_500_000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_models import N_MONTHS, make_data, peak_rss_gb  # noqa: E402

from arbeidsindikator.analyses import uncertainty as unc  # noqa: E402
from arbeidsindikator.config import Window  # noqa: E402
from arbeidsindikator.estimation import SeparationWarning, build_design, fit  # noqa: E402

OUTCOMES = {"atid3": "ols", "jobb3": "probit", "atid12": "ols", "jobb12": "probit"}


def groupings(data: dict, offices: int, seed: int) -> tuple[dict[str, np.ndarray], dict[str, pd.Index]]:
    rng = np.random.default_rng(seed)
    person = data["person"]
    n = person.size
    p_office = rng.integers(0, offices, int(person.max()) + 1)
    codes = {
        "national": np.zeros(n, dtype=np.int64),
        "county": data["county"].astype(np.int64),
        "office": p_office[person].astype(np.int64),
        "service_group": rng.integers(0, 7, n).astype(np.int64),
        "programme": np.where(rng.random(n) < 0.3, rng.integers(0, 10, n), -1).astype(np.int64),
        "youth_guarantee": np.where(rng.random(n) < 0.15, 0, -1).astype(np.int64),
        "country_group_3": np.where(rng.random(n) < 0.2, 0, -1).astype(np.int64),
    }
    labels = {"national": pd.Index(["Norge"]), "county": pd.Index([f"f{i}" for i in range(15)]),
              "office": pd.Index([f"o{i}" for i in range(offices)]), "service_group": pd.Index([f"s{i}" for i in range(7)]),
              "programme": pd.Index([f"t{i}" for i in range(10)]), "youth_guarantee": pd.Index(["ja"]),
              "country_group_3": pd.Index(["ja"])}
    return codes, labels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--persons", type=int, default=None, help="default rows / 15.3")
    ap.add_argument("--offices", type=int, default=250)
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--outcomes", default=",".join(OUTCOMES))
    ap.add_argument("--chunk-rows", type=int, default=250_000)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    persons = args.persons or int(args.rows / 15.3)
    t0 = time.perf_counter()
    data = make_data(args.rows, persons, args.seed)
    codes, labels = groupings(data, args.offices, args.seed + 1)
    months = pd.date_range("2017-12-01", periods=N_MONTHS, freq="MS")
    month_idx = data["month"].astype(np.int64)
    win = (Window(pd.Period("2017-12", "M"), pd.Period("2019-11", "M")), Window(pd.Period("2022-04", "M"), pd.Period("2023-03", "M")))
    print(f"data: {args.rows:,} rows, {persons:,} persons, {time.perf_counter() - t0:.1f} s, peak {peak_rss_gb():.2f} GB", flush=True)
    designs: dict[int, object] = {}
    out: dict[str, dict[str, float]] = {}
    totals = {"analytic": 0.0, "multiplier": 0.0}
    for o in args.outcomes.split(","):
        fam = OUTCOMES[o]
        y = data[o]
        h = 3 if o.endswith("3") else 12
        if h not in designs:
            designs.clear()
            designs[h] = build_design(data["X"], mask=~np.isnan(y))
        design = designs[h]
        t1 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SeparationWarning)
            res = fit(design, y, family=fam, outcome=o)
        t_fit = time.perf_counter() - t1
        rec: dict[str, float] = {"fit_s": t_fit}
        for kind, R in (("analytic", 0), ("multiplier", args.replicates)):
            t2 = time.perf_counter()
            layout, chunks = unc.design_chunks(design, y, res, data["person"], month_idx, months, codes, labels,
                                               outcome=o, family=fam, level="person", chunk_rows=args.chunk_rows)
            inf = unc.accumulate(layout, res, chunks, replicates=R, seed=args.seed)
            methods = ["analytic_person"] + (["multiplier_person"] if R else [])
            table = unc.summarise(inf, win, methods)
            rec[f"{kind}_s"] = time.perf_counter() - t2
            rec[f"{kind}_rows_out"] = len(table)
            totals[kind] += rec[f"{kind}_s"]
            del inf, table
            print(f"{o} {kind}: {rec[f'{kind}_s']:.1f} s (peak {peak_rss_gb():.2f} GB)", flush=True)
        # one refit replicate: weighted fit by person + prediction + regrouping
        t3 = time.perf_counter()
        rng = np.random.default_rng(args.seed)
        w = np.bincount(rng.integers(0, persons, persons), minlength=persons).astype(float)[data["person"]]
        r2, d2, _, _ = unc.fit_replicate(design, y, fam, o, w)
        if r2 is not None:
            pred = r2.predict(d2, unseen="nan")
            resid = np.where(w > 0, y - pred, 0.0)
            for g, c in codes.items():
                sel = (c >= 0) & ~np.isnan(y)
                np.bincount(c[sel] * N_MONTHS + month_idx[sel], weights=(w * resid)[sel])
        rec["refit_per_replicate_s"] = time.perf_counter() - t3
        print(f"{o} refit: {rec['refit_per_replicate_s']:.1f} s per replicate", flush=True)
        out[o] = rec
    summary = {
        "rows": args.rows, "persons": persons, "offices": args.offices, "replicates": args.replicates,
        "analytic_total_s": round(totals["analytic"], 1), "multiplier_total_s": round(totals["multiplier"], 1),
        "peak_gb": round(peak_rss_gb(), 2), "per_outcome": out,
        "refit_200_replicates_all_outcomes_h": round(sum(v["refit_per_replicate_s"] for v in out.values()) * 200 / 3600, 2),
    }
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
