"""Expected employment growth by commuting region and month (shift-share): a documented stand-in.

Seed 002 (ch. 4, "Teknisk definisjon", and table 4 "Forventet sysselsettingsvekst") defines the
variable as: for each commuting region r and measurement month t, take the region's industry
structure twelve months earlier (employment in SSB's 19 main industry groups, SN2007), and compute
what the region's employment would have become had every industry grown as it did nationally.
As a formula, with ``E_j(t)`` national employment in industry j and ``s_rj(t-12)`` industry j's
share of region r's employment twelve months before t:

    forventet_vekst(r, t) = Σ_j s_rj(t-12) · (E_j(t) / E_j(t-12) − 1)

The synthetic world has commuting regions but no industries, so the inputs are a **stand-in**,
made here and documented (no planted effect on outcomes: the generator's persons do not react to
it, so its coefficients measure only what it shares with the other regressors — the point of
appendix D's with/without comparison, where the report found it hard to interpret and strongly
correlated with the inflow variable):

* national industry shares :data:`NATIONAL_SHARES` (19 groups A–S, rounded magnitudes of the
  Norwegian employment structure, not SSB figures);
* each region's base structure drawn from a Dirichlet distribution around the national shares
  with concentration :data:`REGION_CONCENTRATION` (regions differ in industry mix, as the report's
  Rogaland example after the 2014 oil-price fall);
* national industry paths ``log E_j(t) = trend_j · t/12 + a · β_j · c(t) + w_j(t)``: a yearly trend
  (sd :data:`TREND_SD`), a cyclical sensitivity ``a · β_j`` (``a`` = :data:`CYCLE_SCALE`, ``β_j``
  lognormal around 1 with sd :data:`CYCLE_SD`) to the
  world's national cycle ``c(t)`` — minus the log of the labour-force-weighted national inflow
  share relative to its mean (so growth is high when inflow is low, as in the report) — and a
  random walk ``w_j`` with monthly sd :data:`WALK_SD`;
* the region's structure at t−12 is its base structure carried along the national paths
  (``s_rj(t-12) ∝ s_rj · E_j(t-12)/E_j(t0)``).

Everything is drawn from the geography's seed (like the inflow series), so the variable is the
same for every data seed of the same period.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: SN2007 main groups A–S (19) and a rounded national share of employment each (sums to 1).
INDUSTRIES = tuple("ABCDEFGHIJKLMNOPQRS")
NATIONAL_SHARES = np.array([
    0.022, 0.022, 0.078, 0.006, 0.007, 0.083, 0.133, 0.052, 0.032, 0.038,
    0.018, 0.012, 0.041, 0.050, 0.060, 0.080, 0.200, 0.025, 0.041,
])
NATIONAL_SHARES = NATIONAL_SHARES / NATIONAL_SHARES.sum()
REGION_CONCENTRATION = 40.0  # Dirichlet concentration: smaller = regions differ more in industry mix
TREND_SD = 0.012  # sd across industries of the yearly employment trend (log points)
CYCLE_SD = 0.5  # sd of log β_j, the industries' sensitivity to the national cycle
CYCLE_SCALE = 0.05  # log employment per log point of national inflow below its mean (β_j = 1)
WALK_SD = 0.002  # monthly sd of each industry's random walk (log points)
GROWTH_SEED = 7_000_013  # stream of this module within the geography's seed


def shift_share(region_lf: np.ndarray, inflow: np.ndarray, seed: int) -> np.ndarray:
    """Expected 12-month employment growth per region and month (module docstring).

    Parameters
    ----------
    region_lf : (R,) labour force of each region (weights of the national inflow).
    inflow : (R, M) monthly inflow share new unemployed / labour force, months m0..m0+M-1.
    seed : the geography's seed.

    Returns
    -------
    (R, M) array of ``forventet_vekst`` (a share: 0.012 = +1.2 %) for the same months.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, GROWTH_SEED]))
    R, M = inflow.shape
    J = len(INDUSTRIES)
    base = rng.dirichlet(REGION_CONCENTRATION * NATIONAL_SHARES, R)  # (R, J)
    trend = rng.normal(0.0, TREND_SD, J)
    beta = rng.lognormal(0.0, CYCLE_SD, J)
    nat = np.average(inflow, axis=0, weights=region_lf)
    c = -(np.log(nat) - np.log(nat).mean())
    # months -12..M-1: the twelve months before the first are the first month's cycle
    c_ext = np.r_[np.full(12, c[0]), c]
    k = np.arange(-12, M)
    walk = np.cumsum(rng.normal(0.0, WALK_SD, (len(k), J)), axis=0)
    logE = trend[None, :] * k[:, None] / 12.0 + CYCLE_SCALE * beta[None, :] * c_ext[:, None] + walk  # (M+12, J)
    E = np.exp(logE - logE[0])
    before, now = E[:-12], E[12:]  # t-12 and t, each (M, J)
    struct = base[:, None, :] * before[None, :, :]  # (R, M, J) employment at t-12 (relative)
    struct /= struct.sum(axis=2, keepdims=True)
    return np.einsum("rmj,mj->rm", struct, now / before - 1.0)


def write_growth(folder: Path, geo: Any, months: np.ndarray) -> int:
    """Write ``sysselsettingsvekst.parquet`` (ba_region, month, forventet_vekst) atomically; rows written.

    ``geo`` is the world's geography (:class:`arbeidsindikator.synthetic.world._Geo`: region codes,
    labour force, inflow); ``months`` the first days of the inflow's months (the ``ba_region``
    table's months). The generator calls this after writing ``ba_region`` (its only hook).
    """
    from arbeidsindikator.synthetic.world import GEO_SEED

    g = shift_share(geo.region_lf, geo.inflow, GEO_SEED)
    R, M = g.shape
    df = pd.DataFrame({
        "ba_region": np.repeat(np.asarray(geo.region_codes, dtype=object), M),
        "month": np.tile(np.asarray(months), R),
        "forventet_vekst": g.ravel(),
    })
    path = Path(folder) / "sysselsettingsvekst.parquet"
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return len(df)
