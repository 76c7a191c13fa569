"""Seeded synthetic job-seeker registrations for the profiling evaluation (seed 003).

Writes the four input tables of :mod:`arbeidsindikator.profiling.contract` — registrations
(form answers with NAV's code names, first §14a decision, sex, country group), employer-register
spells, monthly wages in NOK from 24 months before to 12 months after the registration month,
and G — plus the latent quantities it planted (``truth``).

How it works (all numbers invented except the calibration targets):

* About ``per_month`` (9,000) registrations aged 30–59 a month (seed 003 §1.2) plus the other ages
  (≈ 15,000 in total), in the configured months, times ``scale``.
* A latent *attachment* ``h`` per registration (depends on the registration reason and country
  group) drives the wage history: whether any month above 3 G in the last 24, the months since
  the last one, the length of the last job and earlier work. Employer-register spells are made
  from the months with a wage ≥ 1 G, some split with gaps of 0–20 days (so that the 3-day merge
  margin matters) and a little register noise.
* The outcome sequence is an ordered latent index ``y* = α[reason] + β·h + health + country
  group + period + ε`` cut at the sample quantiles that give the published 34 / 29 / 37 % among
  registrations aged 30–59; the 12 post-registration wages are drawn to fall in that sequence
  group (checked with :func:`arbeidsindikator.profiling.wages.outcome_sequences`).
* Health/other problems, education answers, single parent and reservation are drawn; the rule
  tree of :mod:`arbeidsindikator.profiling.rules` profiles them; the first §14a decision is standard
  for 95 % of those profiled standard (seed 003 §3.3) and otherwise follows a noisy view of ``y*``.

The constants in :data:`CALIBRATED` were tuned (``scale = 1``, several seeds) so that the rule
tree, decisions and outcomes reproduce table 5 of seed 003 within about one percentage point;
``tests/profiling/test_profiling.py`` checks 2 pp. Deterministic given ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtr

from arbeidsindikator.data.grunnbelop import g_per_month, month_index, month_start
from arbeidsindikator.profiling.contract import DIN_SITUASJON, ProfilingData, g_canonical, load_g_table
from arbeidsindikator.profiling.params import ProfilingParams
from arbeidsindikator.profiling.rules import profile
from arbeidsindikator.profiling.wages import outcome_sequences

#: Shares of the registration reason (invented, plausible: NAV does not publish them by age).
SITUASJON_SHARE: dict[str, float] = {
    "MISTET_JOBBEN": 0.36, "HAR_SAGT_OPP": 0.08, "DELTIDSJOBB_VIL_MER": 0.07, "ALDRI_HATT_JOBB": 0.03,
    "VIL_BYTTE_JOBB": 0.06, "JOBB_OVER_2_AAR": 0.10, "ER_PERMITTERT": 0.07, "USIKKER_JOBBSITUASJON": 0.13,
    "AKKURAT_FULLFORT_UTDANNING": 0.04, "VIL_FORTSETTE_I_JOBB": 0.06,
}
LANDGRUPPE_SHARE: dict[int, float] = {0: 0.62, 1: 0.05, 2: 0.11, 3: 0.21, -1: 0.01}
NUS_SHARE_NATIVE = {"0": 0.005, "1": 0.002, "2": 0.05, "3": 0.08, "4": 0.40, "5": 0.02, "6": 0.28, "7": 0.14,
                    "8": 0.008, "9": 0.015}
NUS_SHARE_IMMIGRANT = {"0": 0.03, "1": 0.02, "2": 0.10, "3": 0.10, "4": 0.29, "5": 0.02, "6": 0.22, "7": 0.17,
                       "8": 0.01, "9": 0.04}
SHARE_30_59 = 0.60  # 9,000 of ~15,000 registrations a month are aged 30–59 (seed 003 §1.2)


@dataclass(frozen=True)
class GeneratorParams:
    """Latent-structure constants (see module docstring); :data:`CALIBRATED` holds the tuned set."""

    mu_h: dict[str, float] = field(default_factory=lambda: {
        "MISTET_JOBBEN": 0.3, "HAR_SAGT_OPP": 0.4, "DELTIDSJOBB_VIL_MER": -0.3, "ALDRI_HATT_JOBB": -2.0,
        "VIL_BYTTE_JOBB": 0.9, "JOBB_OVER_2_AAR": -1.8, "ER_PERMITTERT": 0.8, "USIKKER_JOBBSITUASJON": 0.0,
        "AKKURAT_FULLFORT_UTDANNING": -0.8, "VIL_FORTSETTE_I_JOBB": 1.0})
    alpha: dict[str, float] = field(default_factory=lambda: {
        "MISTET_JOBBEN": 0.0, "HAR_SAGT_OPP": 0.2, "DELTIDSJOBB_VIL_MER": -0.3, "ALDRI_HATT_JOBB": -0.8,
        "VIL_BYTTE_JOBB": 0.6, "JOBB_OVER_2_AAR": -0.6, "ER_PERMITTERT": 0.8, "USIKKER_JOBBSITUASJON": 0.0,
        "AKKURAT_FULLFORT_UTDANNING": 0.2, "VIL_FORTSETTE_I_JOBB": 0.8})
    lg_h: dict[int, float] = field(default_factory=lambda: {0: 0.0, 1: -0.1, 2: -0.1, 3: -0.5, -1: -0.3})
    lg_y: dict[int, float] = field(default_factory=lambda: {0: 0.0, 1: 0.0, 2: 0.0, 3: -0.25, -1: 0.0})
    female_y: float = -0.05
    period2_y: float = 0.15
    beta_h: float = 1.0
    sigma_y: float = 1.3
    health_y: float = -0.8
    # history process
    none_c: float = -2.15  # P(no month > 3 G in 24) = Φ(none_c + none_extra[s] − h)
    e0_c: float = -0.3  # P(working last month) = Φ(e0_c + e0_extra[s] + 0.8 h)
    e_mu: float = 1.0  # mean months since job end (when not working) ≈ exp(e_mu − 0.4 h)
    t_mu: float = 2.9  # mean length of last job ≈ exp(t_mu + 0.4 h)
    q_c: float = -0.6  # earlier months above 3 G: Φ(q_c + 0.7 h)
    health_c: float = -1.4  # true health problem: Φ(health_c − 0.35 h)
    other_c: float = -1.6
    # first §14a decision
    confirm_standard: float = 0.95
    dec_lambda: float = 0.45
    dec_kappa: float = 1.5
    dec_tau: float = -0.25


CALIBRATED = GeneratorParams()

_NONE_EXTRA = {"ALDRI_HATT_JOBB": 2.5, "JOBB_OVER_2_AAR": 2.0, "AKKURAT_FULLFORT_UTDANNING": 0.8,
               "DELTIDSJOBB_VIL_MER": 0.6}
_E0_EXTRA = {"VIL_FORTSETTE_I_JOBB": 1.5, "VIL_BYTTE_JOBB": 1.3, "ER_PERMITTERT": 1.2, "DELTIDSJOBB_VIL_MER": -0.6,
             "USIKKER_JOBBSITUASJON": 0.5, "MISTET_JOBBEN": 0.2, "HAR_SAGT_OPP": 0.2}
_PART_TIME = {"DELTIDSJOBB_VIL_MER": 0.8}


@dataclass(frozen=True)
class SyntheticRegistrations:
    """Generated tables and the latent quantities behind them."""

    data: ProfilingData
    truth: pd.DataFrame


def _lookup(mapping: dict, keys: np.ndarray, default: float = 0.0) -> np.ndarray:
    return np.array([mapping.get(k, default) for k in keys.tolist()], dtype=float)


def _registration_dates(rng: np.random.Generator, periods: tuple[tuple[str, str], ...],
                        per_month: float) -> pd.DatetimeIndex:
    months = pd.PeriodIndex([m for a, b in periods for m in pd.period_range(a, b, freq="M")])
    n_each = rng.poisson(per_month, len(months))
    starts = np.repeat(months.to_timestamp().to_numpy(dtype="datetime64[D]"), n_each)
    days = np.repeat(months.days_in_month.to_numpy(), n_each)
    return pd.DatetimeIndex(starts + (rng.random(len(starts)) * days).astype(int).astype("timedelta64[D]"))


def _ages(rng: np.random.Generator, n: int) -> np.ndarray:
    core = rng.random(n) < SHARE_30_59
    young = rng.random(n) < 0.75
    return np.where(core, rng.integers(30, 60, n), np.where(young, rng.integers(18, 30, n), rng.integers(60, 67, n)))


def _birth_dates(rng: np.random.Generator, reg: pd.DatetimeIndex, age: np.ndarray) -> pd.DatetimeIndex:
    years = reg.year.to_numpy() - age
    anniv = pd.to_datetime({"year": years, "month": reg.month, "day": np.minimum(reg.day, 28)})
    return pd.DatetimeIndex(anniv.to_numpy() - rng.integers(1, 360, len(reg)).astype("timedelta64[D]"))


# --- wage history (months −24..0) ---------------------------------------------------------------

F, P, N = 2, 1, 0  # > 3 G, 1–3 G, < 1 G


def _history_states(rng: np.random.Generator, h: np.ndarray, sit: np.ndarray, gp: GeneratorParams) -> np.ndarray:
    """States of months −24..0 (columns 0..24); column 24 is the registration month."""
    n = len(h)
    none = rng.random(n) < ndtr(gp.none_c + _lookup(_NONE_EXTRA, sit) - h)
    e0 = rng.random(n) < ndtr(gp.e0_c + _lookup(_E0_EXTRA, sit) + 0.8 * h)
    e = np.where(e0, 0, np.minimum(rng.geometric(1 / (1 + np.exp(gp.e_mu - 0.4 * h))), 23))
    t = np.minimum(rng.geometric(1 / (1 + np.exp(gp.t_mu + 0.4 * h))), 24 - e)
    k = np.arange(24)[None, :]  # column k is relative month k − 24
    last = 23 - e[:, None]  # column of the last month above 3 G
    run = (k <= last) & (k > last - t[:, None])
    earlier = (k <= last - t[:, None] - 2) & (rng.random((n, 24)) < ndtr(gp.q_c + 0.7 * h)[:, None])
    full = (run | earlier) & ~none[:, None]
    part_p = np.maximum(_lookup(_PART_TIME, sit, 0.25), 0)[:, None]
    states = np.where(full, F, np.where(rng.random((n, 24)) < part_p, P, N))
    month0 = np.where(e0 & ~none, np.where(rng.random(n) < 0.6, F, P), np.where(rng.random(n) < 0.2, P, N))
    return np.column_stack([states, month0])


# --- outcome paths (months 1..12) ---------------------------------------------------------------


def _propose(rng: np.random.Generator, cls: np.ndarray) -> np.ndarray:
    n = len(cls)
    m = np.arange(1, 13)[None, :]
    u = rng.random((n, 12))
    filler = np.where(rng.random((n, 12)) < 0.5, P, N)
    # stable (a): 10–12 months above 3 G, the others early; (b): above 3 G from month r ≤ 8 on
    n_f = rng.choice([10, 11, 12], n, p=[0.25, 0.3, 0.45])
    early = np.argsort(np.log(u) * m, axis=1)  # earlier months more likely to be the weak ones
    weak = np.zeros((n, 12), dtype=bool)
    np.put_along_axis(weak, early[:, :12], (np.arange(12)[None, :] < (12 - n_f)[:, None]), axis=1)
    stable_a = np.where(weak, filler, F)
    r = rng.integers(2, 9, n)[:, None]
    stable_b = np.where(m >= r, F, np.where(rng.random((n, 12)) < 0.3, F, filler))
    stable = np.where((rng.random(n) < 0.55)[:, None], stable_a, stable_b)
    n_n = rng.choice([10, 11, 12], n, p=[0.25, 0.3, 0.45])
    strong = np.zeros((n, 12), dtype=bool)
    np.put_along_axis(strong, np.argsort(u, axis=1), (np.arange(12)[None, :] < (12 - n_n)[:, None]), axis=1)
    without = np.where(strong, np.where(rng.random((n, 12)) < 0.7, P, F), N)
    mix = rng.dirichlet([1.2, 1.2, 1.2], n)
    inout = (u[:, :, None] > np.cumsum(mix, axis=1)[:, None, :]).sum(axis=2)  # 0 N, 1 P, 2 F
    return np.select([cls[:, None] == "stable", cls[:, None] == "without_work"], [stable, without], inout)


def _post_states(rng: np.random.Generator, cls: np.ndarray, p: ProfilingParams) -> np.ndarray:
    """States of months 1..12 that fall in each row's sequence group (rejection sampling)."""
    out = np.empty((len(cls), 12), dtype=int)
    todo = np.arange(len(cls))
    level = np.array([0.5, 2.0, 4.0])  # representative G per state, only to classify proposals
    for _ in range(200):
        if len(todo) == 0:
            break
        prop = _propose(rng, cls[todo])
        ok = outcome_sequences(level[prop], p) == cls[todo]
        out[todo[ok]] = prop[ok]
        todo = todo[~ok]
    if len(todo):
        raise RuntimeError(f"could not draw outcome paths for {len(todo)} registrations")
    return out


def _wages_nok(rng: np.random.Generator, states: np.ndarray, g_month: np.ndarray) -> np.ndarray:
    """NOK per month from states and the monthly G of each cell."""
    n = states.shape
    full = 3.05 + np.exp(rng.normal(0.2, 0.6, n))
    part = rng.uniform(1.01, 2.97, n)
    low = np.where(rng.random(n) < 0.75, 0.0, rng.uniform(0.02, 0.97, n))
    return np.round(np.select([states == F, states == P], [full, part], low) * g_month)


# --- employer-register spells -------------------------------------------------------------------


def _spells(rng: np.random.Generator, person: np.ndarray, reg: pd.DatetimeIndex, states: np.ndarray,
            ongoing_ok: np.ndarray) -> pd.DataFrame:
    """Spells from runs of months with wage ≥ 1 G in months −24..0, split and perturbed."""
    emp = states >= P
    n, k = emp.shape
    prev = np.column_stack([np.zeros(n, dtype=bool), emp[:, :-1]])
    nxt = np.column_stack([emp[:, 1:], np.zeros(n, dtype=bool)])
    ri, si = np.nonzero(emp & ~prev)
    _, ei = np.nonzero(emp & ~nxt)
    reg_m = month_index(reg)[ri]
    start_m, end_m = reg_m - 24 + si, reg_m - 24 + ei

    def first_day(m: np.ndarray) -> np.ndarray:
        return month_start(m).astype("datetime64[D]")

    start = first_day(start_m) + rng.integers(0, 11, len(ri)).astype("timedelta64[D]")
    back = (si == 0) & (rng.random(len(ri)) < 0.8)
    start = np.where(back, start - rng.integers(0, 60 * 30, len(ri)).astype("timedelta64[D]"), start)
    end = first_day(end_m + 1) - np.timedelta64(1, "D") - rng.integers(0, 11, len(ri)).astype("timedelta64[D]")
    at_reg = ei == k - 1
    reg_d = reg.to_numpy(dtype="datetime64[D]")[ri]
    end = np.where(at_reg, reg_d + rng.integers(0, 60, len(ri)).astype("timedelta64[D]"), end)
    open_end = at_reg & ongoing_ok[ri] & (rng.random(len(ri)) < 0.7)
    start = np.minimum(start, end - np.timedelta64(1, "D"))
    # split some spells at an interior day with a gap (job changes): gaps of 0–20 days
    length = (end - start).astype(int)
    split = (length > 40) & (rng.random(len(ri)) < 0.35)
    offset = (rng.random(len(ri)) * np.maximum(length - 25, 1)).astype(int).astype("timedelta64[D]")
    cut = start + offset + np.timedelta64(10, "D")
    gap = rng.choice([0, 1, 2, 3, 4, 6, 10, 20], len(ri), p=[0.25, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05])
    s1 = pd.DataFrame({"person_id": person[ri], "startdato": start,
                       "sluttdato": np.where(split, cut, end), "open": ~split & open_end})
    s2 = pd.DataFrame({"person_id": person[ri][split], "startdato": cut[split] + gap[split].astype("timedelta64[D]"),
                       "sluttdato": end[split], "open": open_end[split]})
    s = pd.concat([s1, s2], ignore_index=True)
    s = s[s["sluttdato"] >= s["startdato"]]
    s = s[rng.random(len(s)) >= 0.03]  # register noise: a few spells missing
    s["sluttdato"] = pd.to_datetime(s["sluttdato"]).where(~s["open"])
    s["startdato"] = pd.to_datetime(s["startdato"])
    return s.drop(columns="open").sort_values(["person_id", "startdato"]).reset_index(drop=True)


# --- answers and decisions ----------------------------------------------------------------------


def _answers(rng: np.random.Generator, truth_problem: np.ndarray, p_false: float) -> np.ndarray:
    """JA/NEI/VET_IKKE/empty from a true problem indicator."""
    n = len(truth_problem)
    ja = np.where(truth_problem, rng.random(n) < 0.85, rng.random(n) < p_false)
    u = rng.random(n)
    out = np.where(ja, "JA", "NEI").astype(object)
    out[(~ja) & (u < 0.01)] = "VET_IKKE"
    out[(u > 0.985)] = None
    return out


def _education(rng: np.random.Generator, lg: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(lg)
    native = (lg == 0) | (lg == 1)
    levels = np.array(list(NUS_SHARE_NATIVE))
    nus = np.where(native, rng.choice(levels, n, p=list(NUS_SHARE_NATIVE.values())),
                   rng.choice(levels, n, p=list(NUS_SHARE_IMMIGRANT.values()))).astype(object)
    asked = ~np.isin(nus, ["0", "1", "2", "9"])  # the form skips the two questions for NUS 0–2
    bestatt = np.where(rng.random(n) < ndtr(1.9 + 0.2 * h), "JA", "NEI").astype(object)
    u = rng.random(n)
    godkjent = np.where(native, np.where(u < 0.97, "JA", np.where(u < 0.98, "NEI", "VET_IKKE")),
                        np.where(u < 0.72, "JA", np.where(u < 0.84, "NEI", "VET_IKKE"))).astype(object)
    bestatt[~asked] = None
    godkjent[~asked] = None
    return nus, bestatt, godkjent


def _decisions(rng: np.random.Generator, std: np.ndarray, hindrance: np.ndarray, ystar_z: np.ndarray,
               health: np.ndarray, gp: GeneratorParams) -> np.ndarray:
    n = len(std)
    d = gp.dec_lambda * ystar_z + rng.normal(0, 1, n) - gp.dec_kappa * hindrance
    standard = np.where(std, rng.random(n) < gp.confirm_standard, d > gp.dec_tau)
    u = rng.random(n)
    other = np.where(health & (u < 0.45), "SPESIELT_TILPASSET_INNSATS",
                     np.where(health & (u < 0.48), "VARIG_TILPASSET_INNSATS",
                              np.where(health & (u < 0.50), "GRADERT_VARIG_TILPASSET_INNSATS",
                                       "SITUASJONSBESTEMT_INNSATS")))
    return np.where(standard, "STANDARD_INNSATS", other).astype(object)


# --- the generator ------------------------------------------------------------------------------


def generate_registrations(
    scale: float = 1.0,
    seed: int = 20250302,
    periods: tuple[tuple[str, str], ...] = ProfilingParams().periods,
    per_month: int = 9000,
    gp: GeneratorParams = CALIBRATED,
) -> SyntheticRegistrations:
    """Synthetic registrations, spells, wages and G for the given months (deterministic by seed).

    ``per_month`` registrations aged 30–59 a month at ``scale = 1`` (plus ≈ 2/3 as many of other
    ages); ``scale`` multiplies the volume.
    """
    if scale <= 0:
        raise ValueError(f"scale: expected > 0, got {scale}")
    rng = np.random.default_rng(seed)
    p = ProfilingParams(periods=periods)
    reg = _registration_dates(rng, periods, per_month * scale / SHARE_30_59)
    n = len(reg)
    age = _ages(rng, n)
    birth = _birth_dates(rng, reg, age)
    female = rng.random(n) < 0.45
    lg = rng.choice(list(LANDGRUPPE_SHARE), n, p=list(LANDGRUPPE_SHARE.values()))
    sit = rng.choice(np.array(DIN_SITUASJON), n, p=[SITUASJON_SHARE[s] for s in DIN_SITUASJON])
    later = pd.DatetimeIndex(reg).to_period("M") >= pd.Period(periods[-1][0], freq="M")
    period2 = later if len(periods) > 1 else np.zeros(n, bool)
    h = _lookup(gp.mu_h, sit) + _lookup(gp.lg_h, lg) + rng.normal(0, 1, n)
    health = rng.random(n) < ndtr(gp.health_c - 0.35 * h)
    other = rng.random(n) < ndtr(gp.other_c - 0.2 * h + 0.5 * (lg == 3))
    ystar = (_lookup(gp.alpha, sit) + gp.beta_h * h + gp.health_y * health + _lookup(gp.lg_y, lg)
             + gp.female_y * female + gp.period2_y * period2 + rng.normal(0, gp.sigma_y, n))
    core = (age >= 30) & (age <= 59)
    q_without, q_stable = np.quantile(ystar[core], [0.37, 0.66])
    cls = np.where(ystar > q_stable, "stable",
                   np.where(ystar <= q_without, "without_work", "in_and_out")).astype(object)

    reg_id = np.arange(1, n + 1, dtype=np.int64)
    person = 1_000_000 + rng.permutation(n).astype(np.int64)
    hist = _history_states(rng, h, sit, gp)
    post = _post_states(rng, cls, p)
    states = np.column_stack([hist, post])  # relative months −24..12
    rel = np.arange(-24, 13)
    cal = month_index(reg)[:, None] + rel[None, :]
    g = load_g_table()
    cmin = int(cal.min())
    g_month = g_per_month(g_canonical(g), cmin, int(cal.max()), missing="raise")[cal - cmin] / 12.0
    nok = _wages_nok(rng, states, g_month)
    rr, cc = np.nonzero(nok > 0)
    wages = pd.DataFrame({
        "person_id": person[rr],
        "maaned": month_start(cal[rr, cc]),
        "lonn_nok": nok[rr, cc],
    })
    ongoing_ok = np.isin(sit, ["VIL_FORTSETTE_I_JOBB", "VIL_BYTTE_JOBB", "ER_PERMITTERT", "DELTIDSJOBB_VIL_MER",
                               "USIKKER_JOBBSITUASJON"])
    spells = _spells(rng, person, reg, hist, ongoing_ok)
    nus, bestatt, godkjent = _education(rng, lg, h)
    regs = pd.DataFrame({
        "reg_id": reg_id, "person_id": person, "registrert_dato": reg, "fodselsdato": birth,
        "din_situasjon": sit.astype(object), "utdanning_nus": nus, "utdanning_bestatt": bestatt,
        "utdanning_godkjent": godkjent, "helse_hindrer": _answers(rng, health, 0.03),
        "andre_forhold_hindrer": _answers(rng, other, 0.02),
        "enslig_forsorger": rng.random(n) < np.where(female, 0.09, 0.02),
        "reservert_digital": rng.random(n) < 0.015,
        "kvinne": female, "landgruppe": lg.astype(np.int64),
    })
    prof = profile(regs, spells, p)
    z = (ystar - ystar[core].mean()) / ystar[core].std()
    regs["forste_vedtak"] = _decisions(rng, prof["profiled_standard"].to_numpy(), prof["tag_hindrance"].to_numpy(),
                                       z, health, gp)
    regs = regs[["reg_id", "person_id", "registrert_dato", "fodselsdato", "din_situasjon", "utdanning_nus",
                 "utdanning_bestatt", "utdanning_godkjent", "helse_hindrer", "andre_forhold_hindrer",
                 "enslig_forsorger", "reservert_digital", "forste_vedtak", "kvinne", "landgruppe"]]
    truth = pd.DataFrame({"reg_id": reg_id, "h": h, "ystar": ystar, "sequence": cls, "health_problem": health,
                          "other_problem": other})
    return SyntheticRegistrations(ProfilingData(regs, spells, wages, g), truth)
