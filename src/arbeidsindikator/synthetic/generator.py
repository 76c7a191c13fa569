"""Calibrated, seeded generator of synthetic raw register extracts at any scale (issue 3 (b)).

The generator writes the tables of the input contract (:mod:`arbeidsindikator.data.extracts`) — persons,
monthly NAV status (with five years of history), agreed working hours, wages, pensionable
income, offices, commuting-region inflow and G — for ``n_persons`` persons who are all in the
population at least once in the analysis period. The panel is then built from these files by
:mod:`arbeidsindikator.panel.build` exactly as from real extracts, so the synthetic default exercises
the whole pipeline.

How the data are made (one month at a time, vectorised over a chunk of persons):

* **Persons and spells.** Each person has a *focal* NAV spell overlapping the period (job seeker,
  reduced work capacity or other), possibly earlier and later spells, short gaps (which the spell
  rule with a 3-month gap merges, a 2-month gap does not), transitions into "varig tilpasset"
  (excluded by the panel builder) and the COVID furlough waves (``covid_share`` of the persons,
  registering in March–May 2020 and October 2020 – January 2021, :data:`COVID_ENTRY`): most
  are recalled to their job within a few months and deregister, and NAV leaves most of them
  unassessed ("ikke vurdert"), so all four outcomes jump in spring 2020 (seed 002 ch. 3).
  Attributes (age, sex, country group, immigration, marriage, children, higher education,
  benefits, programmes) follow the published shares of seed 002 appendix A tables 1–2.
* **Hours.** A person holds a job (weekly hours) that is kept from month to month with a
  probability that depends on its size; without a job, a new one starts with probability
  ``softplus(μ) / E[hours]``, so that ``μ`` is (about) the expected hours of the next month.
  ``μ`` is the sum of the **published table-4 coefficients for atid3** of the person's latest
  row (age, children, country group × residence time, marital status, sex, higher education,
  pre-entry income, NAV history and duration, benefits, furlough, hours at t, commuting-region
  inflow), a correction ``theta_delta`` that undoes the dilution of the coefficients by job
  persistence (fitted by :func:`calibrate`), seasonality (:data:`SEASON` on job finding and
  :data:`HOURS_SEASON` on the hours of a month), a COVID shock, person heterogeneity and
  the **planted NAV contributions** of office, programme and a NAV-wide effect over time. The
  job-finding probability is lowered in the month after a spell's first month (``entry_pen``:
  it sets the level of table 4's duration block, which ``theta_delta`` cannot, because a row's
  μ governs only the next month while the outcome spans three); furloughed persons are recalled
  with a multiple of their job-finding probability. The
  job-finding probability is then multiplied by main-group and service-group factors (unobserved
  user characteristics) and by the planted **county** factor; main group, service group and
  county also shift the share of jobs over 19 hours and the chance to keep a job. A second,
  *counterfactual* hours path with the same random numbers but without the planted
  contributions gives their true effect on each outcome (written to ``truth/``).
* **Geography.** Offices, commuting regions, their inflow series and the office effects are
  drawn once from :data:`GEO_SEED`, the same for every seed of a given period (the fixed real
  world; the persons are the random sample), so county and office figures are comparable
  across seeds. (A different period changes the inflow series and, with them, the office draws.)
* **Calibration.** Offsets, shares and spell parameters in :data:`CALIBRATED` (the data file
  ``calibrated.json``, schema in :mod:`arbeidsindikator.synthetic.params`) were fitted by
  :func:`calibrate` towards the published marginals and table 4's atid3 pattern. The model
  alone does not reach every marginal, so the last step *tilts* the sample
  (:func:`fit_tilt`, :mod:`arbeidsindikator.synthetic.tilt`): more candidate persons are simulated than
  needed and each is kept with a probability given by bounded calibration weights on its
  contributions to the published figures of tables 1–3 (about one in four is kept). Kept
  persons are whole, unchanged simulated lives. :func:`calibration_table` makes the
  comparison; ``tests/synthetic/test_synthetic_extracts.py`` checks it on a seed not used for fitting.
* **Parallel.** Chunk k of candidates depends only on the seed and k, so chunks are simulated
  in up to two worker processes (``workers``) with the same result as in one.

Modules of the package: :mod:`~arbeidsindikator.synthetic.world` (fixed structure, set-up),
:mod:`~arbeidsindikator.synthetic.simulate` (the month loop), this module (candidates, the
tilt's selection, writing the extracts), :mod:`~arbeidsindikator.synthetic.truth` (planted
truth), :mod:`~arbeidsindikator.synthetic.targets` (published figures),
:mod:`~arbeidsindikator.synthetic.calibrate` (fitting), :mod:`~arbeidsindikator.synthetic.params`
(the calibrated parameters and their schema), :mod:`~arbeidsindikator.synthetic.tilt` (the
calibration weights) and :mod:`~arbeidsindikator.synthetic.registrations` (profiling inputs,
seed 003).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from arbeidsindikator import io as _io
from arbeidsindikator.data import extracts as _extracts
from arbeidsindikator.data.contract import FYLKER, HOVEDGRUPPER
from arbeidsindikator.data.reference import reference_dir
from arbeidsindikator.data.extracts import (
    DEFAULT_G_PATH, INNSATSGRUPPER_RAW, TILTAK, Manifest, index_to_month, write_manifest,
)
from arbeidsindikator.panel.outcomes import HORIZONS, WEEKS_PER_MONTH
from arbeidsindikator.synthetic.growth import write_growth  # the optional growth extract (issue 13)
from arbeidsindikator.synthetic.params import CALIBRATED, write_calibrated
from arbeidsindikator.synthetic.simulate import _Chunk, _in_period, _chunk_panel, _chunk_rows, _dates, _simulate, _subset
from arbeidsindikator.synthetic.targets import _person_moments
from arbeidsindikator.synthetic.truth import _truth_chunk, _truth_frames, load_truth
from arbeidsindikator.synthetic.world import (
    CHUNK_PERSONS, COVID_ENTRY, GENERATOR_VERSION, PROGRAMME_EFFECT, TILTAK_CODES, _MISSING, _Setup, _setup,
)

__all__ = [
    "GENERATOR_VERSION",
    "CALIBRATED",
    "CHUNK_PERSONS",
    "generate_extracts",
    "generator_fingerprint",
    "generator_inputs",
    "load_truth",
    "write_calibrated",
]



def _dict(codes: np.ndarray, values: list[str]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int16)), pa.array(values, type=pa.string()))


class _Writers:
    """One streaming parquet writer per table, each to a temporary file renamed when closed."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.w: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = {}

    def write(self, name: str, table: pa.Table) -> None:
        if name not in self.w:
            tmp = self.folder / f".{name}.parquet.tmp"
            self.w[name] = pq.ParquetWriter(tmp, table.schema, compression="zstd", compression_level=1)
            self.rows[name] = 0
        self.w[name].write_table(table, row_group_size=1 << 20)
        self.rows[name] += table.num_rows

    def close(self) -> None:
        for name, w in self.w.items():
            w.close()
            os.replace(self.folder / f".{name}.parquet.tmp", self.folder / f"{name}.parquet")


def _emit(su: _Setup, ch: _Chunk, wr: _Writers) -> None:
    F = su.sim_first
    n = len(ch.pid)
    kjonn = np.where(ch.female, "K", "M")
    immig = np.where(ch.immig == _MISSING, 0, ch.immig)
    wr.write("personer", pa.table({
        "person_id": pa.array(ch.pid),
        "fodt": _dates(ch.birth),
        "kjonn": pa.array(kjonn, type=pa.string()),
        "landgruppe": pa.array(ch.lg.astype(np.int64)),
        "innvandret": pa.array(_dates(immig).to_numpy(zero_copy_only=False), type=pa.date32(),
                               mask=ch.immig == _MISSING),
    }))
    ncol = su.end - F + 1
    r, c = np.nonzero(ch.IG[:, :ncol] >= 0)
    fl = ch.FLAGS[r, c]
    wr.write("status", pa.table({
        "person_id": pa.array(ch.pid[r]),
        "month": _dates(F + c),
        "innsatsgruppe": _dict(ch.IG[r, c], list(INNSATSGRUPPER_RAW)),
        "hovedgruppe": _dict(ch.HG[r, c], list(HOVEDGRUPPER)),
        "nav_kontor": _dict(ch.office[r], su.geo.office_codes),
        "aap": pa.array((fl & 1) > 0), "sykepenger": pa.array((fl & 2) > 0), "dagpenger": pa.array((fl & 4) > 0),
        "overgangsstonad": pa.array((fl & 8) > 0), "uforetrygd": pa.array((fl & 16) > 0),
        "permittert": pa.array((fl & 32) > 0),
        "tiltak": _dict(ch.PROG[r, c], list(TILTAK_CODES)),
        "gift": pa.array(ch.GIFT[r, c]), "barn": pa.array(ch.BARN[r, c].astype(np.int64)),
        "hoyere_utd": pa.array(ch.HOY[r, c]),
    }))
    j0, j1 = su.start - F, su.hours_end - F
    r, c = np.nonzero(ch.JF[:, j0:j1 + 1] > 0)
    wr.write("timer", pa.table({
        "person_id": pa.array(ch.pid[r]), "month": _dates(su.start + c),
        "timer": pa.array(np.round(ch.JF[r, j0 + c].astype(np.float64) * WEEKS_PER_MONTH, 1)),
    }))
    j0, j1 = su.wages_first - F, su.end - F
    r, c = np.nonzero(ch.JF[:, j0:j1 + 1] > 0)
    g = su.g_month[su.wages_first + c - su.g_first]
    wr.write("lonn", pa.table({
        "person_id": pa.array(ch.pid[r]), "month": _dates(su.wages_first + c),
        "lonn": pa.array(np.round(ch.JF[r, j0 + c].astype(np.float64) * WEEKS_PER_MONTH * ch.hw[r] * g / su.g_ref)),
    }))
    years = [y for y in range(su.pgi_years[0], su.pgi_years[1] + 1) if y in ch.pgi_nok]
    pid_y = np.concatenate([ch.pid[ch.pgi_nok[y] > 0] for y in years])
    yr = np.concatenate([np.full(int((ch.pgi_nok[y] > 0).sum()), y) for y in years])
    val = np.concatenate([ch.pgi_nok[y][ch.pgi_nok[y] > 0] for y in years])
    order = np.lexsort((yr, pid_y))
    wr.write("pgi", pa.table({"person_id": pa.array(pid_y[order]), "ar": pa.array(yr[order].astype(np.int64)),
                              "pgi": pa.array(val[order].astype(np.float64))}))
    del n


def _chunk_moments(su: _Setup, ch: _Chunk, keys: list[str] | None) -> tuple[list[str], np.ndarray, np.ndarray]:
    """:func:`_person_moments` of a chunk's persons, from the generator's own arrays."""
    r, c, res = _chunk_rows(su, ch)
    panel, flags = _chunk_panel(su, ch, r, c, res["actual"])
    return _person_moments(panel, flags, r, len(ch.pid), keys=keys)


def _tilt_accept(su: _Setup, ch: _Chunk, chunk_idx: int, tilt: dict[str, Any]) -> np.ndarray:
    """Positions of the candidates kept by the tilt (probability F(z·λ) / U, see :mod:`.tilt`)."""
    from arbeidsindikator.synthetic.tilt import logit_weight

    _, Z, _ = _chunk_moments(su, ch, list(tilt["keys"]))
    lower, upper = tilt["bounds"]
    lam = np.asarray(tilt["lambda"], float)  # lam[0]: the total (column of ones)
    w = logit_weight(lam[0] + Z @ lam[1:], lower, upper)
    rng = np.random.default_rng(np.random.SeedSequence([su.seed, chunk_idx, 31_337]))
    return np.flatnonzero(rng.random(len(w)) * upper < w)


#: Expected share of candidates with a row in the period when ``burn_in`` is on (sizes chunks only).
_BURN_IN_KEPT = 0.8

#: Root of the package whose files the extracts depend on (a parameter so tests can point it at a copy).
PACKAGE_DIR = _io.PACKAGE_DIR


def generator_inputs() -> list[tuple[str, Path]]:
    """Every file the synthetic extracts depend on, as (stable label, path).

    The whole package's source and data files (the generator calls code in ``data/`` and
    ``panel/`` — outcomes, spell breaks, G — and reads ``synthetic/calibrated.json``; hashing all
    of it is the robust choice: no dependency can be forgotten), every file of the reference
    directory (tables 1–4, G; :func:`arbeidsindikator.data.reference.reference_dir`) and the G
    table the generator copies (``extracts.DEFAULT_G_PATH``).
    """
    pkg = Path(PACKAGE_DIR)
    files = [(f"package/{p.relative_to(pkg).as_posix()}", p)
             for p in sorted(pkg.rglob("*")) if p.is_file() and p.suffix in (".py", ".json")]
    ref = reference_dir()
    if ref.is_dir():
        files += [(f"reference/{p.name}", p) for p in sorted(ref.iterdir()) if p.is_file()]
    files.append(("G", Path(_extracts.DEFAULT_G_PATH)))
    return files


def generator_fingerprint() -> str:
    """Hash of every input of the synthetic extracts (:func:`generator_inputs`): a change to any
    of them (code, calibrated parameters, reference tables) invalidates cached extracts."""
    h = hashlib.sha256(f"generator {GENERATOR_VERSION}\n".encode())
    for label, path in generator_inputs():
        h.update(label.encode() + b"\0")
        h.update(path.read_bytes() if path.is_file() else b"<missing>")
        h.update(b"\0")
    return h.hexdigest()[:16]


def _candidate(su: _Setup, k: int, size: int, n_cov: int, tilt: dict[str, Any] | None) -> _Chunk:
    """Chunk ``k``: ``size`` simulated candidates, with the tilt the kept ones (ids from 1)."""
    ch = _simulate(su, k, 1, size, n_cov)
    if su.prm.get("burn_in", False):
        ch = _subset(ch, _in_period(su, ch), 1)
    if tilt:
        ch = _subset(ch, _tilt_accept(su, ch, k, tilt), 1)
    return ch


_WORKER_SETUP: _Setup | None = None


def _worker_init(su: _Setup) -> None:
    global _WORKER_SETUP
    _WORKER_SETUP = su


def _worker_candidate(k: int, size: int, n_cov: int, tilt: dict[str, Any] | None) -> _Chunk:
    assert _WORKER_SETUP is not None
    return _candidate(_WORKER_SETUP, k, size, n_cov, tilt)


def _candidate_chunks(su: _Setup, size: int, n_cov: int, n_total: int | None, tilt: dict[str, Any] | None,
                      workers: int | None, parallel: bool):
    """Chunks 0, 1, 2, … in order (without the tilt: ``n_total`` persons, the last chunk smaller).

    With ``parallel`` (more than one chunk expected) and ``workers`` > 1 (default: up to 2
    cores), chunks are simulated in worker processes, ``workers`` ahead of the one consumed; the
    result is the same as in one process (chunk k depends only on the seed and k).
    """
    def sizes():
        k = 0
        while True:
            if n_total is None:
                yield k, size, n_cov
            else:
                lo = k * size
                if lo >= n_total:
                    return
                n = min(size, n_total - lo)
                yield k, n, int(round(n_cov * n / size))
            k += 1

    import concurrent.futures as cf
    import multiprocessing as mp

    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    if workers <= 1 or not parallel or "fork" not in mp.get_all_start_methods():
        for k, n, nc in sizes():
            yield _candidate(su, k, n, nc, tilt)
        return
    # fork: the workers inherit the set-up (no re-import of the caller's main module, as spawn needs)
    with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"), initializer=_worker_init,
                                initargs=(su,)) as pool:
        it = sizes()
        pending = []
        try:
            for _ in range(workers):
                pending.append(pool.submit(_worker_candidate, *next(it), tilt))
            while pending:
                ch = pending.pop(0).result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(pool.submit(_worker_candidate, *nxt, tilt))
                yield ch
        finally:
            for f in pending:
                f.cancel()


def generate_extracts(
    folder: str | Path,
    *,
    n_persons: int,
    seed: int,
    start: pd.Period | str = "2017-12",
    end: pd.Period | str = "2024-06",
    hours_end: pd.Period | str | None = None,
    params: dict[str, Any] | None = None,
    chunk_persons: int = CHUNK_PERSONS,
    truth: bool = True,
    verbose: bool = False,
    workers: int | None = None,
) -> dict[str, Any]:
    """Write synthetic raw extracts (and the planted truth) for ``n_persons`` persons.

    Parameters
    ----------
    folder : target folder (created; existing table files are replaced atomically).
    n_persons : number of persons; every one is in the population at least once in the period.
    seed : the same seed (and parameters) gives byte-identical files.
    start, end : analysis period; status history starts 60 months before ``start``.
    hours_end : last month of observed hours (default ``end``, as in the report: outcomes of the
        last 3 / 12 months are not yet observable).
    params : overrides of :data:`CALIBRATED` (used by :func:`calibrate`).
    chunk_persons : persons simulated at a time (memory is proportional to it; part of the seed's
        meaning: changing it changes the data).
    workers : processes simulating chunks in parallel (default up to 2; the data do not depend on it).

    Returns a summary (rows per table, seconds, folder). Files: one parquet per table,
    ``grunnbelop.csv``, ``manifest.json``, ``truth/*.parquet`` + ``truth/parameters.json`` and,
    written last, ``_COMPLETE.json``.
    """
    t0 = time.perf_counter()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / "_COMPLETE.json"
    if marker.exists():
        marker.unlink()
    start, end = pd.Period(start, freq="M"), pd.Period(end, freq="M")
    hours_end = pd.Period(hours_end, freq="M") if hours_end is not None else end
    if hours_end < end:
        raise ValueError(f"hours_end {hours_end} must not be before the period's end {end}")
    prm = {**CALIBRATED, **(params or {})}
    su = _setup(seed, start, end, hours_end, prm)
    # the COVID waves need the period to cover them (a shorter period has no furlough waves)
    covid_in = start <= pd.Period(min(COVID_ENTRY), "M") and end >= pd.Period(max(COVID_ENTRY), "M")
    wr = _Writers(folder)
    n_dim = {"fylke": len(FYLKER), "nav_kontor": len(su.geo.office_codes), "tiltak": len(TILTAK_CODES),
             "month": su.end - su.start + 1, "innsatsgruppe": 8, "hovedgruppe": len(HOVEDGRUPPER),
             "fylke_month": len(FYLKER) * (su.end - su.start + 1)}
    acc = {d: {k: np.zeros(s) for k in ["n_rows"] + [f"{p}{o}{q}" for o in HORIZONS for p, q in
                                                       (("n_", ""), ("", "_actual"), ("", "_counterfactual"))]}
           for d, s in n_dim.items()}
    tilt = prm.get("tilt")
    # candidates per chunk: fixed in advance, so that chunk k's persons depend only on (seed, k)
    # and chunks can be simulated in parallel; with the tilt, enough for all persons at the
    # expected acceptance + a margin (more chunks follow if needed)
    # (with ``burn_in`` some candidates have no row in the period: selection as with the tilt)
    select = bool(tilt) or bool(prm.get("burn_in", False))
    accept = (tilt["acceptance"] if tilt else 1.0) * (_BURN_IN_KEPT if prm.get("burn_in", False) else 1.0)
    size = min(chunk_persons, int(np.ceil(n_persons / accept * 1.1)) + 64 if select else n_persons)
    n_cov = int(round(prm["covid_share"] * size)) if covid_in else 0
    done, candidates = 0, 0
    parallel = n_persons > (size * accept if select else size)
    chunks = contextlib.closing(_candidate_chunks(su, size, n_cov, None if select else n_persons, tilt, workers, parallel))
    with chunks as it:  # closing the generator stops the workers when enough persons are kept
        for k, ch in enumerate(it):
            candidates += size if select else len(ch.pid)
            remaining = n_persons - done
            if len(ch.pid) > remaining:  # the last chunk: a random subset of the kept candidates
                rng = np.random.default_rng(np.random.SeedSequence([seed, k, 4711]))
                ch = _subset(ch, np.sort(rng.choice(len(ch.pid), remaining, replace=False)), done + 1)
            elif done:
                ch.pid = ch.pid + done
            _emit(su, ch, wr)
            if truth:
                _truth_chunk(su, ch, acc)
            done += len(ch.pid)
            del ch
            if verbose:
                print(f"  chunk {k + 1}: {done:,} of {n_persons:,} persons from {candidates:,} candidates "
                      f"({time.perf_counter() - t0:.0f} s)", flush=True)
            if done >= n_persons:
                break
            if candidates > 50 * n_persons + 100_000:
                raise RuntimeError(f"the tilt kept only {done} of {candidates} candidates: its parameters do not fit this generator")
    wr.close()
    geo = su.geo
    kontor = pd.DataFrame({"nav_kontor": geo.office_codes, "fylke": [FYLKER[c] for c in geo.office_county],
                           "ba_region": [geo.region_codes[r] for r in geo.office_region]})
    kontor.to_parquet(folder / ".kontor.parquet.tmp", index=False)
    os.replace(folder / ".kontor.parquet.tmp", folder / "kontor.parquet")
    R, M = geo.new.shape
    reg = pd.DataFrame({
        "ba_region": np.repeat(geo.region_codes, M),
        "month": np.tile(_dates(np.arange(su.start, su.start + M)).to_numpy(zero_copy_only=False), R),
        "nye_ledige": geo.new.ravel(),
        "arbeidsstyrke": np.repeat(geo.region_lf, M),
    })
    reg.to_parquet(folder / ".ba_region.parquet.tmp", index=False)
    os.replace(folder / ".ba_region.parquet.tmp", folder / "ba_region.parquet")
    write_growth(folder, geo, reg["month"].iloc[:M].to_numpy())
    shutil.copyfile(DEFAULT_G_PATH, folder / ".grunnbelop.csv.tmp")
    os.replace(folder / ".grunnbelop.csv.tmp", folder / "grunnbelop.csv")
    man = Manifest(start, end, {
        "status": (index_to_month(su.sim_first), end),
        "timer": (start, hours_end),
        "lonn": (index_to_month(su.wages_first), end),
        "ba_region": (start, hours_end),
        "sysselsettingsvekst": (start, hours_end),
        "pgi": su.pgi_years,
    }, {"generator": {"module": __name__, "version": GENERATOR_VERSION, "seed": seed, "n_persons": n_persons}})
    write_manifest(folder, man)
    if truth:
        tdir = folder / "truth"
        tdir.mkdir(exist_ok=True)
        for dim, df in _truth_frames(su, acc).items():
            df.to_parquet(tdir / f".by_{dim}.parquet.tmp", index=False)
            os.replace(tdir / f".by_{dim}.parquet.tmp", tdir / f"by_{dim}.parquet")
        params_out = {
            "units": ("county_effect: log multiplier of the job-finding probability; county_big_job_logit: logit "
                      "shift of the share of new jobs over 19 h; office, programme and NAV-wide effects: μ units "
                      "(≈ weekly hours of the next month); see the synthetic_extracts docstring"),
            "county_effect": dict(zip(FYLKER, map(float, prm["alpha_county"]))),
            "county_big_job_logit": dict(zip(FYLKER, map(float, prm["lam_county"]))),
            "county_keep_logit": dict(zip(FYLKER, map(float, prm.get("keep_county", [0.0] * 15)))),
            "office_effect": dict(zip(geo.office_codes, map(float, np.round(geo.office_effect, 6)))),
            "programme_effect": {TILTAK[c]: v for c, v in PROGRAMME_EFFECT.items()},
            "nav_time_effect": {str(index_to_month(m)): float(su.tau[m - su.sim_first]) for m in range(su.start, su.end + 1)},
            "note": ("by_<dim>.parquet hold, per unit, the mean over observable panel rows of the outcome with "
                     "all planted contributions minus the same outcome without them (same random numbers): "
                     "<outcome>_effect. The indicator recovers it up to its overall mean."),
        }
        (tdir / "parameters.json").write_text(json.dumps(params_out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    summary = {"folder": str(folder), "n_persons": n_persons, "seed": seed, "candidates": candidates, "rows": dict(wr.rows),
               "seconds": round(time.perf_counter() - t0, 1), "generator": generator_fingerprint()}
    marker.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary
