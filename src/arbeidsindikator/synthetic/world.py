"""The fixed world and the set-up of a run: constants, geography, μ's lookup tables, draws.

The structure that is not calibrated (counties, offices, commuting regions and their inflow,
programmes, the planted NAV contributions, seasonality, the COVID waves), the lookup tables of
μ's systematic part (table 4 atid3 + ``theta_delta``, :class:`_Theta`) and the set-up shared by
every chunk of a run (:func:`_setup`). See :mod:`arbeidsindikator.synthetic.generator` for how
the data are made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from arbeidsindikator.panel import covariates as cov
from arbeidsindikator.data.contract import FYLKER, INNSATSGRUPPER
from arbeidsindikator.spec import SPELL_GAP_MONTHS
from arbeidsindikator.data.extracts import DEFAULT_G_PATH, TILTAK, g_per_month, index_to_month, load_g, month_to_index
from arbeidsindikator.synthetic.targets import published_coefficients


GENERATOR_VERSION = "2"
WAGE_DATA_START = pd.Period("2015-01", freq="M")  # a-ordningen: monthly wage data from January 2015
CHUNK_PERSONS = 50_000
GAP_MONTHS = SPELL_GAP_MONTHS  # spell rule the generator uses for its own covariates (the panel default)
#: Months of status history written before the first analysis month. The contract needs 60;
#: more makes NAV durations less left-censored (the report's durations are not censored at 60).
GENERATED_HISTORY_MONTHS = 108
_MISSING = -1
_SYKMELDT = INNSATSGRUPPER.index("sykmeldt_uten_arbeidsgiver")

# ---------------------------------------------------------------------------------------------
# Fixed structure (not calibrated): geography, programmes, planted NAV contributions
# ---------------------------------------------------------------------------------------------

#: Share of persons by county (assumption: roughly the counties' shares of NAV users).
COUNTY_SHARE = np.array([0.058, 0.115, 0.052, 0.015, 0.070, 0.045, 0.046, 0.150, 0.082, 0.036,
                         0.030, 0.085, 0.045, 0.105, 0.066])
#: Relative frequency of country group 3 by county (composition differs between counties).
COUNTY_LG3 = np.array([1.0, 1.1, 1.1, 0.8, 0.8, 0.8, 0.7, 1.6, 1.0, 0.9, 0.7, 0.8, 0.9, 0.9, 1.1])
N_OFFICES = 240
N_REGIONS_APPROX = 160
LABOUR_FORCE = 2_900_000

TILTAK_CODES = tuple(TILTAK)  # 0 = ingen
_T = {c: i for i, c in enumerate(TILTAK_CODES)}
#: Planted programme contributions (μ units ≈ hours per week): wage subsidy highest, AMO lock-in.
PROGRAMME_EFFECT = {
    "ingen": 0.0, "oppfolging": 1.0, "arbeid_med_stotte": 1.0, "jobbklubb": 0.5,
    "digitalt_oppfolgingstiltak": 0.6, "midlertidig_lonnstilskudd": 3.0, "ips": 0.8,
    "arbeidstrening": 0.3, "amo": -0.5, "arbeidsforberedende_trening": 0.2,
}
#: Programme mix for job seekers (J) and reduced work capacity (N), and mean length (months).
PROGRAMME_MIX = {
    "J": {"oppfolging": .24, "jobbklubb": .14, "digitalt_oppfolgingstiltak": .16, "amo": .14,
          "midlertidig_lonnstilskudd": .12, "arbeidstrening": .14, "arbeid_med_stotte": .06},
    "N": {"oppfolging": .24, "arbeid_med_stotte": .15, "ips": .10, "arbeidsforberedende_trening": .20,
          "arbeidstrening": .15, "midlertidig_lonnstilskudd": .08, "amo": .08},
}
PROGRAMME_MONTHS = {"oppfolging": 6, "arbeid_med_stotte": 9, "jobbklubb": 2, "digitalt_oppfolgingstiltak": 3,
                    "midlertidig_lonnstilskudd": 12, "ips": 10, "arbeidstrening": 5, "amo": 4,
                    "arbeidsforberedende_trening": 8}
#: NAV-wide contribution over calendar time (μ units), piecewise linear (shape like seed 002 fig. 7).
NAV_TIME_KNOTS = [("2017-12", 0.0), ("2018-12", -0.1), ("2019-06", 0.4), ("2020-02", 0.3), ("2020-04", -0.6),
                  ("2020-09", 0.2), ("2021-06", 0.5), ("2022-06", 0.2), ("2023-06", -0.2), ("2024-02", -0.4),
                  ("2024-06", 0.1)]
OFFICE_EFFECT_SD = 0.8
#: Seasonal term of the month whose hours are drawn (μ units); the August stock (hours in
#: Sep–Nov) comes out highest, the January stock (Feb–Apr) lowest (seed 002 ch. 4).
SEASON = np.array([-0.4, -0.8, -0.8, -0.5, 0.0, 0.3, 0.0, 0.2, 0.8, 0.8, 0.4, -0.3])
#: Seasonal factor on the agreed hours of a month (by calendar month of the hours): winter
#: months low, autumn high. It acts on hours directly, whereas SEASON acts on job finding and
#: reaches hours only through the stock of jobs (with a lag of several months). Together they
#: give the published pattern: the August stock highest, the January stock lowest (seed 002 ch. 4).
HOURS_SEASON = 1.0 + np.array([-0.02, -0.05, -0.05, -0.04, 0.0, 0.01, 0.0, 0.02, 0.05, 0.05, 0.04, 0.0])
#: Labour-market shock of the COVID waves (spring 2020, winter 2020/21) on job starts (μ units) by month.
COVID_SHOCK = {"2020-03": -1.0, "2020-04": -1.0, "2020-05": -0.5, "2020-11": -0.3, "2020-12": -0.3, "2021-01": -0.5}
#: Labour-market cycle on job starts (μ units, piecewise linear): weaker at
#: the start of the period, so that the December 2017 stock's outcomes lie as far below the
#: period mean as in the report (ch. 3, figure 1: atid3 ≈ 7.7 h against a mean of 9.31 h). It is
#: the labour market, not NAV: it is not part of the planted truth.
#: The depth of the dip is the parameter ``market_dip`` (0: no cycle); MARKET_KNOTS is its shape.
MARKET_KNOTS = [("2018-01", 1.0), ("2018-10", 0.0)]  # constant before the first knot
#: Months in which the furloughed of the COVID waves register, and the share of them in each
#: (seed 002 ch. 3: "Store grupper ble da permittert … Mange av disse kom raskt tilbake i jobb").
COVID_ENTRY = {"2020-03": 0.55, "2020-04": 0.17, "2020-05": 0.04, "2020-10": 0.04, "2020-11": 0.08,
               "2020-12": 0.05, "2021-01": 0.07}
#: Recall of the furloughed to their job: a multiple of the person's job-finding probability,
#: higher in the COVID waves (seed 002 ch. 3: "Mange av disse kom raskt tilbake i jobb").
COVID_RECALL = 3.0
PERM_RECALL = 2.0
#: Share of the COVID furloughed whom NAV did not assess (service group "ikke vurdert") during
#: the spell: the offices could not keep up (table 3: "Ikke vurdert" has the highest outcomes).
COVID_NOT_ASSESSED = 0.75
#: The geography (offices, commuting regions, their inflow series, office effects) is the same
#: for every seed: it plays the part of the fixed real world; persons are the random sample.
GEO_SEED = 20_250_401
#: Commuting-region inflow: seasonal factor and COVID multiplier on new registrations.
INFLOW_SEASON = np.array([1.25, 1.05, 0.95, 0.9, 0.85, 1.1, 1.2, 0.85, 0.85, 0.9, 0.95, 1.15])
INFLOW_COVID = {"2020-03": 11.0, "2020-04": 3.5, "2020-05": 1.6, "2020-06": 1.3, "2020-11": 1.6, "2020-12": 1.4,
                "2021-01": 1.6, "2021-02": 1.2}

BIG_JOB = (20.0, 40.0)  # weekly hours of a job over 19 h (counts as "in work")
SMALL_JOB = (2.0, 18.0)
_EH_BIG, _EH_SMALL = sum(BIG_JOB) / 2, sum(SMALL_JOB) / 2
G_REF_YEAR_MONTH = "2024-05"  # hourly wages are in NOK of G at this date


@dataclass
class _Geo:
    """Counties, offices and commuting regions; the regions' inflow series."""

    office_codes: list[str]
    office_county: np.ndarray
    office_region: np.ndarray
    office_weight: np.ndarray
    region_codes: list[str]
    region_lf: np.ndarray
    inflow_first: int
    inflow: np.ndarray  # (R, months) share new/labour force
    new: np.ndarray  # (R, months) new registrations
    office_effect: np.ndarray


def _geo(seed: int, inflow_first: int, inflow_last: int) -> _Geo:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7_000_001]))
    n_off = np.maximum(2, np.round(N_OFFICES * COUNTY_SHARE)).astype(int)
    n_reg = np.maximum(1, np.round(n_off * N_REGIONS_APPROX / N_OFFICES)).astype(int)
    codes, county, region, weight, reg_codes, reg_county = [], [], [], [], [], []
    for c in range(len(FYLKER)):
        base = len(reg_codes)
        for r in range(n_reg[c]):
            reg_codes.append(f"BA{base + r + 1:03d}")
            reg_county.append(c)
        w = rng.lognormal(0, 0.7, n_off[c])
        for k in range(n_off[c]):
            codes.append(f"{(c + 1) * 100 + k + 1:04d}")
            county.append(c)
            region.append(base + k % n_reg[c])
            weight.append(w[k] / w.sum() * COUNTY_SHARE[c])
    region_arr = np.array(region)
    weight_arr = np.array(weight)
    reg_w = np.bincount(region_arr, weights=weight_arr, minlength=len(reg_codes))
    lf = np.maximum(2000, np.round(LABOUR_FORCE * reg_w * rng.lognormal(0, 0.2, len(reg_codes)))).astype(np.int64)
    months = np.arange(inflow_first, inflow_last + 1)
    level = rng.lognormal(np.log(0.0045), 0.25, len(reg_codes))
    cal = INFLOW_SEASON[months % 12]
    covid = np.array([INFLOW_COVID.get(str(index_to_month(m)), 1.0) for m in months])
    trend = 1 + 0.15 * np.sin((months - month_to_index("2018-01")) / 24.0)
    noise = np.exp(rng.normal(0, 0.08, (len(reg_codes), len(months))))
    rate = level[:, None] * (cal * covid * trend)[None, :] * noise
    new = np.round(rate * lf[:, None]).astype(np.int64)
    share = new / lf[:, None]
    office_effect = rng.normal(0, OFFICE_EFFECT_SD, len(codes))
    county_arr = np.array(county)
    for c in range(len(FYLKER)):  # office effects are deviations within their county
        sel = county_arr == c
        office_effect[sel] -= np.average(office_effect[sel], weights=weight_arr[sel])
    return _Geo(codes, county_arr, region_arr, weight_arr / weight_arr.sum(), reg_codes, lf, inflow_first,
                share, new, office_effect)


@dataclass
class _Theta:
    """Lookup tables of μ's systematic part (table 4 atid3 + correction), by covariate code."""

    const: float
    age: np.ndarray  # by age 0..120
    barn: np.ndarray  # 0..4
    lg: np.ndarray  # by landgruppe + 1 (index 0 = unknown)
    lgb: np.ndarray  # (5, 6): landgruppe + 1, botid category
    dummies: dict[str, float]
    income: np.ndarray  # 22 levels: lonn_ingen, lonn_d1..10, pgi_ingen, pgi_d1..10
    hist: np.ndarray  # by months 0..60
    dur: np.ndarray  # by min(duration, 60)
    hours: np.ndarray  # 7 hour categories
    inflow: np.ndarray  # 20 quantile classes


def _theta(delta: dict[str, float]) -> _Theta:
    pub = published_coefficients("atid3")
    c = pub.add(pd.Series(delta, dtype=float), fill_value=0.0)

    def g(name: str) -> float:
        return float(c.get(name, 0.0))

    age = np.array([g(f"alder[{'67+' if a >= 67 else max(a, 18)}]") if a != 40 else 0.0 for a in range(121)])
    barn = np.array([0.0] + [g(f"barn[{'4+' if b == 4 else b}]") for b in range(1, 5)])
    lg = np.array([g("landgruppe[-1]"), 0.0, g("landgruppe[1]"), g("landgruppe[2]"), g("landgruppe[3]")])
    lgb = np.zeros((5, 6))
    for gi, gg in enumerate((-1, 0, 1, 2, 3)):
        if gg == 0:
            continue
        for bi, b in enumerate(cov.BOTID_LABELS[:-1]):
            lgb[gi, bi] = g(f"landgruppe_botid[{gg}:{b}]")
    dummies = {k: g(f"{k}[yes]") for k in ("gift", "kvinne", "hoyere_utd", "ufor", "permittert", "helse_ytelse", "arbeid_ytelse")}
    income = np.array([0.0] + [g(f"inntekt[lonn_d{k}]") for k in range(1, 11)] + [g("inntekt[pgi_ingen]")]
                      + [g(f"inntekt[pgi_d{k}]") for k in range(1, 11)])
    hl = cov.history_category(pd.Series(np.arange(61))).astype(str)
    hist = np.array([0.0 if lab == "0" else g(f"nav_historikk[{lab}]") for lab in hl])
    dur = np.array([0.0] + [g(f"nav_varighet[{d}]") for d in range(1, 60)] + [g("nav_varighet[60+]")])
    hours = np.array([0.0] + [g(f"timer_t[{lab}]") for lab in cov.HOURS_LABELS[1:]])
    inflow = np.array([0.0] + [g(f"innstromming[q{q:02d}]") for q in range(2, 21)])
    return _Theta(g("const"), age, barn, lg, lgb, dummies, income, hist, dur, hours, inflow)


_BOTID_LOOKUP = np.searchsorted(np.array([12, 24, 36, 48, 120]), np.arange(0, 1501), side="left")
assert list(np.asarray(cov.BOTID_LABELS)[_BOTID_LOOKUP[[0, 12, 13, 120, 121]]]) == ["<=12", "<=12", "13-24", "49-120", ">120"]
_HOURS_EDGES = np.array([0.0, 8.0, 16.0, 24.0, 32.0, 38.0])  # covariates.hours_category: ≤0, ≤8, …, >38


def _hours_cat(j: np.ndarray) -> np.ndarray:
    return np.searchsorted(_HOURS_EDGES, j, side="left")


assert list(_hours_cat(np.array([0.0, 0.1, 8.0, 8.1, 38.0, 38.1]))) == [0, 1, 1, 2, 5, 6]


def _softplus(x: np.ndarray, s: float) -> np.ndarray:
    return s * np.logaddexp(0.0, x / s)


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return float(np.log(p / (1 - p)))



# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------


@dataclass
class _Setup:
    seed: int
    start: int
    end: int
    hours_end: int
    sim_first: int
    sim_last: int
    wages_first: int
    pgi_years: tuple[int, int]
    geo: _Geo
    theta: _Theta
    prm: dict[str, Any]
    g_month: np.ndarray  # G per month from sim_first - 24 to sim_last
    g_first: int
    g_ref: float
    inflow_cat: np.ndarray  # (R, months inflow_first..) quantile class 0..19 of the 3-month mean
    tau: np.ndarray  # planted NAV-wide effect per month (sim_first..sim_last)
    covid: np.ndarray  # labour-market shock per month (COVID waves, MARKET_KNOTS cycle)
    prog_cum: dict[str, np.ndarray]
    prog_len: np.ndarray


def _setup(seed: int, start: pd.Period, end: pd.Period, hours_end: pd.Period, prm: dict[str, Any]) -> _Setup:
    s, e, he = month_to_index(start), month_to_index(end), month_to_index(hours_end)
    sim_first = s - GENERATED_HISTORY_MONTHS
    geo = _geo(GEO_SEED, s, he)
    g = load_g(DEFAULT_G_PATH)
    g_first = sim_first - 24
    g_month = g_per_month(g, g_first, he)
    if np.isnan(g_month).any():
        raise ValueError("data/reference/G.csv does not cover the generated months")
    g_ref = float(g_per_month(g, month_to_index(G_REF_YEAR_MONTH), month_to_index(G_REF_YEAR_MONTH))[0])
    # inflow classes: 3-month forward means, quantiles weighted by each region's share of persons
    R, M = geo.inflow.shape
    cs = np.concatenate([np.zeros((R, 1)), np.cumsum(geo.inflow, axis=1)], axis=1)
    t = np.arange(M)
    hi = np.minimum(t + 3, M - 1)
    used = np.maximum(hi - t, 1)
    mean3 = (cs[:, hi + 1] - cs[:, np.minimum(t + 1, M)]) / used
    mean3[:, t >= M - 1] = geo.inflow[:, t >= M - 1]
    reg_w = np.bincount(geo.office_region, weights=geo.office_weight, minlength=R)
    in_period = t <= e - s
    vals = mean3[:, in_period].ravel()
    w = np.repeat(reg_w, in_period.sum())
    order = np.argsort(vals)
    cw = np.cumsum(w[order]) / w.sum()
    edges = vals[order][np.searchsorted(cw, np.linspace(0, 1, 21)[1:-1])]
    inflow_cat = np.searchsorted(edges, mean3, side="right")
    months = np.arange(sim_first, he + 1)
    kn_m = np.array([month_to_index(k) for k, _ in NAV_TIME_KNOTS])
    kn_v = np.array([v for _, v in NAV_TIME_KNOTS])
    tau = np.where(months < kn_m[0], 0.0, np.interp(months, kn_m, kn_v))
    covid = np.array([COVID_SHOCK.get(str(index_to_month(m)), 0.0) for m in months])
    mk_m = np.array([month_to_index(k) for k, _ in MARKET_KNOTS])
    mk_v = np.array([v for _, v in MARKET_KNOTS])
    covid = covid - float(prm.get("market_dip", 0.0)) * np.interp(months, mk_m, mk_v)  # constant before the first knot, 0 after the last
    prog_cum = {}
    for k, mix in PROGRAMME_MIX.items():
        p = np.zeros(len(TILTAK_CODES))
        for code, share in mix.items():
            p[_T[code]] = share
        prog_cum[k] = np.cumsum(p / p.sum())
    prog_len = np.array([PROGRAMME_MONTHS.get(c, 1) for c in TILTAK_CODES], dtype=float)
    return _Setup(seed, s, e, he, sim_first, he, max(month_to_index(WAGE_DATA_START), sim_first),
                  (sim_first // 12 - 1, e // 12 - 1), geo, _theta(prm.get("theta_delta", {})), prm,
                  g_month, g_first, g_ref, inflow_cat, tau, covid, prog_cum, prog_len)


def _draw_len(rng: np.random.Generator, typ: np.ndarray, prm: dict[str, Any]) -> np.ndarray:
    """Scheduled spell length in months: lognormal by type (heavy tails: many short spells, a few
    very long ones, as the row-weighted mean durations of table 2 and ~16 rows per person imply)."""
    med = np.asarray(prm["len_median"], float)[np.minimum(typ, 2)]
    sig = np.asarray(prm["len_sigma"], float)[np.minimum(typ, 2)]
    L = np.ceil(rng.lognormal(np.log(med), sig)).astype(np.int64)
    lv = rng.integers(6, 61, len(typ))
    return np.where(typ == 3, lv, np.maximum(L, 1))


def _draw_gap(rng: np.random.Generator, n: int, prm: dict[str, Any]) -> np.ndarray:
    u = rng.random(n)
    short = rng.integers(1, 3, n)
    mid = rng.integers(3, 13, n)
    long = rng.integers(13, 49, n)
    return np.where(u < prm["short_gap_share"], short, np.where(u < prm["short_gap_share"] + 0.45, mid, long))


_TRANS = np.array([[0.80, 0.12, 0.08], [0.30, 0.60, 0.10], [0.30, 0.30, 0.40]])


def _draw_type_from(rng: np.random.Generator, prev: np.ndarray) -> np.ndarray:
    cum = np.cumsum(_TRANS, axis=1)[prev]
    return (rng.random(len(prev))[:, None] > cum).sum(axis=1).clip(0, 2)


def _pick(rng: np.random.Generator, n: int, probs: dict[str, float], codes: tuple[str, ...]) -> np.ndarray:
    p = np.array([probs.get(c, 0.0) for c in codes])
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right").clip(0, len(codes) - 1)
