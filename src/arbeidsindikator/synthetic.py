"""A first, seeded synthetic analysis panel (small scale) so the book needs no outside data.

This generator writes the *analysis panel* directly (see :mod:`arbeidsindikator.contract`),
plus the monthly hours it derived the outcomes from and the effects it planted ("truth").
It is deliberately simple: shares are roughly those of seed 002 appendix A, the outcome
process is a latent-index model with planted county, office, programme and NAV-wide time
effects. The calibrated generator of raw register extracts replaces it behind
:func:`arbeidsindikator.pipeline.load_panel` without touching the chapters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr

from .contract import FYLKER, HOVEDGRUPPER
from .outcomes import WEEKS_PER_MONTH, compute_outcomes

# Shares of rows by main group (seed 002, appendix A table 1) and mean spell length (months),
# chosen so that row shares come out close to table 1 (longer spells for reduced work capacity).
MAIN_GROUP_ROW_SHARE = np.array([0.528, 0.244, 0.127, 0.046, 0.055])
MAIN_GROUP_SPELL_MONTHS = np.array([37.0, 10.5, 11.6, 17.9, 16.3])
INNSATS_BY_MAIN = {
    "nedsatt_arbeidsevne": (["spesielt_tilpasset", "situasjonsbestemt", "behov_for_arbeidsevnevurdering", "helserelatert"], [0.55, 0.25, 0.12, 0.08]),
    "helt_ledige": (["standard", "situasjonsbestemt", "ikke_vurdert"], [0.6, 0.3, 0.1]),
    "delvis_ledige": (["standard", "situasjonsbestemt", "ikke_vurdert"], [0.7, 0.2, 0.1]),
    "arbeidssokere_tiltak": (["situasjonsbestemt", "standard", "spesielt_tilpasset"], [0.6, 0.25, 0.15]),
    "andre": (["sykmeldt_uten_arbeidsgiver", "behov_for_arbeidsevnevurdering", "ikke_vurdert"], [0.5, 0.3, 0.2]),
}
COUNTY_SHARE = np.array([0.06, 0.12, 0.05, 0.015, 0.07, 0.05, 0.05, 0.16, 0.08, 0.035, 0.03, 0.09, 0.045, 0.11, 0.065])
TILTAK = ("Oppfølging", "Arbeid med støtte", "Jobbklubb", "Digitalt oppfølgingstiltak", "Midlertidig lønnstilskudd", "IPS", "Arbeidstrening")
TILTAK_EFFECT = np.array([0.05, 0.10, 0.05, 0.08, 0.45, -0.15, 0.0])  # latent-index units, planted truth


@dataclass(frozen=True)
class SyntheticPanel:
    panel: pd.DataFrame
    hours: pd.DataFrame
    truth: dict[str, pd.Series]


def _nav_time_effect(midx: np.ndarray, start_idx: int) -> np.ndarray:
    """NAV-wide contribution over calendar time: a slow improvement, a dip in 2021, recovery."""
    t = (midx - start_idx) / 12.0
    return 0.04 * np.sin(t * 1.3) - 0.06 * np.exp(-((t - 3.4) ** 2) / 0.3)


def generate_panel(n_persons: int, seed: int, start: pd.Period, end: pd.Period) -> SyntheticPanel:
    """Seeded synthetic panel for measurement months ``start..end`` with hours through end + 3."""
    rng = np.random.default_rng(seed)
    start_idx = start.year * 12 + start.month - 1
    end_idx = end.year * 12 + end.month - 1
    hours_end = end_idx + 3

    # --- persons -------------------------------------------------------------------------
    pid = np.arange(1, n_persons + 1, dtype=np.int64)
    birth = rng.integers(start_idx - 66 * 12, end_idx - 18 * 12, n_persons)
    kvinne = rng.random(n_persons) < 0.52
    lg = rng.choice([0, 1, 2, 3, -1], n_persons, p=[0.65, 0.04, 0.07, 0.235, 0.005])
    immig = np.where(lg == 0, -1, birth + 12 * rng.integers(0, 40, n_persons))
    fylke_i = rng.choice(len(FYLKER), n_persons, p=COUNTY_SHARE / COUNTY_SHARE.sum())
    office_i = fylke_i * 10 + rng.integers(0, 6, n_persons)  # six offices per county
    person_u = rng.normal(0, 0.6, n_persons)  # unobserved employability
    lonn = np.where(rng.random(n_persons) < 0.25, 0, rng.integers(1, 11, n_persons)).astype(float)
    pgi_only = rng.random(n_persons) < 0.15
    pgi = np.where(pgi_only, rng.integers(0, 11, n_persons), np.nan)
    lonn = np.where(pgi_only, np.nan, lonn)

    # --- spells (one or two per person) ----------------------------------------------------
    spell_w = MAIN_GROUP_ROW_SHARE / MAIN_GROUP_SPELL_MONTHS
    n_sp = 1 + (rng.random(n_persons) < 0.35)
    sp_person = np.repeat(np.arange(n_persons), n_sp)
    n_spells = len(sp_person)
    sp_group = rng.choice(len(HOVEDGRUPPER), n_spells, p=spell_w / spell_w.sum())
    sp_len = 1 + rng.geometric(1 / MAIN_GROUP_SPELL_MONTHS[sp_group])
    sp_start = rng.integers(start_idx - 36, end_idx + 1, n_spells)
    # second spells start after the first ends plus a gap
    first = np.r_[True, sp_person[1:] != sp_person[:-1]]
    prev_end = np.r_[0, (sp_start + sp_len)[:-1]]
    sp_start = np.where(first, sp_start, np.maximum(sp_start, prev_end + 4))
    sp_innsats = np.empty(n_spells, dtype=object)
    for g, name in enumerate(HOVEDGRUPPER):
        sel = sp_group == g
        groups, probs = INNSATS_BY_MAIN[name]
        sp_innsats[sel] = rng.choice(groups, sel.sum(), p=probs)

    # --- person-months in the period ------------------------------------------------------
    lo = np.maximum(sp_start, start_idx)
    hi = np.minimum(sp_start + sp_len - 1, end_idx)
    n_rows_sp = np.clip(hi - lo + 1, 0, None)
    row_sp = np.repeat(np.arange(n_spells), n_rows_sp)
    offs = np.arange(len(row_sp)) - np.repeat(np.cumsum(n_rows_sp) - n_rows_sp, n_rows_sp)
    midx = lo[row_sp] + offs
    p = sp_person[row_sp]
    n = len(midx)
    dur = midx - sp_start[row_sp]
    prev_overlap = np.where(first[row_sp], 0, np.clip(prev_end[row_sp] - np.maximum(sp_start[row_sp] - 60 + dur, sp_start[row_sp] - 60), 0, 60))
    hist = np.clip(np.minimum(dur, 60) + prev_overlap, 0, 60)
    alder = (midx - birth[p]) // 12
    group = sp_group[row_sp]
    gname = np.asarray(HOVEDGRUPPER, dtype=object)[group]
    covid = (midx >= 2020 * 12 + 2) & (midx <= 2020 * 12 + 8)
    ledig = np.isin(group, [1, 2])
    permittert = ledig & (rng.random(n) < np.where(covid, 0.45, 0.04))
    timer_t = np.where(group == 2, rng.uniform(8, 30, n), np.where(rng.random(n) < 0.08, rng.uniform(1, 20, n), 0.0))
    on_tiltak = (group == 3) | ((group == 0) & (rng.random(n) < 0.1))
    tiltak_i = np.where(on_tiltak, rng.integers(0, len(TILTAK), n), -1)
    tiltak = np.where(tiltak_i >= 0, np.asarray(TILTAK, dtype=object)[np.maximum(tiltak_i, 0)], "ingen")
    helse = (group == 0) & (rng.random(n) < 0.85) | (group == 4) & (rng.random(n) < 0.4)
    arbeid = ledig & (rng.random(n) < 0.5) | (group == 3) & (rng.random(n) < 0.3)
    ufor = rng.random(n) < np.where(group == 4, 0.09, 0.02)
    botid = np.where(immig[p] < 0, np.nan, np.maximum(midx - immig[p], 0)).astype(float)
    hoyere = (alder < 35) & (rng.random(n) < 0.04)
    gift = rng.random(n) < np.where(alder > 30, 0.42, 0.12)
    barn = np.where(alder > 25, rng.poisson(0.9, n), rng.poisson(0.2, n)).clip(0, 6)

    # commuting-region inflow: region = office // 2, seasonality + covid spike
    region = office_i[p] // 2
    n_regions = int(office_i.max() // 2 + 1)
    reg_level = rng.uniform(0.002, 0.006, n_regions)
    all_m = np.arange(start_idx, hours_end + 13)
    season = 1 + 0.2 * np.cos(2 * np.pi * ((all_m % 12) - 0) / 12)
    covid_m = np.where((all_m >= 2020 * 12 + 2) & (all_m <= 2020 * 12 + 4), 4.0, 1.0)
    inflow = reg_level[:, None] * season[None, :] * covid_m[None, :]
    csum = np.cumsum(np.c_[np.zeros(n_regions), inflow], axis=1)
    mpos = midx - start_idx
    innstrom3 = (csum[region, mpos + 4] - csum[region, mpos + 1]) / 3
    innstrom12 = (csum[region, mpos + 13] - csum[region, mpos + 1]) / 12

    # --- latent index and monthly hours ---------------------------------------------------
    county_eff = pd.Series(rng.normal(0, 0.08, len(FYLKER)), index=list(FYLKER))
    office_eff = rng.normal(0, 0.05, int(office_i.max()) + 1)
    tiltak_eff = np.where(tiltak_i >= 0, TILTAK_EFFECT[np.maximum(tiltak_i, 0)], 0.0)
    age_eff = -0.0006 * (alder - 35) ** 2
    group_eff = np.array([-0.55, 0.0, 0.55, 0.05, -0.45])[group]
    z = (
        -0.6
        + group_eff
        + age_eff
        - 0.15 * kvinne[p]
        + np.where(lg[p] == 3, -0.25, 0.0)
        + 0.05 * np.nan_to_num(lonn[p], nan=3)
        - 0.004 * hist
        - 0.3 * helse
        + 0.35 * permittert
        + 0.02 * timer_t
        + 0.5 * hoyere
        - 25 * (innstrom3 - 0.004)
        + county_eff.to_numpy()[fylke_i[p]]
        + office_eff[office_i[p]]
        + tiltak_eff
        + _nav_time_effect(midx, start_idx)
        + person_u[p]
    )
    # Hours in calendar months t+1..t+12 of each row follow from the row's index with
    # persistence: the person's hours in month m come from their latest row before m.
    row_order = np.lexsort((midx, p))
    p_s, m_s, z_s = p[row_order], midx[row_order], z[row_order]
    hours_rows = []
    last_row = np.r_[p_s[1:] != p_s[:-1], True]
    for x in range(1, 13):
        # months covered: the next row of the same person takes over after one month
        take = (x == 1) | last_row
        mm = m_s[take] + x
        keep = mm <= hours_end
        pp = p_s[take][keep]
        prob = ndtr(z_s[take][keep] + 0.08 * x)  # exits from NAV tend towards work
        works = rng.random(len(pp)) < prob
        weekly = np.where(works, rng.uniform(19.5, 37.5, len(pp)) * np.where(rng.random(len(pp)) < 0.25, 0.55, 1.0), 0.0)
        hours_rows.append(pd.DataFrame({"p": pp, "m": mm[keep], "h": weekly * WEEKS_PER_MONTH}))
    h = pd.concat(hours_rows).drop_duplicates(["p", "m"], keep="first")
    hours = pd.DataFrame(
        {
            "person_id": pid[h["p"].to_numpy()],
            "month": pd.to_datetime({"year": h["m"].to_numpy() // 12, "month": h["m"].to_numpy() % 12 + 1, "day": 1}),
            "hours": h["h"].to_numpy().round(1),
        }
    )

    months = pd.to_datetime({"year": midx // 12, "month": midx % 12 + 1, "day": 1})
    panel = pd.DataFrame(
        {
            "person_id": pid[p],
            "month": months.to_numpy(),
            "hovedgruppe": pd.Categorical(gname, categories=list(HOVEDGRUPPER)),
            "innsatsgruppe": sp_innsats[row_sp],
            "fylke": np.asarray(FYLKER, dtype=object)[fylke_i[p]],
            "nav_kontor": pd.Series(office_i[p]).map(lambda o: f"K{o:03d}").to_numpy(),
            "ba_region": pd.Series(region).map(lambda r: f"BA{r:03d}").to_numpy(),
            "tiltak": tiltak,
            "alder": alder.astype(np.int64),
            "kvinne": kvinne[p],
            "gift": gift,
            "barn": barn.astype(np.int64),
            "landgruppe": lg[p].astype(np.int64),
            "botid": botid,
            "hoyere_utd": hoyere,
            "lonn_desil": lonn[p],
            "pgi_desil": pgi[p],
            "nav_historikk": hist.astype(np.int64),
            "nav_varighet": dur.astype(np.int64),
            "ufor": ufor,
            "permittert": permittert,
            "helse_ytelse": helse,
            "arbeid_ytelse": arbeid,
            "timer_t": timer_t.round(1),
            "innstrom3": innstrom3,
            "innstrom12": innstrom12,
        }
    )
    panel = panel[(panel["alder"] >= 16) & (panel["alder"] <= 75)]
    panel = panel.sort_values(["month", "person_id"], kind="stable").reset_index(drop=True)
    last = pd.Timestamp(year=hours_end // 12, month=hours_end % 12 + 1, day=1)
    panel = pd.concat([panel, compute_outcomes(panel[["person_id", "month"]], hours, last)], axis=1)
    mcount = panel.groupby("month").size()
    truth = {
        "county_effect": county_eff,
        "tiltak_effect": pd.Series(TILTAK_EFFECT, index=list(TILTAK)),
        "nav_time_effect": pd.Series(
            _nav_time_effect(np.arange(start_idx, end_idx + 1), start_idx),
            index=pd.period_range(start, end, freq="M"),
        ),
        "rows_per_month": mcount,
    }
    return SyntheticPanel(panel=panel, hours=hours, truth=truth)
