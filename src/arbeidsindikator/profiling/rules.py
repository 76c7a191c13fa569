"""Today's rule tree as NAV's code applies it (digest Part 3; seed 003 §2).

Tags (hindrance, age, education, work experience from merged employment spells), then any
hindrance tag → ``OPPGITT_HINDRINGER``; else age + education + work-experience tags →
``ANTATT_GODE_MULIGHETER`` ("standard"); else ``ANTATT_BEHOV_FOR_VEILEDNING`` (:func:`profile`).
Routing to the national follow-up unit (NOE) for standard, age in the NOE range and not
reserved/shielded (:func:`route`); who a new model may send to NOE (:func:`eligible_for_noe`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from arbeidsindikator.data.grunnbelop import month_index, month_start
from arbeidsindikator.profiling.contract import VEDTAK_STANDARD
from arbeidsindikator.profiling.params import ProfilingParams

# --- the rule tree as coded ---------------------------------------------------------------------


def age_at(birth: pd.Series, when: pd.Series) -> np.ndarray:
    """Age in whole years, as java.time.Period.between(birth, when).years."""
    b, w = pd.DatetimeIndex(birth), pd.DatetimeIndex(when)
    before_birthday = (w.month < b.month) | ((w.month == b.month) & (w.day < b.day))
    return (w.year - b.year - before_birthday.astype(int)).to_numpy()


def tag_hindrance(helse: pd.Series, andre: pd.Series) -> np.ndarray:
    """Health or other problems: any answer other than NEI (JA or VET_IKKE) tags; empty does not."""
    def hinders(s: pd.Series) -> np.ndarray:
        s = s.astype("string")
        return (s.notna() & (s != "NEI")).fillna(False).to_numpy(dtype=bool)

    return hinders(helse) | hinders(andre)


def _switch(dates: pd.Series, change: str, before: int, after: int) -> np.ndarray:
    return np.where(pd.DatetimeIndex(dates) >= pd.Timestamp(change), after, before)


def tag_age(age: np.ndarray, reg_date: pd.Series, p: ProfilingParams) -> np.ndarray:
    """Age tag: 18–59 until the change date (April 2026), 18–66 after."""
    hi = _switch(reg_date, p.age_tag_change, p.age_tag_max, p.age_tag_max_later)
    return (np.asarray(age) >= p.age_tag_min) & (np.asarray(age) <= hi)


def tag_education(nus: pd.Series, bestatt: pd.Series, godkjent: pd.Series, reg_date: pd.Series,
                  p: ProfilingParams) -> np.ndarray:
    """Education tag: NUS 0, 1, 9 or empty → none; NUS 2 → tag from March 2024; other levels →
    tag only if both passed and approved in Norway are JA."""
    nus = nus.astype("string")
    none = (nus.isna() | nus.isin(["0", "1", "9"])).fillna(True).to_numpy(dtype=bool)
    nus2 = (nus == "2").fillna(False).to_numpy(dtype=bool)
    if p.nus2_tag_from is not None:
        nus2 &= pd.DatetimeIndex(reg_date) >= pd.Timestamp(p.nus2_tag_from)
    ja = ((bestatt.astype("string") == "JA") & (godkjent.astype("string") == "JA")).fillna(False).to_numpy(dtype=bool)
    return ~none & (nus2 | ja)


_OPEN_END = np.int64(10**7)  # days since 1970: "LocalDate.MAX" for ongoing spells


def _days(d: pd.Series) -> np.ndarray:
    v = pd.to_datetime(d).to_numpy(dtype="datetime64[D]").astype(np.int64)
    v[pd.isna(d).to_numpy()] = _OPEN_END
    return v


def merge_spells(spells: pd.DataFrame, margin_days: int) -> pd.DataFrame:
    """Merge each person's employer-register spells into continuous jobs, as NAV's code does.

    A spell is the half-open range [startdato, sluttdato) (NAV's code uses the end date as the
    exclusive end; an empty end is open). Sorted by start, a spell joins the current job when
    ``startdato − job end < margin_days`` (the job widened by the margin overlaps the spell):
    with the margin of 3 days, a next start up to 2 days after the previous end date merges and
    3 days after does not. Sorting makes the result independent of input order (NAV's fold is
    order-dependent when a later spell bridges two earlier jobs).

    Returns person_id, start, end (days since 1970 as int64; open end = a large number).
    """
    if spells.empty:
        return pd.DataFrame({"person_id": pd.Series(dtype="int64"), "start": pd.Series(dtype="int64"),
                             "end": pd.Series(dtype="int64")})
    s = pd.DataFrame({"person_id": spells["person_id"].to_numpy(dtype=np.int64),
                      "start": _days(spells["startdato"]), "end": _days(spells["sluttdato"])})
    s = s.sort_values(["person_id", "start", "end"], kind="stable").reset_index(drop=True)
    prev_end = s.groupby("person_id")["end"].cummax().groupby(s["person_id"]).shift(1)
    new_job = prev_end.isna().to_numpy() | (s["start"].to_numpy() - prev_end.fillna(0).to_numpy() >= margin_days)
    s["job"] = np.cumsum(new_job)
    return s.groupby("job").agg(person_id=("person_id", "first"), start=("start", "min"),
                                end=("end", "max")).reset_index(drop=True)


def _java_months_between(start_days: np.ndarray, end_days: np.ndarray) -> np.ndarray:
    """Whole months of java.time.Period.between(start, end) for end ≥ start (days since 1970)."""
    s = pd.DatetimeIndex(start_days.astype("datetime64[D]"))
    e = pd.DatetimeIndex(end_days.astype("datetime64[D]"))
    months = (e.year - s.year) * 12 + (e.month - s.month)
    return (months - ((months > 0) & (e.day < s.day)).astype(int)).to_numpy()


def tag_work_experience(registrations: pd.DataFrame, spells: pd.DataFrame, p: ProfilingParams) -> np.ndarray:
    """Work-experience tag per registration (rows of ``registrations``), rule chosen by ``p.work_rule``."""
    if p.work_rule == "merged_spells":
        return _work_merged_spells(registrations, spells, p)
    if p.work_rule == "veilarb_first_of_month":
        return _work_veilarb(registrations, spells, p)
    raise ValueError(f"work_rule: expected 'merged_spells' or 'veilarb_first_of_month', got {p.work_rule!r}")


def _work_merged_spells(registrations: pd.DataFrame, spells: pd.DataFrame, p: ProfilingParams) -> np.ndarray:
    """The longest merged job, clipped to [registration − 1 year, registration), ≥ min_work_months."""
    jobs = merge_spells(spells, p.merge_margin_days)
    reg = pd.DataFrame({"row": np.arange(len(registrations)),
                        "person_id": registrations["person_id"].to_numpy(dtype=np.int64),
                        "reg": _days(registrations["registrert_dato"]),
                        "from": _days(registrations["registrert_dato"] - pd.DateOffset(years=1))})
    j = reg.merge(jobs, on="person_id", how="inner")
    j = j[(j["start"] < j["reg"]) & (j["end"] > j["from"])]
    cs = np.maximum(j["start"].to_numpy(), j["from"].to_numpy())
    ce = np.minimum(j["end"].to_numpy(), j["reg"].to_numpy())
    ok = _java_months_between(cs, ce) >= p.min_work_months
    out = np.zeros(len(registrations), dtype=bool)
    out[j["row"].to_numpy()[ok]] = True
    return out


def _work_veilarb(registrations: pd.DataFrame, spells: pd.DataFrame, p: ProfilingParams) -> np.ndarray:
    """Older rule (veilarbregistrering): a spell covers the 1st of ≥ 6 consecutive months among the
    registration month and the 11 months before it (end dates inclusive)."""
    reg_m = month_index(registrations["registrert_dato"])
    firsts = reg_m[:, None] - np.arange(12)[None, :]
    first_days = month_start(firsts.ravel()).astype("datetime64[D]").astype(np.int64).reshape(firsts.shape)
    covered = np.zeros(firsts.shape, dtype=bool)
    sp = pd.DataFrame({"person_id": spells["person_id"].to_numpy(dtype=np.int64),
                       "start": _days(spells["startdato"]), "end": _days(spells["sluttdato"])})
    rows = pd.DataFrame({"row": np.arange(len(registrations)),
                         "person_id": registrations["person_id"].to_numpy(dtype=np.int64)}).merge(sp, on="person_id")
    r = rows["row"].to_numpy()
    fd = first_days[r]
    cov = (fd >= rows["start"].to_numpy()[:, None]) & (fd <= rows["end"].to_numpy()[:, None])
    np.logical_or.at(covered, r, cov)
    run = np.zeros(len(registrations), dtype=int)
    best = np.zeros(len(registrations), dtype=int)
    for k in range(12):
        run = np.where(covered[:, k], run + 1, 0)
        best = np.maximum(best, run)
    return best >= p.min_work_months


def profile(registrations: pd.DataFrame, spells: pd.DataFrame, p: ProfilingParams) -> pd.DataFrame:
    """Tags and profiling result per registration (same row order as ``registrations``)."""
    r = registrations
    age = age_at(r["fodselsdato"], r["registrert_dato"])
    out = pd.DataFrame({
        "reg_id": r["reg_id"].to_numpy(),
        "age": age,
        "tag_hindrance": tag_hindrance(r["helse_hindrer"], r["andre_forhold_hindrer"]),
        "tag_age": tag_age(age, r["registrert_dato"], p),
        "tag_education": tag_education(r["utdanning_nus"], r["utdanning_bestatt"], r["utdanning_godkjent"],
                                       r["registrert_dato"], p),
        "tag_work": tag_work_experience(r, spells, p),
    })
    good = out["tag_age"] & out["tag_education"] & out["tag_work"]
    out["profilert_til"] = np.where(out["tag_hindrance"], "OPPGITT_HINDRINGER",
                                    np.where(good, "ANTATT_GODE_MULIGHETER", "ANTATT_BEHOV_FOR_VEILEDNING"))
    out["profiled_standard"] = out["profilert_til"] == "ANTATT_GODE_MULIGHETER"
    return out


def route(prof: pd.DataFrame, registrations: pd.DataFrame, p: ProfilingParams) -> pd.DataFrame:
    """Routing of each registration to NOE or the local office, with the reason."""
    hi = _switch(registrations["registrert_dato"], p.noe_age_change, p.noe_age_max, p.noe_age_max_later)
    age_ok = (prof["age"].to_numpy() >= p.noe_age_min) & (prof["age"].to_numpy() <= hi)
    reserved = registrations["reservert_digital"].to_numpy(dtype=bool)
    std = prof["profiled_standard"].to_numpy()
    reason = np.select([~std, ~age_ok, reserved], ["not profiled standard", "age outside the NOE range",
                                                   "reserved against digital contact / shielded"], "—")
    return pd.DataFrame({"reg_id": prof["reg_id"].to_numpy(), "to_noe": std & age_ok & ~reserved,
                         "local_reason": reason})


def decision_standard(vedtak: pd.Series, missing_is_standard: bool = False) -> np.ndarray:
    """First §14a decision is standard (STANDARD_INNSATS / GODE_MULIGHETER); empty per parameter."""
    v = vedtak.astype("string")
    return np.where(v.isna().to_numpy(), missing_is_standard, v.isin(list(VEDTAK_STANDARD)).fillna(False).to_numpy())


def eligible_for_noe(df: pd.DataFrame, p: ProfilingParams) -> np.ndarray:
    """Who a new model may send to NOE: no reported hindrance, not a single parent (seed 003
    §4.1), not reserved/shielded, age in the NOE range. Everyone else goes to the local office."""
    hi = _switch(df["registrert_dato"], p.noe_age_change, p.noe_age_max, p.noe_age_max_later)
    age = df["age"].to_numpy()
    return (~df["tag_hindrance"].to_numpy(dtype=bool) & ~df["enslig_forsorger"].to_numpy(dtype=bool)
            & ~df["reservert_digital"].to_numpy(dtype=bool) & (age >= p.noe_age_min) & (age <= hi))
