"""The month loop: one chunk of simulated persons (:func:`_simulate`) and its panel rows.

:func:`_chunk_rows` and :func:`_chunk_panel` give the rows and columns the panel builder
would make of the chunk's extracts (used by the tilt, the truth and the tests), without
writing anything.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.special import expit

from arbeidsindikator.data.contract import FYLKER, HOVEDGRUPPER, INNSATSGRUPPER
from arbeidsindikator.data.extracts import HISTORY_MONTHS, INNSATSGRUPPER_RAW, index_to_month, month_to_index
from arbeidsindikator.panel.outcomes import HORIZONS, JOB_HOURS_PER_WEEK, WEEKS_PER_MONTH, compute_outcomes
from arbeidsindikator.panel.build import AGE_MAX, AGE_MIN, spell_breaks
from arbeidsindikator.synthetic.world import (
    BIG_JOB, COUNTY_LG3, COVID_ENTRY, COVID_NOT_ASSESSED, COVID_RECALL, GAP_MONTHS, HOURS_SEASON, PERM_RECALL,
    PROGRAMME_EFFECT, SEASON, SMALL_JOB, TILTAK_CODES, _BOTID_LOOKUP, _EH_BIG, _EH_SMALL, _MISSING, _SYKMELDT,
    _Setup, _T, _draw_gap, _draw_len, _draw_type_from, _hours_cat, _logit, _pick, _softplus,
)


#: Upper bound of the recorded weekly hours of a month (the record noise can push a full-time
#: job's record up to this; the contract rejects more than 24 h × days a month).
MAX_RECORDED_HOURS = 150.0


#: Mean-one recording errors never take a record over the job threshold of ``jobb`` (19 h a week)
#: below it (0.1 h above it, so the record's rounding to 0.1 monthly hour keeps it over).
_ERR_FLOOR = JOB_HOURS_PER_WEEK + 0.1


def record_error_share(rate: float, months: float) -> float:
    """Stationary share of a job's months inside a recording-error episode.

    Episodes start with probability ``rate`` in a month outside one and end with probability
    1/``months`` (geometric length, mean ``months``): the two-state chain spends
    rate / (rate + 1/months) of its months inside an episode.
    """
    if rate <= 0:
        return 0.0
    return rate * months / (1.0 + rate * months)


def apply_record_errors(base: np.ndarray, err_on: np.ndarray, affected: np.ndarray, factor: float,
                        share: float | None, cap: float = MAX_RECORDED_HOURS,
                        floor: float | None = None) -> np.ndarray:
    """Recorded weekly hours of a month: ``base`` (the job's hours × the month's record factor)
    times ``factor`` where an episode is on (``err_on``), capped at ``cap``.

    With ``share`` (the stationary episode share p, :func:`record_error_share`) the error is
    **mean one**: the other months of the ``affected`` jobs are recorded lower, so that
    p · f · base + (1 − p) · (their record) = base for every job (f = min(factor, cap / base), the
    error's factor after the cap): a record that is too high in some months is balanced by
    records a little too low in the others. Without ``floor`` the other months are c · base,
    c = (1 − p f)/(1 − p). With ``floor`` only the part above min(base, floor) is scaled,
    floor + c (base − floor), so that a record over the floor stays over it (``floor`` just above
    the 19 h of a job, ``jobb``: the work shares are unchanged); where even c = 0 cannot keep
    the mean (jobs a few hours over the floor), c is 0 and that job's mean rises a little.
    ``share`` None: the error only inflates (the mean rises).
    """
    b = np.asarray(base, dtype=float)
    f_eff = np.where(b > 0, np.minimum(factor, cap / np.where(b > 0, b, 1.0)), factor)
    rec = np.where(err_on, b * f_eff, b)
    if share is not None and share > 0:
        lo = np.zeros_like(b) if floor is None else np.minimum(b, floor)
        room = (1.0 - share) * (b - lo)
        need = b - share * f_eff * b - (1.0 - share) * lo
        c = np.clip(np.divide(need, room, out=np.ones_like(b), where=room > 0), 0.0, 1.0)
        rec = np.where(affected & ~err_on, lo + c * (b - lo), rec)
    return np.minimum(rec, cap)


@dataclass
class _Chunk:
    """Everything generated for one chunk of persons (arrays over persons or persons × months)."""

    pid: np.ndarray
    typ: np.ndarray
    birth: np.ndarray
    female: np.ndarray
    lg: np.ndarray
    immig: np.ndarray
    office: np.ndarray
    hw: np.ndarray
    IG: np.ndarray
    HG: np.ndarray
    PROG: np.ndarray
    FLAGS: np.ndarray
    GIFT: np.ndarray
    BARN: np.ndarray
    HOY: np.ndarray
    JF: np.ndarray
    JC: np.ndarray
    pgi_nok: dict[int, np.ndarray]
    HIST: np.ndarray  # months in the population in the last 60 before each month (panel: nav_historikk)
    DUR: np.ndarray  # months since the spell's start, uncapped (panel: nav_varighet)


def _simulate(su: _Setup, chunk_idx: int, first_pid: int, n: int, n_covid: int) -> _Chunk:
    prm = su.prm
    rng = np.random.default_rng(np.random.SeedSequence([su.seed, chunk_idx]))
    T = su.sim_last - su.sim_first + 1
    F = su.sim_first
    pid = np.arange(first_pid, first_pid + n, dtype=np.int64)

    # ---- persons --------------------------------------------------------------------------
    ts = np.asarray(prm["type_share"], float)
    typ = np.searchsorted(np.cumsum(ts / ts.sum()), rng.random(n), side="right").clip(0, 2)
    covid_p = np.zeros(n, dtype=bool)
    covid_p[:n_covid] = True
    typ[covid_p] = 0
    geo = su.geo
    office = rng.choice(len(geo.office_codes), n, p=geo.office_weight)
    county = geo.office_county[office]
    region = geo.office_region[office]
    # focal spell
    L0 = _draw_len(rng, typ, prm)
    s0 = rng.integers(su.start - L0 + 1, su.end + 1)
    cov_m = np.array([month_to_index(k) for k in COVID_ENTRY])
    cov_w = np.array(list(COVID_ENTRY.values()))
    cov_start = cov_m[np.searchsorted(np.cumsum(cov_w / cov_w.sum()), rng.random(n), side="right").clip(0, len(cov_m) - 1)]
    s0 = np.where(covid_p, cov_start, s0)
    L0 = np.where(covid_p, 1 + rng.geometric(0.15, n), L0)
    ref = np.clip(s0 + L0 // 2, su.start, su.end)
    am = np.asarray(prm["age_mean"])[typ]
    asd = np.asarray(prm["age_sd"])[typ]
    age_ref = np.clip(rng.normal(am, asd), 18.0 + L0 / 24.0, 66.0)
    birth = (ref - np.round(age_ref * 12)).astype(np.int64)
    female = rng.random(n) < np.asarray(prm["female"])[typ]
    lgp = np.asarray(prm["lg_probs"], float)[typ].copy()
    lgp[:, 4] *= COUNTY_LG3[county]
    lgp /= lgp.sum(axis=1, keepdims=True)
    lg = (rng.random(n)[:, None] > np.cumsum(lgp, axis=1)).sum(axis=1).clip(0, 4) - 1  # -1..3
    yrs_here = np.minimum(rng.exponential(9.0, n) + 0.2, np.maximum(age_ref - 1, 0.5))
    immig = np.where((lg > 0) | ((lg == -1) & (rng.random(n) < 0.5)), ref - np.round(yrs_here * 12), _MISSING).astype(np.int64)
    immig = np.where(immig != _MISSING, np.maximum(immig, birth), _MISSING)
    u = rng.normal(0, prm["u_sd"], n)
    hw = np.asarray(prm["hourly_wage"])[typ] * rng.lognormal(0, 0.3, n) * np.exp(0.08 * u)
    # marriage (and divorce), children, higher education
    marry = rng.random(n) < np.asarray(prm["p_marry"])[typ]
    marr_m = np.where(marry, birth + np.round(np.clip(rng.normal(31, 5, n), 19, 60) * 12), 10 ** 6).astype(np.int64)
    div_m = np.where(rng.random(n) < 0.3, marr_m + rng.integers(24, 240, n), 10 ** 6)
    n_kids = np.minimum(rng.poisson(np.asarray(prm["children_mean"])[typ]), 6)
    kid_birth = birth[:, None] + np.round(np.clip(rng.normal(30, 5, (n, 6)), 17, 48) * 12).astype(np.int64)
    kid_birth = np.where(np.arange(6)[None, :] < n_kids[:, None], kid_birth, 10 ** 6)
    young = (typ == 0) & (age_ref >= 22) & (age_ref <= 32) & ~covid_p
    grad = np.where(young & (rng.random(n) < prm["he_share"]), s0 - rng.integers(0, 4, n), -(10 ** 6))

    # ---- spells ---------------------------------------------------------------------------
    sp_p = [np.arange(n)]
    sp_s = [s0]
    sp_e = [s0 + L0 - 1]
    sp_t = [typ.copy()]
    sp_focal = [np.ones(n, bool)]
    cur, cur_t = s0.copy(), typ.copy()
    k_prev = np.minimum(rng.poisson(np.asarray(prm["prev_rate"])[typ]), 3)
    k_prev[covid_p] = np.minimum(k_prev[covid_p], 1)
    for jj in range(1, 4):
        act = k_prev >= jj
        t_j = _draw_type_from(rng, cur_t)
        gap = _draw_gap(rng, n, prm)
        L = _draw_len(rng, t_j, prm)
        e_ = cur - gap - 1
        s_ = e_ - L + 1
        act &= e_ >= F - 24
        sp_p.append(np.flatnonzero(act)); sp_s.append(s_[act]); sp_e.append(e_[act]); sp_t.append(t_j[act])
        sp_focal.append(np.zeros(act.sum(), bool))
        cur = np.where(act, s_, cur)
        cur_t = np.where(act, t_j, cur_t)
    cur, cur_t = s0 + L0 - 1, typ.copy()
    k_next = np.minimum(rng.poisson(np.asarray(prm["next_rate"])[typ]), 3)
    for jj in range(1, 4):
        act = k_next >= jj
        t_j = _draw_type_from(rng, cur_t)
        gap = _draw_gap(rng, n, prm)
        # continuation without a gap: others assessed to reduced work capacity, some job seekers too
        cont = ((cur_t == 2) & (rng.random(n) < prm["p_A_to_N"])) | ((cur_t == 0) & (rng.random(n) < prm["p_J_to_N"]))
        t_j = np.where(cont, 1, t_j)
        gap = np.where(cont, 0, gap)
        L = _draw_len(rng, t_j, prm)
        s_ = cur + gap + 1
        act = (act | cont) & (s_ <= su.sim_last)
        sp_p.append(np.flatnonzero(act)); sp_s.append(s_[act]); sp_e.append((s_ + L - 1)[act]); sp_t.append(t_j[act])
        sp_focal.append(np.zeros(act.sum(), bool))
        cur = np.where(act, s_ + L - 1, cur)
        cur_t = np.where(act, t_j, cur_t)
    sp_p_a = np.concatenate(sp_p)
    sp_s_a = np.concatenate(sp_s)
    sp_e_a = np.concatenate(sp_e)
    sp_t_a = np.concatenate(sp_t)
    sp_f_a = np.concatenate(sp_focal)
    # order by person and start (prev/next spells never overlap: gaps are ≥ 1, continuations 0)
    order = np.lexsort((sp_s_a, sp_p_a))
    sp_p_a, sp_s_a, sp_e_a, sp_t_a, sp_f_a = (a[order] for a in (sp_p_a, sp_s_a, sp_e_a, sp_t_a, sp_f_a))
    # varig tilpasset after a person's last spell if it is reduced work capacity (excluded later)
    last = np.r_[sp_p_a[1:] != sp_p_a[:-1], True]
    varig = last & (sp_t_a == 1) & (rng.random(len(sp_t_a)) < prm["p_varig"]) & (sp_e_a < su.sim_last)
    vp, vs = sp_p_a[varig], sp_e_a[varig] + 1
    ve = vs + rng.integers(6, 61, int(varig.sum())) - 1
    sp_p_a = np.concatenate([sp_p_a, vp]); sp_s_a = np.concatenate([sp_s_a, vs]); sp_e_a = np.concatenate([sp_e_a, ve])
    sp_t_a = np.concatenate([sp_t_a, np.full(len(vp), 3)]); sp_f_a = np.concatenate([sp_f_a, np.zeros(len(vp), bool)])
    keep = ((sp_e_a >= F) & (sp_s_a <= su.sim_last)) | sp_f_a
    sp_p_a, sp_s_a, sp_e_a, sp_t_a, sp_f_a = (a[keep] for a in (sp_p_a, sp_s_a, sp_e_a, sp_t_a, sp_f_a))
    S = len(sp_p_a)
    # nobody is registered with NAV before immigrating: move immigration before the first spell
    first_start = np.full(n, 10 ** 6, np.int64)
    np.minimum.at(first_start, sp_p_a, np.maximum(sp_s_a, F))
    immig = np.where(immig != _MISSING, np.maximum(np.minimum(immig, first_start), birth), _MISSING)
    # spell-level attributes
    serv = np.zeros(S, np.int8)
    for k, code in enumerate("JNA"):
        sel = sp_t_a == k
        serv[sel] = _pick(rng, int(sel.sum()), prm["serv_plan"][code], INNSATSGRUPPER)
    serv[sp_t_a == 3] = INNSATSGRUPPER_RAW.index("varig_tilpasset")
    iv_len = np.where(sp_t_a == 0, rng.geometric(1.0 / (1 + prm["iv_mean"]), S) - 1, 0)
    covid_sp = covid_p[sp_p_a] & sp_f_a
    iv_len = np.where(covid_sp & (rng.random(S) < COVID_NOT_ASSESSED), 10 ** 4, iv_len)
    ben = np.zeros((S, 5), bool)
    for k, code in enumerate("JNA"):
        sel = sp_t_a == k
        ben[sel] = rng.random((int(sel.sum()), 5)) < np.asarray(prm["benefits"][code])[None, :]
    ben[:, 3] &= female[sp_p_a] & (n_kids[sp_p_a] > 0)
    perm = (sp_t_a == 0) & ((rng.random(S) < prm["perm_share"]) | covid_sp)
    perm_len = np.where(covid_sp, rng.integers(3, 9, S), rng.integers(1, 5, S))
    recall_mult = np.where(covid_sp, COVID_RECALL, PERM_RECALL)
    ben[perm, 2] = True  # furloughed receive unemployment benefit
    cut = np.full(S, 10 ** 6, np.int64)

    REG = np.full((n, T), -1, np.int32)
    a = np.clip(sp_s_a, F, su.sim_last) - F
    b = np.clip(sp_e_a, F - 1, su.sim_last) - F
    ln = np.maximum(b - a + 1, 0)
    rows = np.repeat(sp_p_a, ln)
    cols = np.repeat(a, ln) + (np.arange(ln.sum()) - np.repeat(np.cumsum(ln) - ln, ln))
    REG[rows, cols] = np.repeat(np.arange(S, dtype=np.int32), ln)

    # ---- month loop ---------------------------------------------------------------------------
    th = su.theta
    IG = np.full((n, T), -1, np.int8)
    HG = np.zeros((n, T), np.int8)
    PROG = np.zeros((n, T), np.int8)
    FLAGS = np.zeros((n, T), np.uint8)
    JF = np.zeros((n, T), np.float32)
    JC = np.zeros((n, T), np.float32)
    INPOP = np.zeros((n, T), bool)
    HIST = np.zeros((n, T), np.int16)
    DUR = np.zeros((n, T), np.int16)
    reg0 = REG[:, 0] >= 0
    pre_emp = rng.random(n) < np.where(reg0, 0.15, np.asarray(prm["pre_emp"])[typ])
    big0 = rng.random(n) < 0.7
    J = np.where(pre_emp, np.where(big0, rng.uniform(*BIG_JOB, n), rng.uniform(*SMALL_JOB, n)), 0.0)
    Jc = J.copy()
    anchor_mu = np.zeros(n)
    anchor_mu_cf = np.zeros(n)
    anchor_lnp = np.zeros(n)
    anchor_lnp_cf = np.zeros(n)
    anchor_lam = np.zeros(n)
    anchor_keep = np.zeros(n)
    anchor_keep_cf = np.zeros(n)
    anchor_lam_cf = np.zeros(n)
    anchor_m = np.full(n, -1, np.int64)
    anchor_t = np.zeros(n, np.int64)
    anchor_dur = np.full(n, -1, np.int64)
    mu_pre = np.asarray(prm["pre_mu"])[typ] + u
    last_in = np.full(n, -(10 ** 6), np.int64)
    obs_start = np.zeros(n, np.int64)
    inc_lvl = np.zeros(n, np.int64)
    hist = np.zeros(n, np.int64)
    prog = np.zeros(n, np.int64)
    prog_left = np.zeros(n, np.int64)
    prog_tp = np.zeros(n, bool)
    lt_hours = np.zeros(n)
    J_before = np.zeros(n)
    reg_prev = np.zeros(n, bool)
    a_main = np.asarray(prm["alpha_main"], float)
    a_serv = np.asarray(prm["alpha_serv"] + [0.0], float)
    a_cty = np.asarray(prm["alpha_county"], float)
    l_main = np.asarray(prm["lam_main"], float)
    l_serv = np.asarray(prm["lam_serv"] + [0.0], float)
    l_cty = np.asarray(prm["lam_county"], float)
    uplift = np.asarray(prm["uplift"] + [0.0], float)
    k_big, k_small = _logit(prm["kappa_big"]), _logit(prm["kappa_small"])
    k_main = np.asarray(prm.get("keep_main", [0.0] * 5), float)
    k_serv = np.asarray(list(prm.get("keep_serv", [0.0] * 7)) + [0.0], float)
    k_cty = np.asarray(prm.get("keep_county", [0.0] * 15), float)
    exit_p = np.asarray(prm["exit_prob"] + [0.0], float)
    loss = np.asarray(prm["entry_job_loss"] + [0.85], float)
    prog_eff = np.array([PROGRAMME_EFFECT[c] for c in TILTAK_CODES])
    off_eff = geo.office_effect[office]
    g_ref = su.g_ref
    wage_factor = hw * WEEKS_PER_MONTH / g_ref  # income in G per weekly hour worked in a month
    pgi_nok: dict[int, np.ndarray] = {}
    first_year = F // 12 + (1 if F % 12 else 0)
    pgi_scale = np.broadcast_to(np.asarray(prm.get("pgi_scale", 1.0), float), (3,))[typ]
    base_pgi = np.where(rng.random(n) < 0.8, hw * 52 * rng.uniform(10, 40, n), 0.0) * pgi_scale
    for y in range(su.pgi_years[0], first_year):
        gy = su.g_month[np.clip(y * 12 - su.g_first, 0, None): y * 12 - su.g_first + 12].mean()
        pgi_nok[y] = np.round(base_pgi * gy / g_ref * rng.lognormal(0, 0.15, n))
    year_wage = np.zeros(n)
    year_ben = np.zeros(n)
    s_scale = prm["softplus_scale"]
    # residual noise of the outcome process (see world.residual_noise): a persistent person part
    # and a monthly part, from their own random stream (so zero noise leaves every other draw alone)
    noise_sd = float(prm.get("noise_sd", 0.0))
    noise_rho = float(prm.get("noise_person_share", 0.0))
    noise_keep = float(prm.get("noise_keep", 0.0))
    burn_in = bool(prm.get("burn_in", False))
    hours_noise_sd = float(prm.get("hours_noise_sd", 0.0))
    hours_noise_rho = float(prm.get("hours_noise_person_share", 0.0))
    if hours_noise_sd > 0:
        hrng = np.random.default_rng(np.random.SeedSequence([su.seed, chunk_idx, 90_211]))
        hours_z = hrng.normal(0.0, 1.0, n)
    if noise_sd > 0:
        nrng = np.random.default_rng(np.random.SeedSequence([su.seed, chunk_idx, 90_210]))
        noise_z = nrng.normal(0.0, 1.0, n)
    # recording errors of the hours of a job over 19 h: episodes (start rate per job-month, mean
    # length in months) in which the record is a multiple of the agreed hours (own random stream)
    err_rate = float(prm.get("record_error_rate", 0.0))
    err_len = float(prm.get("record_error_months", 1.0))
    err_factor = float(prm.get("record_error_factor", 1.0))
    # mean-one errors: the other months of a job over 19 h are recorded a little low (apply_record_errors)
    err_share = record_error_share(err_rate, err_len) if prm.get("record_error_mean_one", False) else None
    if err_rate > 0:
        erng = np.random.default_rng(np.random.SeedSequence([su.seed, chunk_idx, 90_212]))
        err_on = np.zeros(n, bool)
    lonn_edges = np.asarray(prm["lonn_edges"])
    pgi_edges = np.asarray(prm["pgi_edges"])
    lt_code = _T["midlertidig_lonnstilskudd"]
    ips_code = _T["ips"]
    for j in range(T):
        m = F + j
        sid = REG[:, j]
        has = sid >= 0
        sc = np.where(has, sid, 0)
        reg = has & (m <= cut[sc])
        typ_m = np.where(reg, sp_t_a[sc], -1)
        inpop = reg & (typ_m != 3)
        since = m - sp_s_a[sc]
        # -- hours of month m from the latest row before m (factual and counterfactual) --------
        r_keep, r_start, r_big, r_lvl, r_x = (rng.random(n) for _ in range(5))
        seas = SEASON[m % 12] + su.covid[j]
        d = m - anchor_m
        upl = np.where(d > 1, uplift[anchor_t] * np.minimum(d - 1, 6) / 6, 0.0)
        # the month after a spell's first month: fewer job starts (registration, first meetings);
        # this is the level of table 4's duration block, which θ alone cannot move (it acts on
        # the next month only, the outcome spans three)
        entry_pen = np.where((d == 1) & (anchor_dur == 0), prm.get("entry_pen", 0.0), 0.0)
        if noise_sd > 0:
            eps = noise_sd * (np.sqrt(noise_rho) * noise_z + np.sqrt(1.0 - noise_rho) * nrng.normal(0.0, 1.0, n))
        else:
            eps = 0.0
        out, pfind = [], []
        for Jp, amu, alam, akeep, alnp in ((J, anchor_mu, anchor_lam, anchor_keep, anchor_lnp),
                                           (Jc, anchor_mu_cf, anchor_lam_cf, anchor_keep_cf, anchor_lnp_cf)):
            mu = np.where(anchor_m >= 0, amu + th.hours[_hours_cat(Jp)] + upl, mu_pre) + seas + eps
            lam = expit(np.where(anchor_m >= 0, alam, prm["lambda0"]))
            eh = lam * _EH_BIG + (1 - lam) * _EH_SMALL
            kap = expit(np.where(Jp > 19, k_big, k_small) + np.where(anchor_m >= 0, akeep, 0.0) + noise_keep * eps / s_scale)
            keep = (Jp > 0) & (r_keep < kap)
            # job-finding probability: table-4 index through softplus, times the group multipliers
            pf = np.minimum(_softplus(mu, s_scale) / eh * np.exp(np.where(anchor_m >= 0, alnp, 0.0) - entry_pen), 0.95)
            pfind.append(pf)
            found = r_start < pf
            level = np.where(r_big < lam, BIG_JOB[0] + (BIG_JOB[1] - BIG_JOB[0]) * r_lvl,
                             SMALL_JOB[0] + (SMALL_JOB[1] - SMALL_JOB[0]) * r_lvl)
            # a new job replaces no job or a lost one; holders of a small job take a bigger one
            # when they find it (part-timers work more over time, seed 002 table 1)
            upgrade = keep & (Jp <= 19) & found & (level > Jp)
            out.append(np.where(keep & ~upgrade, Jp, np.where(found, level, 0.0)))
        Jn, Jcn = out
        # -- entries: job loss when a spell starts after a month outside NAV ----------------------
        entry = reg & (since == 0) & ~reg_prev
        # sick without an employer ("sykmeldt uten arbeidsgiver") have, by definition, no job
        lose = entry & ((r_x < loss[np.maximum(typ_m, 0)]) | (serv[sc] == _SYKMELDT))
        pperm = entry & perm[sc]
        # the furloughed of the COVID waves mostly held full-time jobs (37.5 h): their recall
        # is what lifts the outcomes of "ikke vurdert" (table 3: 17.9 h, 47 % in work)
        full = covid_sp[sc] & (r_big < prm.get("covid_fulltime", 0.0))
        J_before = np.where(pperm, np.where(full, 37.5, np.where(Jn > 0, Jn, BIG_JOB[0] + 15 * r_lvl)), J_before)
        # job seekers who keep part of their job register as partly unemployed
        partial = entry & ~lose & (typ_m == 0)
        part_h = np.where(r_big < prm["partial_big_share"], 20 + 17.5 * r_lvl, 5 + 14 * r_lvl)
        Jn = np.where(lose | pperm, 0.0, np.where(partial, part_h, Jn))
        Jcn = np.where(lose | pperm, 0.0, np.where(partial, part_h, Jcn))
        # furloughed are recalled to their job, with a multiple of their job-finding probability
        # (so the table-4 index, incl. the furlough coefficient, also governs recalls)
        perm_m = reg & perm[sc] & (since < perm_len[sc])
        r_rec = rng.random(n)
        recall = perm_m & (Jn < 0.5 * J_before) & (r_rec < np.minimum(pfind[0] * recall_mult[sc], 0.95))
        recall_c = perm_m & (Jcn < 0.5 * J_before) & (r_rec < np.minimum(pfind[1] * recall_mult[sc], 0.95))
        Jn = np.where(recall, J_before, Jn)
        Jcn = np.where(recall_c, J_before, Jcn)
        perm_m &= Jn < 0.5 * J_before
        # -- programmes ---------------------------------------------------------------------------
        barn_now = ((kid_birth <= m) & (kid_birth > m - 216)).sum(axis=1)
        gift_now = (m >= marr_m) & (m < div_m)
        cont = inpop & (prog_left > 0) & (typ_m == anchor_t) & (anchor_m == m - 1)
        prog_left = np.where(cont, prog_left - 1, 0)
        haz = np.where(typ_m == 0, prm["prog_hazard"][0], np.where(typ_m == 1, prm["prog_hazard"][1], 0.0))
        # programmes go more to the young, immigrants from outside the EU, parents, those with low
        # pre-entry income and poorer prospects, and a little later in the spell
        haz = (haz * np.select([lg == 3, lg == 2], [2.2, 0.7], 1.0) * np.where(birth > m - 30 * 12, 1.8, 1.0)
               * (1 + 0.25 * np.minimum(barn_now, 3)) * np.where(inc_lvl % 11 == 0, 2.0, np.exp(-0.12 * (inc_lvl % 11 - 5)))
               * np.exp(-0.5 * u / prm["u_sd"]) * (since >= 1) * np.exp(prm["prog_ramp"] * (np.minimum(since, 12) / 12 - 0.5)))
        new_p = inpop & ~cont & (rng.random(n) < haz)
        mix_u = rng.random(n)
        pj = np.searchsorted(su.prog_cum["J"], mix_u, side="right")
        pn = np.searchsorted(su.prog_cum["N"], mix_u, side="right")
        # IPS goes to persons with poor (unobserved) prospects; wage subsidy to better ones
        pn = np.where((pn == ips_code) & (u > 0) & (r_x < 0.7), _T["arbeidsforberedende_trening"], pn)
        pj = np.where((pj == lt_code) & (u < -1) & (r_x < 0.6), _T["oppfolging"], pj)
        code = np.where(typ_m == 0, pj, pn).clip(1, len(TILTAK_CODES) - 1)
        prog = np.where(new_p, code, np.where(cont, prog, 0))
        prog_left = np.where(new_p, rng.geometric(1.0 / su.prog_len[code]) - 1, prog_left)
        prog_tp = np.where(new_p, rng.random(n) < 0.4, prog_tp)
        lt_hours = np.where(new_p & (prog == lt_code), rng.uniform(28, 37.5, n), lt_hours)
        quit_ = new_p & (prog != lt_code) & (rng.random(n) < prm.get("prog_job_loss", 0.3))
        Jn = np.where(quit_, 0.0, Jn)
        Jcn = np.where(quit_, 0.0, Jcn)
        on_lt = prog == lt_code
        Jn = np.where(on_lt, np.maximum(Jn, lt_hours), Jn)
        Jcn = np.where(on_lt, np.maximum(Jcn, lt_hours), Jcn)
        # -- main group, service group, benefits ----------------------------------------------------
        hg = np.where(typ_m == 1, 0, np.where(typ_m == 2, 4, np.where(typ_m == 3, 0, 1)))
        phi = expit(np.where(Jn > 19, _logit(prm["delvis_big"]), _logit(prm["delvis_small"])) + 0.8 * female
                    - 0.8 * (lg == 3) + 0.3 * gift_now + prm["delvis_ramp"] * (np.minimum(since, 12) / 12 - 0.5))
        delvis = (Jn > 0) & (rng.random(n) < phi)
        hg = np.where(typ_m == 0, np.where(prog > 0, 3, np.where(delvis, 2, 1)), hg)
        ig = np.where((typ_m == 0) & (since < iv_len[sc]), INNSATSGRUPPER.index("ikke_vurdert"), serv[sc])
        bn = ben[sc]
        flags = (bn[:, 0] * 1 + (bn[:, 1] & ((since < 12) | (typ_m == 1))) * 2
                 + (bn[:, 2] & (since < 24) & ~((prog > 0) & prog_tp) | perm_m) * 4 + bn[:, 3] * 8 + bn[:, 4] * 16
                 + perm_m * 32).astype(np.uint8)
        # -- leaving NAV for a job (the focal spell always reaches the period) ----------------------
        ex_ = inpop & (Jn >= prm["exit_hours"]) & (rng.random(n) < exit_p[np.maximum(typ_m, 0)])
        ex_ |= inpop & recall & covid_sp[sc] & (rng.random(n) < 0.8)  # most recalled furloughed deregister
        if not burn_in:  # (the committed world) a focal spell is held open until the period starts
            ex_ &= ~sp_f_a[sc] | (m >= su.start)
        ex_ &= prog != lt_code  # a wage subsidy keeps the person registered until it ends
        cut[sc[ex_]] = m
        # -- covariates of row m (the panel builder's definitions) ------------------------------------
        gap = m - last_in - 1
        new_obs = inpop & ((last_in < -(10 ** 5)) | spell_breaks(gap, GAP_MONTHS))
        obs_start = np.where(new_obs, m, obs_start)
        censored = obs_start <= F
        if j >= 1:
            hist = hist + INPOP[:, j - 1]
        if j >= HISTORY_MONTHS + 1:
            hist = hist - INPOP[:, j - HISTORY_MONTHS - 1]
        INPOP[:, j] = inpop
        HIST[:, j] = hist
        DUR[:, j] = m - obs_start
        last_in = np.where(inpop, m, last_in)
        if new_obs.any():
            use_pgi = censored | (m - 12 < su.wages_first)
            y = np.where(censored, F // 12, m // 12) - 1
            gy = np.array([su.g_month[max(yy * 12 - su.g_first, 0): yy * 12 - su.g_first + 12].mean() for yy in range(y.min(), y.max() + 1)])
            pg = np.zeros(n)
            for yy in np.unique(y[new_obs & use_pgi]):
                sel = new_obs & use_pgi & (y == yy)
                pg[sel] = pgi_nok[int(yy)][sel] / gy[yy - y.min()]
            lvl_p = 11 + np.where(pg > 0, 1 + np.searchsorted(pgi_edges, pg, side="right"), 0).clip(0, 10)
            wsum = JF[:, max(j - 12, 0):j].sum(axis=1)
            lg_ = wage_factor * wsum
            lvl_w = np.where(lg_ > 0, 1 + np.searchsorted(lonn_edges, lg_, side="right"), 0).clip(0, 10)
            inc_lvl = np.where(new_obs, np.where(use_pgi, lvl_p, lvl_w), inc_lvl)
        dur = np.minimum(m - obs_start, 60)
        age = np.clip((m - birth) // 12, 0, 120)
        barn = ((kid_birth <= m) & (kid_birth > m - 216)).sum(axis=1)
        gift = (m >= marr_m) & (m < div_m)
        hoy = (m >= grad) & (m < grad + 12)
        botid_cat = np.where(immig == _MISSING, 5, _BOTID_LOOKUP[np.clip(m - immig, 0, 1500)])
        ic = su.inflow_cat[region, np.clip(m - su.geo.inflow_first, 0, su.inflow_cat.shape[1] - 1)]
        fl = flags
        helse = (fl & 3) > 0
        arbeid = (fl & 12) > 0
        mu_row = (th.const + th.age[age] + th.barn[np.minimum(barn, 4)] + th.lg[lg + 1] + th.lgb[lg + 1, botid_cat]
                  + th.dummies["gift"] * gift + th.dummies["kvinne"] * female + th.dummies["hoyere_utd"] * hoy
                  + th.dummies["ufor"] * ((fl & 16) > 0) + th.dummies["permittert"] * perm_m
                  + th.dummies["helse_ytelse"] * helse + th.dummies["arbeid_ytelse"] * arbeid
                  + th.income[inc_lvl] + th.hist[np.minimum(hist, 60)] + th.dur[dur] + th.inflow[ic]
                  + u)
        planted = off_eff + prog_eff[prog] + su.tau[j]
        lnp_row = a_main[hg] + a_serv[np.minimum(ig, 7)] + prm.get("a_shift", 0.0)
        anchor_lnp = np.where(inpop, lnp_row + a_cty[county], anchor_lnp)
        anchor_lnp_cf = np.where(inpop, lnp_row, anchor_lnp_cf)
        lam_row = prm["lambda0"] + l_main[hg] + l_serv[np.minimum(ig, 7)] + prm.get("lam_shift", 0.0)
        keep_row = k_main[hg] + k_serv[np.minimum(ig, 7)] + prm.get("keep_shift", 0.0)
        anchor_keep = np.where(inpop, keep_row + k_cty[county], anchor_keep)
        anchor_keep_cf = np.where(inpop, keep_row, anchor_keep_cf)
        anchor_mu = np.where(inpop, mu_row + planted, anchor_mu)
        anchor_mu_cf = np.where(inpop, mu_row, anchor_mu_cf)
        anchor_lam = np.where(inpop, lam_row + l_cty[county], anchor_lam)
        anchor_lam_cf = np.where(inpop, lam_row, anchor_lam_cf)
        anchor_m = np.where(inpop, m, anchor_m)
        anchor_dur = np.where(inpop, dur, anchor_dur)
        anchor_t = np.where(inpop, typ_m, anchor_t)
        # -- record ---------------------------------------------------------------------------------
        IG[:, j] = np.where(reg, ig, -1)
        HG[:, j] = hg
        PROG[:, j] = np.where(reg, prog, 0)
        FLAGS[:, j] = np.where(reg, flags, 0)
        J, Jc = Jn, Jcn
        rec = HOURS_SEASON[m % 12]
        if hours_noise_sd > 0:  # recorded hours vary around the job's hours (mean one)
            e = np.sqrt(hours_noise_rho) * hours_z + np.sqrt(1.0 - hours_noise_rho) * hrng.normal(0.0, 1.0, n)
            rec = rec * np.minimum(np.exp(hours_noise_sd * e - hours_noise_sd ** 2 / 2), 4.0)
        # at most MAX_RECORDED_HOURS recorded hours a week (a month's record can never exceed its 24 h × days)
        if err_rate > 0:
            r_err = erng.random(n)
            err_on = (J > JOB_HOURS_PER_WEEK) & np.where(err_on, r_err >= 1.0 / err_len, r_err < err_rate)
            JF[:, j] = apply_record_errors(J * rec, err_on, J > JOB_HOURS_PER_WEEK, err_factor, err_share, floor=_ERR_FLOOR)
            JC[:, j] = apply_record_errors(Jc * rec, err_on, J > JOB_HOURS_PER_WEEK, err_factor, err_share,  # the factual job's episode
                                           floor=_ERR_FLOOR)
        else:
            JF[:, j] = np.minimum(J * rec, MAX_RECORDED_HOURS)
            JC[:, j] = np.minimum(Jc * rec, MAX_RECORDED_HOURS)
        reg_prev = reg
        # pensionable income of a finished calendar year: wages plus benefits
        year_wage += J * wage_factor * su.g_month[m - su.g_first]
        year_ben += ((flags & 23) > 0) * 0.12 * su.g_month[m - su.g_first]
        if m % 12 == 11:
            if m - 11 >= F:  # a complete simulated year
                pgi_nok[m // 12] = np.round((year_wage + year_ben) * pgi_scale)
            year_wage[:] = 0.0
            year_ben[:] = 0.0
    gift_m = np.zeros((n, T), bool)
    barn_m = np.zeros((n, T), np.int8)
    hoy_m = np.zeros((n, T), bool)
    for j in range(T):
        m = F + j
        gift_m[:, j] = (m >= marr_m) & (m < div_m)
        barn_m[:, j] = ((kid_birth <= m) & (kid_birth > m - 216)).sum(axis=1)
        hoy_m[:, j] = (m >= grad) & (m < grad + 12)
    return _Chunk(pid, typ, birth, female, lg, immig, office, hw, IG, HG, PROG, FLAGS, gift_m, barn_m, hoy_m,
                  JF, JC, pgi_nok, HIST, DUR)


def _dates(midx: np.ndarray) -> pa.Array:
    d = ((midx // 12 - 1970) * 12 + midx % 12).astype("datetime64[M]").astype("datetime64[D]")
    return pa.array(d, type=pa.date32())


def _panel_mask(su: _Setup, ch: _Chunk) -> np.ndarray:
    """(persons, period months): the rows the panel builder keeps (population, period, age range)."""
    F = su.sim_first
    j0, j1 = su.start - F, su.end - F
    IGw = ch.IG[:, j0:j1 + 1]
    age = (su.start + np.arange(j1 - j0 + 1))[None, :] - ch.birth[:, None]
    return (IGw >= 0) & (IGw < 7) & (age // 12 >= AGE_MIN) & (age // 12 <= AGE_MAX)


def _in_period(su: _Setup, ch: _Chunk) -> np.ndarray:
    """Positions of the chunk's persons with at least one panel row.

    With ``burn_in`` a focal spell that starts before the period may end (the person finds a
    job) before it: such a simulated life has no row in the period, and the person is not a
    candidate (as in the register, where only persons in the population appear).
    """
    return np.flatnonzero(_panel_mask(su, ch).any(axis=1))


def _chunk_rows(su: _Setup, ch: _Chunk, *, counterfactual: bool = False) -> tuple[np.ndarray, np.ndarray, dict[str, pd.DataFrame]]:
    """The chunk's panel rows (population, period, age range: the rows the panel builder keeps)
    as (person position, month column, outcomes); ``counterfactual`` adds the outcomes of the
    hours path without the planted contributions."""
    F = su.sim_first
    r, c = np.nonzero(_panel_mask(su, ch))
    keys = pd.DataFrame({"person_id": ch.pid[r],
                         "month": _dates(su.start + c).to_numpy(zero_copy_only=False).astype("datetime64[ns]")})
    h0, h1 = su.start - F, su.hours_end - F
    last = pd.Timestamp(str(index_to_month(su.hours_end)))
    res = {}
    for name, J in (("actual", ch.JF), ("counterfactual", ch.JC))[: 2 if counterfactual else 1]:
        rr, cc = np.nonzero(J[:, h0:h1 + 1] > 0)
        hours = pd.DataFrame({"person_id": ch.pid[rr],
                              "month": _dates(su.start + cc).to_numpy(zero_copy_only=False).astype("datetime64[ns]"),
                              "hours": np.round(J[rr, h0 + cc].astype(np.float64) * WEEKS_PER_MONTH, 1)})
        res[name] = compute_outcomes(keys, hours, last)
    return r, c, res


def _chunk_panel(su: _Setup, ch: _Chunk, r: np.ndarray, c: np.ndarray, oc: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The columns of the panel (and benefit flags) that the calibration figures use, for the
    chunk's panel rows, by the panel builder's definitions (``tests/synthetic/test_synthetic_extracts.py``
    checks that they equal the panel built from the written extracts)."""
    j = su.start - su.sim_first + c
    fl = ch.FLAGS[r, j]
    t = su.start + c
    panel = pd.DataFrame({
        "hovedgruppe": pd.Categorical.from_codes(ch.HG[r, j].astype(np.int64), categories=list(HOVEDGRUPPER)),
        "innsatsgruppe": pd.Categorical.from_codes(ch.IG[r, j].astype(np.int64), categories=list(INNSATSGRUPPER)),
        "fylke": pd.Categorical.from_codes(su.geo.office_county[ch.office[r]].astype(np.int64), categories=list(FYLKER)),
        "timer_t": np.round(ch.JF[r, j].astype(np.float64) * WEEKS_PER_MONTH, 1) / WEEKS_PER_MONTH,
        "alder": (t - ch.birth[r]) // 12,
        "kvinne": ch.female[r],
        "gift": ch.GIFT[r, j],
        "barn": ch.BARN[r, j].astype(np.int64),
        "landgruppe": ch.lg[r].astype(np.int64),
        "ufor": (fl & 16) > 0,
        "nav_historikk": ch.HIST[r, j].astype(np.int64),
        "nav_varighet": ch.DUR[r, j].astype(np.int64),
    })
    for o in HORIZONS:
        panel[o] = oc[o].to_numpy()
    flags = pd.DataFrame({"_syk": (fl & 2) > 0, "_aap": (fl & 1) > 0, "_dag": (fl & 4) > 0})
    return panel, flags


def _subset(ch: _Chunk, idx: np.ndarray, first_pid: int) -> _Chunk:
    """The persons ``idx`` of a chunk, renumbered from ``first_pid``."""
    sub = {f.name: getattr(ch, f.name) for f in dataclasses.fields(ch)}
    for name, v in sub.items():
        if isinstance(v, np.ndarray):
            sub[name] = v[idx]
    sub["pgi_nok"] = {y: v[idx] for y, v in ch.pgi_nok.items()}
    sub["pid"] = np.arange(first_pid, first_pid + len(idx), dtype=np.int64)
    return _Chunk(**sub)
