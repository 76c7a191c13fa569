"""Evaluation of NAV's profiling of new job seekers (seed 003; digest Parts 2 and 3).

The steps, in the order the chapter shows them:

1. **Wages in G and outcome sequences** (seed 003 §3.1, table 3). Monthly wages from the
   a-melding are divided by the monthly basic amount (G per year / 12, G as of the first day of
   the month). Over the 12 months *after* the registration month (relative months 1..12):
   *stable work* = wage > 3 G in at least 10 months, **or** > 3 G in at least 5 of months 6..12;
   *without work* = wage < 1 G in at least 10 months; *in and out* = neither. Exactly 3 G is not
   "over 3 G" and exactly 1 G is not "under 1 G". A registration whose 12 months are not all
   observed in the wage extract has no outcome and leaves the population (counted, not zero-filled).
2. **Population**: registrations aged 30–59 at registration in the two periods that exclude COVID
   and the year around it (Sep 2018–Mar 2019 and Mar 2023–Jul 2023), all parameters.
3. **Today's rule tree as NAV's code applies it** (digest Part 3): tags, then any hindrance tag
   → ``OPPGITT_HINDRINGER``; else age + education + work-experience tags → ``ANTATT_GODE_MULIGHETER``
   ("standard"); else ``ANTATT_BEHOV_FOR_VEILEDNING``. Routing to the national follow-up unit (NOE)
   for standard, age in the NOE range and not reserved/shielded.
4. **Table 5**: profiling and first §14a decision against the outcome as shares of all
   registrations, accuracy with its definition stated, and the report's "66 %" checked.
5. **The proposed probability model** (seed 003 §4.1.3): logistic regression (statsmodels
   ``Logit``, maximum likelihood) on the registration reason, the months since the last month
   with wage > 3 G and the number of months with wage > 3 G in the last 24 (both banded), for
   P(stable) (variant A) and P(without work) (variant B); variants as sortings to NOE; table 8
   and figure 5.
6. **Beyond the report**: AUC, calibration and Brier score, precision/recall at the cut-offs,
   volume curves, a paired comparison rule tree vs model (exact McNemar test and a seeded
   bootstrap interval of the accuracy difference), temporal validation, a fairness audit by sex
   and country group, and a per-person explanation of the score.

Every function is small, typed and returns a tidy frame or a dataclass for the book.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Mapping

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from arbeidsindikator.profiling.contract import (
    DIN_SITUASJON,
    DIN_SITUASJON_LABEL,
    VEDTAK_STANDARD,
    ProfilingData,
    validate_profiling_data,
)

from arbeidsindikator.config import REPO_ROOT
OUTCOMES: tuple[str, ...] = ("stable", "in_and_out", "without_work")
OUTCOME_LABEL: dict[str, str] = {
    "stable": "stable work", "in_and_out": "in and out of work", "without_work": "without work"}
PROFILERT_TIL: tuple[str, ...] = ("ANTATT_GODE_MULIGHETER", "ANTATT_BEHOV_FOR_VEILEDNING", "OPPGITT_HINDRINGER")
WorkRule = Literal["merged_spells", "veilarb_first_of_month"]

# --- parameters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfilingParams:
    """Every choice of the evaluation, with the report's / NAV's code's value as default."""

    # population (seed 003 §1.2, §3.1)
    periods: tuple[tuple[str, str], ...] = (("2018-09", "2019-03"), ("2023-03", "2023-07"))
    age_min: int = 30
    age_max: int = 59
    # outcome sequences (table 3); wages in G per month
    horizon: int = 12
    stable_above_g: float = 3.0
    stable_min_months: int = 10
    stable_late_first: int = 6
    stable_late_last: int = 12
    stable_late_min: int = 5
    without_below_g: float = 1.0
    without_min_months: int = 10
    # model inputs from the wage history
    history_months: int = 24
    history_above_g: float = 3.0
    wages_observed_from: str | None = None  # first month the wage extract covers ('YYYY-MM'); None: first in data
    wages_observed_until: str | None = None  # last month it covers; None: last month in the data
    # rule tree as coded (navikt/paw-arbeidssoekerregisteret-monorepo-ekstern, app profilering)
    work_rule: WorkRule = "merged_spells"  # or "veilarb_first_of_month" (the older veilarbregistrering rule)
    merge_margin_days: int = 3  # spells merge when next start − previous end < margin (NAV's code)
    min_work_months: int = 6
    age_tag_min: int = 18
    age_tag_max: int = 59
    age_tag_max_later: int = 66
    age_tag_change: str = "2026-04-01"
    nus2_tag_from: str | None = "2024-03-01"  # None: NUS 2 tags at any date (table 2's "at least primary school")
    # routing to NOE (table 2; digest Part 3)
    noe_age_min: int = 30
    noe_age_max: int = 59
    noe_age_max_later: int = 66
    noe_age_change: str = "2025-10-01"
    missing_decision_is_standard: bool = False
    # proposed model and variants (seed 003 §4.4)
    months_since_bands: tuple[int, ...] = (1, 2, 3, 4, 7, 13)  # lower edges; > history = 'none'
    n24_bands: tuple[int, ...] = (0, 7, 13, 19, 24)  # lower edges; 0–6 holds 'no month above 3 G'
    volume_b: float = 0.48  # variant B's volume under variant_b_rule = "fixed_volume" (table 8 prints 48 %)
    # the report's rule (§4.4): the largest volume that sends no more persons without work to NOE
    # than today; "fixed_volume" sends volume_b instead
    variant_b_rule: Literal["same_without_as_today", "fixed_volume"] = "same_without_as_today"
    typical_month: int = 9000
    # uncertainty and audit
    bootstrap_replicates: int = 2000
    bootstrap_seed: int = 20250302
    calibration_bins: int = 10
    volume_grid: tuple[float, ...] = tuple(np.round(np.arange(0.05, 0.951, 0.01), 2))

    def period_bounds(self) -> list[tuple[pd.Period, pd.Period]]:
        return [(pd.Period(a, freq="M"), pd.Period(b, freq="M")) for a, b in self.periods]

    def period_labels(self) -> list[str]:
        return [f"{a}–{b}" for a, b in self.periods]


def params_from_config(cfg: Any) -> ProfilingParams:
    """Parameters from the run configuration's ``profiling`` section (defaults where absent).

    Keys mirror the field names of :class:`ProfilingParams`; ``periods`` is a list of
    ``[start, end]`` month pairs. Unknown keys raise ``ValueError`` naming the key.
    """
    raw: Mapping[str, Any] = (getattr(cfg, "raw", None) or {}).get("profiling", {}) or {}
    known = set(ProfilingParams.__dataclass_fields__)
    extra = set(raw) - known - {"scale", "seed", "per_month"}
    if extra:
        raise ValueError(f"profiling: unknown key(s) {sorted(extra)}; allowed: {sorted(known)}")
    kw: dict[str, Any] = {k: v for k, v in raw.items() if k in known}
    if "periods" in kw:
        kw["periods"] = tuple((str(a), str(b)) for a, b in kw["periods"])
    for k in ("months_since_bands", "n24_bands", "volume_grid"):
        if k in kw:
            kw[k] = tuple(kw[k])
    return ProfilingParams(**kw)


# --- G (grunnbeløpet) ---------------------------------------------------------------------------

#: G in NOK per year from 1 May of each year. Source: NAV, "Grunnbeløpet i folketrygden"
#: (https://www.nav.no/grunnbelopet; the same table as skatteetaten.no/satser/grunnbelopet-i-folketrygden,
#: cited by seed 003 footnote 11). Seed 003 quotes 2024: 124 028 NOK a year, 10 336 a month.
G_TABLE_BUILTIN: tuple[tuple[str, int], ...] = (
    ("2014-05-01", 88370),
    ("2015-05-01", 90068),
    ("2016-05-01", 92576),
    ("2017-05-01", 93634),
    ("2018-05-01", 96883),
    ("2019-05-01", 99858),
    ("2020-05-01", 101351),
    ("2021-05-01", 106399),
    ("2022-05-01", 111477),
    ("2023-05-01", 118620),
    ("2024-05-01", 124028),
    ("2025-05-01", 130160),
)
G_CSV = REPO_ROOT / "data" / "reference" / "G.csv"


def load_g_table(path: Path | None = None) -> pd.DataFrame:
    """G by the date it applies from: ``data/reference/G.csv`` if present, else the built-in table.

    The CSV's first date-like column is the date and its first other numeric column the amount.
    """
    path = path or G_CSV
    if path.exists():
        raw = pd.read_csv(path)
        date_col = next(c for c in raw.columns if pd.to_datetime(raw[c], errors="coerce").notna().all())
        amount_col = next(c for c in raw.columns if c != date_col and pd.api.types.is_numeric_dtype(raw[c]))
        g = pd.DataFrame({"fom_dato": pd.to_datetime(raw[date_col]), "grunnbelop_nok": raw[amount_col].astype(float)})
    else:
        g = pd.DataFrame(G_TABLE_BUILTIN, columns=["fom_dato", "grunnbelop_nok"])
        g["fom_dato"] = pd.to_datetime(g["fom_dato"])
        g["grunnbelop_nok"] = g["grunnbelop_nok"].astype(float)
    return g.sort_values("fom_dato").reset_index(drop=True)


def month_index(dates: Any) -> np.ndarray:
    """Calendar months as consecutive integers (year·12 + month − 1)."""
    d = pd.DatetimeIndex(dates)
    return d.year.to_numpy().astype(np.int64) * 12 + d.month.to_numpy() - 1


def g_per_month(midx: np.ndarray, g: pd.DataFrame) -> np.ndarray:
    """Monthly G (yearly amount / 12) in force on the first day of each month index."""
    first_days = pd.to_datetime({"year": midx // 12, "month": midx % 12 + 1, "day": 1})
    pos = np.searchsorted(g["fom_dato"].to_numpy(), first_days.to_numpy(), side="right") - 1
    if (pos < 0).any():
        raise ValueError(f"G table starts {g['fom_dato'].min().date()}; wages need G from {first_days.min().date()}")
    return g["grunnbelop_nok"].to_numpy()[pos] / 12.0


# --- wages relative to registration -------------------------------------------------------------


@dataclass(frozen=True)
class WageWindow:
    """Wages in G per month by registration (rows) and relative month (columns).

    ``rel_months`` run from −history to +horizon; relative month 0 is the registration month.
    Cells outside the wage extract's coverage are NaN (unobserved), cells with no wage row inside
    it are 0 (no reported wage).
    """

    reg_id: np.ndarray
    rel_months: np.ndarray
    g: np.ndarray

    def cols(self, first: int, last: int) -> np.ndarray:
        i0 = int(np.searchsorted(self.rel_months, first))
        return self.g[:, i0 : i0 + (last - first + 1)]


def wage_window(
    registrations: pd.DataFrame,
    wages: pd.DataFrame,
    g: pd.DataFrame,
    p: ProfilingParams,
    observed: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> WageWindow:
    """Wage matrix in G for every registration, months −history..+horizon.

    ``observed`` is the first and last month the wage extract covers; default: the first and
    last month present in ``wages``.
    """
    rel = np.arange(-p.history_months, p.horizon + 1)
    reg_m = month_index(registrations["registrert_dato"])
    if observed is None:
        observed = (wages["maaned"].min(), wages["maaned"].max())
    lo, hi = month_index([observed[0]])[0], month_index([observed[1]])[0]
    cal = reg_m[:, None] + rel[None, :]
    mat = np.where((cal >= lo) & (cal <= hi), 0.0, np.nan)
    regs = pd.DataFrame({"row": np.arange(len(registrations)),
                         "person_id": registrations["person_id"].to_numpy(dtype=np.int64)})
    w = pd.DataFrame({"person_id": wages["person_id"].to_numpy(dtype=np.int64), "wm": month_index(wages["maaned"]),
                      "nok": wages["lonn_nok"].to_numpy(dtype=float)}).merge(regs, on="person_id", how="inner")
    r, wm = w["row"].to_numpy(), w["wm"].to_numpy()
    k = wm - reg_m[r] + p.history_months
    keep = (k >= 0) & (k < len(rel)) & (wm >= lo) & (wm <= hi)
    mat[r[keep], k[keep]] = w["nok"].to_numpy()[keep]
    cmin = int(cal.min())
    gmat = g_per_month(np.arange(cmin, int(cal.max()) + 1), g)[cal - cmin]
    # rounded to 1e-9 G so that a wage of exactly 3 G is not "above 3 G" through floating-point noise
    return WageWindow(reg_id=registrations["reg_id"].to_numpy(), rel_months=rel, g=np.round(mat / gmat, 9))


def outcome_sequences(post_g: np.ndarray, p: ProfilingParams) -> np.ndarray:
    """Table 3 sequence group per row of wages in G for relative months 1..horizon.

    Returns an object array of ``stable`` / ``in_and_out`` / ``without_work``, or None where a
    month is unobserved. Stable is checked first (with the defaults the two cannot overlap).
    """
    post_g = np.asarray(post_g, dtype=float)
    above = post_g > p.stable_above_g
    late = above[:, p.stable_late_first - 1 : p.stable_late_last].sum(axis=1)
    stable = (above.sum(axis=1) >= p.stable_min_months) | (late >= p.stable_late_min)
    without = (post_g < p.without_below_g).sum(axis=1) >= p.without_min_months
    out = np.where(stable, "stable", np.where(without, "without_work", "in_and_out")).astype(object)
    out[np.isnan(post_g).any(axis=1)] = None
    return out


def history_features(pre_g: np.ndarray, p: ProfilingParams) -> pd.DataFrame:
    """The two wage inputs of the proposed model from months −history..−1 (in G).

    ``months_since_above`` = months back to the last month with wage > 3 G (1 = the month before
    the registration month; NaN = none in the window); ``months_above`` = number of such months.
    Rows with an unobserved month get NaN in both.
    """
    pre_g = np.asarray(pre_g, dtype=float)
    above = pre_g > p.history_above_g
    back = above[:, ::-1]
    has = back.any(axis=1)
    since = np.where(has, back.argmax(axis=1) + 1, np.nan).astype(float)
    n_above = above.sum(axis=1).astype(float)
    miss = np.isnan(pre_g).any(axis=1)
    since[miss] = np.nan
    n_above[miss] = np.nan
    return pd.DataFrame({"months_since_above": since, "months_above": n_above})


def _band_labels(edges: tuple[int, ...], top: int) -> list[str]:
    out = []
    for i, lo in enumerate(edges):
        hi = edges[i + 1] - 1 if i + 1 < len(edges) else top
        out.append(str(lo) if lo == hi else f"{lo}–{hi}")
    return out


def band_months_since(x: pd.Series | np.ndarray, p: ProfilingParams) -> pd.Categorical:
    """Months since the last month above 3 G in bands; 'none' when no such month in the window."""
    labels = _band_labels(p.months_since_bands, p.history_months) + ["none"]
    x = np.asarray(x, dtype=float)
    idx = np.searchsorted(np.asarray(p.months_since_bands), np.nan_to_num(x, nan=0), side="right") - 1
    lab = np.where(np.isnan(x), "none", np.asarray(labels, dtype=object)[np.clip(idx, 0, len(labels) - 2)])
    return pd.Categorical(lab, categories=labels)


def band_months_above(x: pd.Series | np.ndarray, p: ProfilingParams) -> pd.Categorical:
    """Months with wage above 3 G in the last 24, in bands."""
    labels = _band_labels(p.n24_bands, p.history_months)
    x = np.asarray(x, dtype=float)
    idx = np.searchsorted(np.asarray(p.n24_bands), np.nan_to_num(x, nan=0), side="right") - 1
    return pd.Categorical(np.asarray(labels, dtype=object)[np.clip(idx, 0, len(labels) - 1)], categories=labels)


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
    first_days = (pd.to_datetime({"year": firsts.ravel() // 12, "month": firsts.ravel() % 12 + 1, "day": 1})
                  .to_numpy(dtype="datetime64[D]").astype(np.int64).reshape(firsts.shape))
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


# --- the analysis frame -------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalysisFrame:
    """One row per registration in the study population, plus the population flow."""

    frame: pd.DataFrame
    flow: pd.DataFrame
    post_g: np.ndarray  # wages in G, months 1..horizon, aligned with ``frame``


def _period_of(reg_date: pd.Series, p: ProfilingParams) -> np.ndarray:
    m = pd.DatetimeIndex(reg_date).to_period("M")
    out = np.full(len(m), -1)
    for i, (a, b) in enumerate(p.period_bounds()):
        out[(m >= a) & (m <= b)] = i
    return out


def analysis_frame(data: ProfilingData, p: ProfilingParams) -> AnalysisFrame:
    """Profile every registration, compute outcomes and model inputs, restrict to the population.

    Population: registered in one of the periods, aged age_min–age_max at registration, and
    all 12 outcome months observed. The flow table counts each step.
    """
    regs = data.registrations.reset_index(drop=True)
    prof = profile(regs, data.spells, p)
    rt = route(prof, regs, p)
    lo = pd.Timestamp(p.wages_observed_from) if p.wages_observed_from else data.wages["maaned"].min()
    hi = pd.Timestamp(p.wages_observed_until) if p.wages_observed_until else data.wages["maaned"].max()
    ww = wage_window(regs, data.wages, data.g, p, observed=(lo, hi))
    feats = history_features(ww.cols(-p.history_months, -1), p)
    df = pd.concat([regs, prof.drop(columns="reg_id"), rt.drop(columns="reg_id"), feats], axis=1)
    df["outcome"] = outcome_sequences(ww.cols(1, p.horizon), p)
    df["decision_standard"] = decision_standard(df["forste_vedtak"], p.missing_decision_is_standard)
    df["period"] = _period_of(df["registrert_dato"], p)
    df["reg_month"] = pd.DatetimeIndex(df["registrert_dato"]).to_period("M").astype(str)
    in_period = df["period"] >= 0
    in_age = in_period & df["age"].between(p.age_min, p.age_max)
    observed = in_age & df["outcome"].notna()
    with_history = observed & df["months_above"].notna()
    flow = pd.DataFrame({
        "step": ["registrations in the extract", "registered in the periods",
                 f"aged {p.age_min}–{p.age_max} at registration", "12 outcome months observed",
                 f"{p.history_months} history months observed"],
        "registrations": [len(df), int(in_period.sum()), int(in_age.sum()), int(observed.sum()),
                          int(with_history.sum())],
    })
    keep = with_history.to_numpy()
    out = df[keep].reset_index(drop=True)
    out["outcome"] = pd.Categorical(out["outcome"], categories=list(OUTCOMES))
    out["period_label"] = np.asarray(p.period_labels(), dtype=object)[out["period"].to_numpy()]
    out["months_since_band"] = band_months_since(out["months_since_above"], p)
    out["months_above_band"] = band_months_above(out["months_above"], p)
    out["din_situasjon"] = pd.Categorical(out["din_situasjon"].astype(str), categories=list(DIN_SITUASJON))
    out["eligible_for_noe"] = eligible_for_noe(out, p)
    return AnalysisFrame(frame=out, flow=flow, post_g=ww.cols(1, p.horizon)[keep])


def eligible_for_noe(df: pd.DataFrame, p: ProfilingParams) -> np.ndarray:
    """Who a new model may send to NOE: no reported hindrance, not a single parent (seed 003
    §4.1), not reserved/shielded, age in the NOE range. Everyone else goes to the local office."""
    hi = _switch(df["registrert_dato"], p.noe_age_change, p.noe_age_max, p.noe_age_max_later)
    age = df["age"].to_numpy()
    return (~df["tag_hindrance"].to_numpy(dtype=bool) & ~df["enslig_forsorger"].to_numpy(dtype=bool)
            & ~df["reservert_digital"].to_numpy(dtype=bool) & (age >= p.noe_age_min) & (age <= hi))


def sequence_sample(frame: pd.DataFrame, post_g: np.ndarray, per_group: int, seed: int) -> pd.DataFrame:
    """A seeded sample of wage sequences per outcome group, tidy, for figure 2 of seed 003.

    Rows within a group are ordered by the mean wage over the 12 months; ``order`` is the row's
    position in the plot (groups stacked: stable, in and out, without work).
    """
    rng = np.random.default_rng(seed)
    o = frame["outcome"].astype(object).to_numpy()
    parts, offset = [], 0
    for oc in OUTCOMES:
        idx = np.flatnonzero(o == oc)
        pick = np.sort(rng.choice(idx, size=min(per_group, len(idx)), replace=False))
        pick = pick[np.argsort(post_g[pick].mean(axis=1), kind="stable")]
        months = np.arange(1, post_g.shape[1] + 1)
        parts.append(pd.DataFrame({
            "order": np.repeat(np.arange(len(pick)) + offset, len(months)),
            "outcome": oc, "month": np.tile(months, len(pick)), "wage_g": post_g[pick].ravel()}))
        offset += len(pick)
    return pd.concat(parts, ignore_index=True)


def sequence_percentiles(frame: pd.DataFrame, post_g: np.ndarray, min_count: int = 10,
                         quantiles: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)) -> pd.DataFrame:
    """Figure 2 of seed 003 as aggregates: percentiles of the wage in G per month after
    registration, by outcome group and month (no person-level rows; groups with fewer than
    ``min_count`` registrations are left out)."""
    o = frame["outcome"].astype(object).to_numpy()
    rows = []
    for oc in OUTCOMES:
        g = post_g[o == oc]
        if len(g) < min_count:
            continue
        q = np.quantile(g, quantiles, axis=0)
        for m in range(post_g.shape[1]):
            rows.append({"outcome": oc, "month": m + 1, "n": len(g),
                         **{f"p{round(qq * 100)}": float(q[i, m]) for i, qq in enumerate(quantiles)},
                         "share_above_3g": float(np.mean(g[:, m] > 3.0)),
                         "share_below_1g": float(np.mean(g[:, m] < 1.0))})
    return pd.DataFrame(rows)


def constructed_person(df: pd.DataFrame, **values: str) -> pd.DataFrame:
    """One made-up registration with the model's three inputs (defaults: the most frequent level
    of each), for explaining the score without showing a real person."""
    row: dict[str, Any] = {"reg_id": "example"}
    for var in MODEL_INPUTS:
        row[var] = values.get(var, str(pd.Series(df[var]).astype(str).mode().iloc[0]))
    return pd.DataFrame([row])


# --- table 5 ------------------------------------------------------------------------------------

#: Table 5 of seed 003 as printed (shares of all registrations aged 30–59) and the stated accuracy.
PUBLISHED_TABLE5: pd.DataFrame = pd.DataFrame(
    [
        ("all", "all", "stable", 0.34), ("all", "all", "in_and_out", 0.29), ("all", "all", "without_work", 0.37),
        ("profiling", "standard", "stable", 0.18), ("profiling", "standard", "in_and_out", 0.11),
        ("profiling", "standard", "without_work", 0.08), ("profiling", "non_standard", "stable", 0.16),
        ("profiling", "non_standard", "in_and_out", 0.18), ("profiling", "non_standard", "without_work", 0.29),
        ("decision", "standard", "stable", 0.27), ("decision", "standard", "in_and_out", 0.18),
        ("decision", "standard", "without_work", 0.16), ("decision", "non_standard", "stable", 0.08),
        ("decision", "non_standard", "in_and_out", 0.11), ("decision", "non_standard", "without_work", 0.21),
    ],
    columns=["sorting", "group", "outcome", "share"],
)
PUBLISHED_TOTALS: dict[tuple[str, str], float] = {
    ("profiling", "standard"): 0.37, ("profiling", "non_standard"): 0.63,
    ("decision", "standard"): 0.61, ("decision", "non_standard"): 0.40,
}
PUBLISHED_ACCURACY: dict[str, float] = {"profiling": 0.64, "decision": 0.66}
ACCURACY_DEFINITIONS: dict[str, str] = {
    "stable": "standard ∧ stable work + non-standard ∧ (in and out ∨ without work)",
    "not_without": "standard ∧ (stable ∨ in and out) + non-standard ∧ without work",
}


def crosstab(df: pd.DataFrame, standard: np.ndarray, sorting: str) -> pd.DataFrame:
    """Shares of all registrations by sorting group × outcome (tidy), with counts."""
    grp = np.where(np.asarray(standard, dtype=bool), "standard", "non_standard")
    t = pd.crosstab(grp, df["outcome"].to_numpy())
    t = t.reindex(index=["standard", "non_standard"], columns=list(OUTCOMES), fill_value=0)
    long = t.stack().rename("n").reset_index()
    long.columns = ["group", "outcome", "n"]
    long.insert(0, "sorting", sorting)
    long["share"] = long["n"] / len(df)
    return long


def table5_long(df: pd.DataFrame) -> pd.DataFrame:
    """Table 5 computed on the data, tidy: sorting ∈ {all, profiling, decision}."""
    all_ = df["outcome"].value_counts().reindex(list(OUTCOMES), fill_value=0).rename("n").reset_index()
    all_.columns = ["outcome", "n"]
    all_ = all_.assign(sorting="all", group="all", share=all_["n"] / len(df))
    return pd.concat([all_[["sorting", "group", "outcome", "n", "share"]],
                      crosstab(df, df["profiled_standard"].to_numpy(), "profiling"),
                      crosstab(df, df["decision_standard"].to_numpy(), "decision")], ignore_index=True)


def table5_wide(long: pd.DataFrame) -> pd.DataFrame:
    """Table 5 laid out as printed: outcome rows (+ total), five columns of shares."""
    long = long.copy()
    long["column"] = np.where(long["sorting"] == "all", "all registrations",
                              long["sorting"] + ": " + long["group"].str.replace("_", "-"))
    w = long.pivot_table(index="outcome", columns="column", values="share", aggfunc="sum", observed=True)
    w = w.reindex(index=list(OUTCOMES))
    w.loc["total"] = w.sum()
    order = ["all registrations", "profiling: standard", "profiling: non-standard", "decision: standard",
             "decision: non-standard"]
    w = w[[c for c in order if c in w.columns]]
    w.index = [OUTCOME_LABEL.get(i, i) for i in w.index]
    w.index.name = "outcome"
    return w


def table5_comparison(long: pd.DataFrame) -> pd.DataFrame:
    """Published table 5 beside the same cells computed on the data (percent of registrations)."""
    pub = PUBLISHED_TABLE5.set_index(["sorting", "group", "outcome"])["share"]
    got = long.set_index(["sorting", "group", "outcome"])["share"].reindex(pub.index)
    out = pd.DataFrame({"published_pct": pub * 100, "computed_pct": got * 100}).reset_index()
    out["difference_pp"] = out["computed_pct"] - out["published_pct"]
    out["outcome"] = out["outcome"].map(OUTCOME_LABEL)
    return out


def accuracy(standard: np.ndarray, outcome: np.ndarray, definition: str = "stable") -> float:
    """Share of registrations the sorting "gets right" under a stated definition.

    ``stable`` (the definition that reproduces the report's 64 % for profiling): standard and
    stable, or non-standard and not stable. ``not_without``: standard and not without work, or
    non-standard and without work.
    """
    std = np.asarray(standard, dtype=bool)
    o = np.asarray(outcome, dtype=object)
    if definition == "stable":
        hit = o == "stable"
    elif definition == "not_without":
        hit = o != "without_work"
    else:
        raise ValueError(f"definition: expected 'stable' or 'not_without', got {definition!r}")
    return float(np.mean(std == hit))


def accuracy_from_shares(cells: pd.DataFrame, definition: str = "stable") -> float:
    """The same accuracy from a table of shares (columns group, outcome, share), e.g. the printed table."""
    c = cells.set_index(["group", "outcome"])["share"]
    if definition == "stable":
        return float(c[("standard", "stable")] + c[("non_standard", "in_and_out")]
                     + c[("non_standard", "without_work")])
    if definition == "not_without":
        return float(c[("standard", "stable")] + c[("standard", "in_and_out")] + c[("non_standard", "without_work")])
    raise ValueError(f"definition: expected 'stable' or 'not_without', got {definition!r}")


def table5_accuracy(df: pd.DataFrame) -> pd.DataFrame:
    """Accuracy of profiling and first decision: as stated, recomputed from the printed cells and
    computed on the data, under both definitions; flags where the stated value does not follow."""
    rows = []
    for sorting, col in (("profiling", "profiled_standard"), ("decision", "decision_standard")):
        printed = PUBLISHED_TABLE5[PUBLISHED_TABLE5["sorting"] == sorting]
        for d in ACCURACY_DEFINITIONS:
            from_cells = accuracy_from_shares(printed, d)
            stated = PUBLISHED_ACCURACY[sorting]
            rows.append({
                "sorting": sorting, "definition": d, "definition_text": ACCURACY_DEFINITIONS[d],
                "stated_in_report": stated, "from_printed_cells": round(from_cells, 4),
                "computed_on_data": accuracy(df[col].to_numpy(), df["outcome"].to_numpy(), d),
                "stated_follows_from_cells": abs(from_cells - stated) <= 0.015,
            })
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Discrepancy:
    """The report's stated decision accuracy vs what its own table gives."""

    profiling_from_cells: float
    decision_from_cells: float
    decision_stated: float
    decision_other_definition: float
    profiling_other_definition: float
    text: str


def table5_discrepancy() -> Discrepancy:
    """The "66 %" for decisions cannot come from table 5 with the definition that gives 64 %."""
    t = PUBLISHED_TABLE5
    prof = accuracy_from_shares(t[t["sorting"] == "profiling"], "stable")
    dec = accuracy_from_shares(t[t["sorting"] == "decision"], "stable")
    dec2 = accuracy_from_shares(t[t["sorting"] == "decision"], "not_without")
    prof2 = accuracy_from_shares(t[t["sorting"] == "profiling"], "not_without")
    text = (
        f"With 'standard ∧ stable + non-standard ∧ not stable', the printed cells give "
        f"{prof * 100:.0f} % for profiling (stated 64 %, a rounding difference) but {dec * 100:.0f} % for the "
        f"first decision (stated {PUBLISHED_ACCURACY['decision'] * 100:.0f} %). The stated 66 % equals the "
        f"decision cells under a different definition, 'standard ∧ not without work + non-standard ∧ without "
        f"work' ({dec2 * 100:.0f} %), which would give profiling {prof2 * 100:.0f} %. The two stated accuracies "
        f"are therefore not comparable; on one definition the caseworkers' decisions score below the rule tree."
    )
    return Discrepancy(prof, dec, PUBLISHED_ACCURACY["decision"], dec2, prof2, text)


# --- the proposed model -------------------------------------------------------------------------

MODEL_INPUTS: tuple[str, ...] = ("din_situasjon", "months_since_band", "months_above_band")
INPUT_LABEL: dict[str, str] = {
    "din_situasjon": "registration reason (din situasjon)",
    "months_since_band": "months since last month > 3 G",
    "months_above_band": "months > 3 G in the last 24",
}
INPUT_SHORT: dict[str, str] = {"din_situasjon": "reason", "months_since_band": "months since > 3 G",
                               "months_above_band": "months > 3 G of 24"}
REFERENCE_LEVEL: dict[str, str] = {"din_situasjon": "MISTET_JOBBEN", "months_since_band": "1",
                                   "months_above_band": "24"}


def model_design(df: pd.DataFrame) -> pd.DataFrame:
    """Design matrix: constant + treatment dummies of the three inputs (fixed column order)."""
    cols: dict[str, np.ndarray] = {"const": np.ones(len(df))}
    for var in MODEL_INPUTS:
        cat = pd.Categorical(df[var])
        ref = REFERENCE_LEVEL[var]
        for level in cat.categories:
            if level != ref:
                cols[f"{var}[{level}]"] = (np.asarray(cat) == level).astype(float)
    return pd.DataFrame(cols, index=df.index)


@dataclass(frozen=True)
class FittedModel:
    """A fitted logistic model of one outcome on the three inputs."""

    target: str
    params: pd.Series
    bse: pd.Series
    n: int
    converged: bool
    llf: float
    pseudo_r2: float
    dropped: tuple[str, ...] = ()


def fit_model(df: pd.DataFrame, target: str) -> FittedModel:
    """Logit of ``outcome == target`` (statsmodels, Newton ML). Dummies with no variation in the
    fitting data are dropped and get coefficient 0 when predicting."""
    X = model_design(df)
    keep = [c for c in X.columns if c == "const" or X[c].std() > 0]
    y = (df["outcome"].astype(object) == target).astype(float).to_numpy()
    res = sm.Logit(y, X[keep]).fit(disp=0, method="newton", maxiter=100)
    params = res.params.reindex(X.columns, fill_value=0.0)
    bse = res.bse.reindex(X.columns)
    return FittedModel(target, params, bse, int(res.nobs), bool(res.mle_retvals["converged"]), float(res.llf),
                       float(res.prsquared), tuple(c for c in X.columns if c not in keep))


def linear_predictor(m: FittedModel, df: pd.DataFrame) -> np.ndarray:
    X = model_design(df).reindex(columns=m.params.index, fill_value=0.0)
    return X.to_numpy() @ m.params.to_numpy()


def predict(m: FittedModel, df: pd.DataFrame) -> np.ndarray:
    """P(target) per row."""
    return 1.0 / (1.0 + np.exp(-linear_predictor(m, df)))


def coefficient_table(m: FittedModel) -> pd.DataFrame:
    """Coefficients as a tidy table: input, level, coefficient (log-odds), SE, odds ratio."""
    rows = [{"input": "constant", "level": "reference person", "coefficient": m.params["const"],
             "std_error": m.bse["const"]}]
    for name in m.params.index.drop("const"):
        var, level = name[:-1].split("[", 1)
        rows.append({"input": INPUT_LABEL[var], "level": level, "coefficient": m.params[name],
                     "std_error": m.bse.get(name, np.nan)})
    out = pd.DataFrame(rows)
    out["odds_ratio"] = np.exp(out["coefficient"])
    return out


# --- sortings: today, variant A, variant B ------------------------------------------------------


def select_top(score: np.ndarray, eligible: np.ndarray, n_select: int) -> np.ndarray:
    """The ``n_select`` eligible rows with the highest score (ties: earlier row first)."""
    score = np.asarray(score, dtype=float)
    elig = np.flatnonzero(np.asarray(eligible, dtype=bool))
    order = elig[np.argsort(-score[elig], kind="stable")]
    out = np.zeros(len(score), dtype=bool)
    out[order[: max(0, min(n_select, len(order)))]] = True
    return out


def variant_a(p_stable: np.ndarray, eligible: np.ndarray, volume: float) -> np.ndarray:
    """Variant A: send the share ``volume`` of all registrations with the highest P(stable)."""
    return select_top(p_stable, eligible, int(round(volume * len(p_stable))))


def variant_b(p_without: np.ndarray, eligible: np.ndarray, volume: float) -> np.ndarray:
    """Variant B: send the share ``volume`` with the lowest P(without work)."""
    return select_top(-np.asarray(p_without), eligible, int(round(volume * len(p_without))))


def variant_b_same_without(p_without: np.ndarray, eligible: np.ndarray, without: np.ndarray,
                           max_without: int) -> np.ndarray:
    """Variant B by the report's rule (seed 003 §4.4): rank the eligible by the lowest P(without
    work) and send the largest number of them that contains no more persons ending without work
    than ``max_without`` (those today's sorting sends). Ties in P are broken by row order, as in
    :func:`select_top`. Like the report, the rule uses the observed outcome, so it is a yardstick
    on evaluation data, not a rule that could be applied to new registrations as it stands."""
    p_without = np.asarray(p_without, dtype=float)
    elig = np.flatnonzero(np.asarray(eligible, dtype=bool))
    order = elig[np.argsort(p_without[elig], kind="stable")]
    cum = np.cumsum(np.asarray(without, dtype=bool)[order])
    n = int(np.searchsorted(cum, max_without, side="right"))
    out = np.zeros(len(p_without), dtype=bool)
    out[order[:n]] = True
    return out


def sortings_for(df: pd.DataFrame, today: np.ndarray, p_stable: np.ndarray, p_without: np.ndarray,
                 p: ProfilingParams, rule: str | None = None) -> dict[str, np.ndarray]:
    """Today, variant A (today's volume, highest P(stable)) and variant B (``rule``, default the
    parameters' ``variant_b_rule``) against a given definition of today's sorting."""
    o = df["outcome"].astype(object).to_numpy()
    elig = df["eligible_for_noe"].to_numpy(dtype=bool)
    today = np.asarray(today, dtype=bool)
    rule = rule or p.variant_b_rule
    if rule == "fixed_volume":
        b = variant_b(p_without, elig, p.volume_b)
    else:
        b = variant_b_same_without(p_without, elig, o == "without_work", int((today & (o == "without_work")).sum()))
    return {"today (rule tree)": today, "variant A": variant_a(p_stable, elig, float(today.mean())), "variant B": b}


def source_readings(df: pd.DataFrame, p_stable: np.ndarray, p_without: np.ndarray, p: ProfilingParams) -> pd.DataFrame:
    """Table 8 under the readings the sources leave open: today as 'profiled standard' (the
    report's table 8) or as 'routed to NOE' (standard and in NOE's age range, not reserved or
    shielded), and variant B by the report's rule or with the printed fixed 48 %."""
    today_std = df["profiled_standard"].to_numpy(dtype=bool)
    today_routed = df["to_noe"].to_numpy(dtype=bool)
    parts = []
    for today_name, today in (("profiled standard (table 8)", today_std), ("routed to NOE", today_routed)):
        for rule, rule_name in (("same_without_as_today", "B: same without work as today"),
                                ("fixed_volume", f"B: fixed {p.volume_b:.0%}")):
            s = sorting_summary(df, sortings_for(df, today, p_stable, p_without, p, rule), p.typical_month)
            if rule == "fixed_volume":
                s = s[s["sorting"] == "variant B"]
            s = s.assign(today=today_name, variant_b=rule_name)
            parts.append(s)
    out = pd.concat(parts, ignore_index=True)
    out.loc[out["sorting"] != "variant B", "variant_b"] = ""
    cols = ["today", "variant_b", "sorting", "share_to_noe", "accuracy_stable", "accuracy_not_without",
            "stable_to_noe_per_month", "without_to_noe_per_month", "more_stable_to_noe_per_month",
            "fewer_without_to_noe_per_month", "more_to_noe_per_month"]
    return out[cols]


def sorting_summary(df: pd.DataFrame, sortings: Mapping[str, np.ndarray], typical_month: int) -> pd.DataFrame:
    """Table 8 and more: per sorting, volume to NOE, accuracy under both definitions, persons per
    typical month by outcome sent to NOE, precision/recall at the cut-off, and the change vs the
    first sorting ('today')."""
    o = df["outcome"].astype(object).to_numpy()
    stable, without = o == "stable", o == "without_work"
    rows = []
    for name, noe in sortings.items():
        noe = np.asarray(noe, dtype=bool)
        rows.append({
            "sorting": name,
            "share_to_noe": noe.mean(),
            "accuracy_stable": accuracy(noe, o, "stable"),
            "accuracy_not_without": accuracy(noe, o, "not_without"),
            "noe_per_month": noe.mean() * typical_month,
            "stable_to_noe_per_month": (noe & stable).mean() * typical_month,
            "in_and_out_to_noe_per_month": (noe & (o == "in_and_out")).mean() * typical_month,
            "without_to_noe_per_month": (noe & without).mean() * typical_month,
            "precision_stable": (noe & stable).sum() / max(noe.sum(), 1),
            "recall_stable": (noe & stable).sum() / max(stable.sum(), 1),
            "precision_without_local": (~noe & without).sum() / max((~noe).sum(), 1),
            "recall_without_local": (~noe & without).sum() / max(without.sum(), 1),
        })
    out = pd.DataFrame(rows)
    base = out.iloc[0]
    out["more_stable_to_noe_per_month"] = out["stable_to_noe_per_month"] - base["stable_to_noe_per_month"]
    out["fewer_without_to_noe_per_month"] = base["without_to_noe_per_month"] - out["without_to_noe_per_month"]
    out["more_to_noe_per_month"] = out["noe_per_month"] - base["noe_per_month"]
    return out


#: Table 8 of seed 003 (and §4.4.1's monthly numbers) as printed.
PUBLISHED_TABLE8: pd.DataFrame = pd.DataFrame(
    {"sorting": ["today (rule tree)", "variant A", "variant B"],
     "share_to_noe": [0.37, 0.37, 0.48], "accuracy": [0.64, 0.72, 0.68],
     "without_to_noe": ["—", "fewer than today", "same as today"],
     "more_stable_to_noe_per_month": [0, 310, np.nan], "fewer_without_to_noe_per_month": [0, 210, 0],
     "more_to_noe_per_month": [0, 0, 990]}
)


def destination_by_outcome(df: pd.DataFrame, sortings: Mapping[str, np.ndarray], typical_month: int) -> pd.DataFrame:
    """Figure 5: persons per typical month by sorting × destination (NOE/local office) × outcome."""
    o = df["outcome"].astype(object).to_numpy()
    rows = []
    for name, noe in sortings.items():
        noe = np.asarray(noe, dtype=bool)
        for dest, mask in (("NOE", noe), ("local office", ~noe)):
            for oc in OUTCOMES:
                rows.append({"sorting": name, "destination": dest, "outcome": oc,
                             "persons_per_month": (mask & (o == oc)).mean() * typical_month})
    return pd.DataFrame(rows)


# --- beyond the report: discrimination, calibration, curves -------------------------------------


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann–Whitney; ties count one half)."""
    y = np.asarray(y, dtype=bool)
    r = stats.rankdata(np.asarray(score, dtype=float))
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    """Mean squared difference between the 0/1 outcome and the predicted probability."""
    return float(np.mean((np.asarray(p, dtype=float) - np.asarray(y, dtype=float)) ** 2))


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Observed vs mean predicted by equal-count bins of the prediction, with a 95 % Wilson interval."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    b = np.empty(len(p), dtype=int)
    b[order] = np.arange(len(p)) * bins // len(p)
    g = pd.DataFrame({"bin": b + 1, "y": y, "p": p}).groupby("bin")
    out = pd.DataFrame({"n": g.size(), "mean_predicted": g["p"].mean(), "observed": g["y"].mean()}).reset_index()
    z = 1.959964
    n, ph = out["n"].to_numpy(float), out["observed"].to_numpy(float)
    centre = (ph + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    out["observed_lower"], out["observed_upper"] = centre - half, centre + half
    return out


def volume_curve(df: pd.DataFrame, p_stable: np.ndarray, p_without: np.ndarray, volumes: tuple[float, ...],
                 typical_month: int) -> pd.DataFrame:
    """Accuracy and persons without work sent to NOE as the volume to NOE grows, for both rankings."""
    o = df["outcome"].astype(object).to_numpy()
    elig = df["eligible_for_noe"].to_numpy(dtype=bool)
    rows = []
    for ranking, score in (("P(stable)", p_stable), ("1 − P(without work)", -np.asarray(p_without))):
        for v in volumes:
            if v > elig.mean() + 1e-9:
                continue
            noe = select_top(score, elig, int(round(v * len(o))))
            rows.append({"ranking": ranking, "volume": v,
                         "accuracy_stable": accuracy(noe, o, "stable"),
                         "accuracy_not_without": accuracy(noe, o, "not_without"),
                         "without_to_noe_per_month": (noe & (o == "without_work")).mean() * typical_month,
                         "stable_to_noe_per_month": (noe & (o == "stable")).mean() * typical_month})
    return pd.DataFrame(rows)


# --- paired comparison --------------------------------------------------------------------------


@dataclass(frozen=True)
class McNemarResult:
    """Exact McNemar test on paired correct/incorrect classifications."""

    n: int
    only_a_correct: int
    only_b_correct: int
    statistic: float
    p_value: float


def mcnemar_exact(correct_a: np.ndarray, correct_b: np.ndarray) -> McNemarResult:
    """Two-sided exact McNemar test: binomial test of the discordant pairs against 1/2."""
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    n01, n10 = int((a & ~b).sum()), int((~a & b).sum())
    k = n01 + n10
    pval = float(stats.binomtest(min(n01, n10), k, 0.5).pvalue) if k else 1.0
    return McNemarResult(len(a), n01, n10, float(min(n01, n10)), pval)


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap distribution summary of an accuracy difference (A − B)."""

    difference: float
    lower: float
    upper: float
    std_error: float
    replicates: int
    seed: int


def bootstrap_accuracy_difference(correct_a: np.ndarray, correct_b: np.ndarray, replicates: int,
                                  seed: int, level: float = 0.95) -> BootstrapResult:
    """Paired nonparametric bootstrap of accuracy(A) − accuracy(B), percentile interval.

    Resampling registrations with replacement is equivalent to drawing the counts of the four
    concordance cells (both right, only A, only B, neither) from a multinomial, which is what
    is done here (exact, and fast for any n). The sortings are held fixed (the model is not refit).
    """
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    n = len(a)
    cells = np.array([(a & b).sum(), (a & ~b).sum(), (~a & b).sum(), (~a & ~b).sum()], dtype=float)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, cells / n, size=replicates)
    diff = (draws[:, 1] - draws[:, 2]) / n
    alpha = (1 - level) / 2
    lo, hi = np.quantile(diff, [alpha, 1 - alpha])
    return BootstrapResult(float((cells[1] - cells[2]) / n), float(lo), float(hi), float(diff.std(ddof=1)),
                           replicates, seed)


# --- temporal validation ------------------------------------------------------------------------


def temporal_validation(df: pd.DataFrame, p: ProfilingParams) -> pd.DataFrame:
    """Fit on the earlier period, evaluate on the later one; compare with a fit on the later period.

    For each target: AUC, Brier score, mean predicted vs observed (calibration-in-the-large) and
    the accuracy of the variant at the later period's volume.
    """
    train, test = df[df["period"] == 0], df[df["period"] == 1]
    if len(train) == 0 or len(test) == 0:
        return pd.DataFrame()
    o = test["outcome"].astype(object).to_numpy()
    elig = test["eligible_for_noe"].to_numpy(dtype=bool)
    vol_a = float(test["profiled_standard"].mean())
    rows = []
    for target, definition, volume in (("stable", "stable", vol_a), ("without_work", "not_without", p.volume_b)):
        y = o == target
        for fit_on, fit_df in (("earlier period (out of time)", train), ("later period (in sample)", test)):
            m = fit_model(fit_df, target)
            pr = predict(m, test)
            noe = variant_a(pr, elig, volume) if target == "stable" else variant_b(pr, elig, volume)
            rows.append({"target": target, "fitted_on": fit_on, "n_train": len(fit_df), "n_test": len(test),
                         "auc": auc(y, pr), "brier": brier(y, pr), "mean_predicted": pr.mean(),
                         "observed": y.mean(), "volume": volume, "accuracy": accuracy(noe, o, definition)})
    return pd.DataFrame(rows)


# --- fairness audit -----------------------------------------------------------------------------

GROUP_LABELS: dict[str, dict[Any, str]] = {
    "kvinne": {False: "men", True: "women"},
    "landgruppe": {0: "0 Norway", 1: "1 Western Europe etc.", 2: "2 EU Eastern Europe", 3: "3 Asia, Africa, …",
                   -1: "unknown"},
}


def fairness_audit(df: pd.DataFrame, sortings: Mapping[str, np.ndarray], p_stable: np.ndarray) -> pd.DataFrame:
    """Error rates and calibration by sex and country group for each sorting (target: stable work).

    A sorting "predicts stable" by sending to NOE. FPR = P(NOE | not stable), FNR = P(local |
    stable), precision = P(stable | NOE); gaps are against the largest group of the attribute.
    Subgroup calibration: mean P(stable) vs observed share stable (O − E in percentage points).
    """
    y = df["outcome"].astype(object).to_numpy() == "stable"
    rows = []
    for attr, labels in GROUP_LABELS.items():
        values = df[attr].to_numpy()
        ref = pd.Series(values).value_counts().idxmax()
        for name, noe in sortings.items():
            noe = np.asarray(noe, dtype=bool)
            for v in sorted(pd.unique(values)):
                g = values == v
                rows.append({"attribute": attr, "group": labels.get(v, str(v)), "is_reference": v == ref,
                             "sorting": name, "n": int(g.sum()), "share_to_noe": noe[g].mean(),
                             "observed_stable": y[g].mean(),
                             "fpr": (noe & ~y & g).sum() / max((~y & g).sum(), 1),
                             "fnr": (~noe & y & g).sum() / max((y & g).sum(), 1),
                             "precision": (noe & y & g).sum() / max((noe & g).sum(), 1),
                             "mean_p_stable": np.asarray(p_stable)[g].mean()})
    out = pd.DataFrame(rows)
    out["calibration_gap_pp"] = (out["observed_stable"] - out["mean_p_stable"]) * 100
    key = ["attribute", "sorting"]
    refs = out[out["is_reference"]].set_index(key)
    for col in ("fpr", "fnr", "share_to_noe"):
        out[f"{col}_gap"] = out[col].to_numpy() - refs.loc[pd.MultiIndex.from_frame(out[key]), col].to_numpy()
    return out


# --- per-person explanation ---------------------------------------------------------------------


def explain(m: FittedModel, df: pd.DataFrame, rows: Mapping[int, str], reference: pd.DataFrame) -> pd.DataFrame:
    """What a person's score is based on: each input's contribution to the linear predictor.

    Contribution of input j for person i = β_j(x_ij) − mean over ``reference`` of β_j(x_kj): how
    much the person's answer moves the log-odds compared with the average registration (for a
    logistic model these are exactly the Shapley values of the linear predictor). ``rows`` maps
    row positions of ``df`` to a label of the case. One result row per person and input, plus
    the average's log-odds; the contributions add up to the person's log-odds, whose logistic
    is the probability shown.
    """
    def per_input(frame: pd.DataFrame) -> pd.DataFrame:
        X = model_design(frame).reindex(columns=m.params.index, fill_value=0.0)
        parts = {}
        for var in MODEL_INPUTS:
            cols = [c for c in X.columns if c.startswith(var + "[")]
            parts[var] = X[cols].to_numpy() @ m.params[cols].to_numpy()
        return pd.DataFrame(parts, index=frame.index)

    base = per_input(reference).mean()
    sel = df.iloc[list(rows)]
    contrib = per_input(sel) - base
    avg_lp = float(m.params["const"] + base.sum())
    out = []
    for (idx, r), case in zip(sel.iterrows(), rows.values()):
        lp = avg_lp + float(contrib.loc[idx].sum())
        common = {"reg_id": r["reg_id"], "case": case, "log_odds": lp, "probability": 1 / (1 + np.exp(-lp))}
        out.append({**common, "input": "average registration", "input_short": "average", "value": "",
                    "meaning": "", "contribution": avg_lp})
        for var in MODEL_INPUTS:
            value = str(r[var])
            out.append({**common, "input": INPUT_LABEL[var], "input_short": INPUT_SHORT[var], "value": value,
                        "meaning": DIN_SITUASJON_LABEL.get(value, "") if var == "din_situasjon" else "",
                        "contribution": float(contrib.loc[idx, var])})
    cols = ["reg_id", "case", "input", "input_short", "value", "meaning", "contribution", "log_odds", "probability"]
    return pd.DataFrame(out)[cols]


def example_persons(df: pd.DataFrame, p_stable: np.ndarray, noe_today: np.ndarray, noe_a: np.ndarray) -> dict[int, str]:
    """Three illustrative rows (median P(stable) within each case): sent to NOE by both sortings,
    by the rule tree only, by variant A only."""
    picks: dict[int, str] = {}
    cases = (("NOE under both", noe_today & noe_a), ("NOE under the rule tree only", noe_today & ~noe_a),
             ("NOE under variant A only", ~noe_today & noe_a))
    for label, mask in cases:
        idx = np.flatnonzero(mask)
        if len(idx):
            picks[int(idx[np.argsort(p_stable[idx], kind="stable")[len(idx) // 2]])] = label
    return picks


# --- the whole evaluation -----------------------------------------------------------------------


@dataclass
class ProfilingEvaluation:
    """Everything the chapter shows, computed once."""

    params: ProfilingParams
    flow: pd.DataFrame
    frame: pd.DataFrame
    table5_long: pd.DataFrame
    table5: pd.DataFrame
    table5_accuracy: pd.DataFrame
    discrepancy: Discrepancy
    model_stable: FittedModel
    model_without: FittedModel
    p_stable: np.ndarray
    p_without: np.ndarray
    sortings: dict[str, np.ndarray]
    summary: pd.DataFrame
    destinations: pd.DataFrame
    discrimination: pd.DataFrame
    calibration: dict[str, pd.DataFrame]
    curve: pd.DataFrame
    mcnemar: McNemarResult
    bootstrap: BootstrapResult
    temporal: pd.DataFrame
    fairness: pd.DataFrame
    explanations: pd.DataFrame
    rule_variants: pd.DataFrame = field(default_factory=pd.DataFrame)
    sequences: pd.DataFrame = field(default_factory=pd.DataFrame)  # percentiles by outcome × month
    readings: pd.DataFrame = field(default_factory=pd.DataFrame)  # table 8 under the sources' readings


def discrimination_table(df: pd.DataFrame, p_stable: np.ndarray, p_without: np.ndarray) -> pd.DataFrame:
    """AUC and Brier score of the model and, for comparison, of the 0/1 rule tree and decision."""
    o = df["outcome"].astype(object).to_numpy()
    rows = []
    for target, y in (("stable", o == "stable"), ("without_work", o == "without_work")):
        sign = 1.0 if target == "stable" else -1.0
        p_model = p_stable if target == "stable" else p_without
        for name, score, prob in (
            ("model", p_model, p_model),
            ("rule tree (standard = 1)", sign * df["profiled_standard"].to_numpy(float), None),
            ("first decision (standard = 1)", sign * df["decision_standard"].to_numpy(float), None),
        ):
            rows.append({"target": target, "score": name, "auc": auc(y, score),
                         "brier": brier(y, prob) if prob is not None else np.nan, "base_rate": y.mean()})
    return pd.DataFrame(rows)


RULE_VARIANTS: dict[str, dict[str, Any]] = {
    "as coded (default)": {},
    "older work rule (veilarbregistrering: 6 consecutive month starts)": {"work_rule": "veilarb_first_of_month"},
    "NUS 2 (primary school) tags at any date": {"nus2_tag_from": None},
    "merge margin 4 days (gap ≤ 3 days merges)": {"merge_margin_days": 4},
}


def rule_variants(data: ProfilingData, frame: pd.DataFrame, p: ProfilingParams) -> pd.DataFrame:
    """Work tag, share profiled standard and accuracy under documented variants of the coded rules,
    on the study population (the choices the sources leave open; see the module docstring)."""
    regs = data.registrations.set_index("reg_id").loc[frame["reg_id"]].reset_index()
    o = frame["outcome"].astype(object).to_numpy()
    rows = []
    for name, change in RULE_VARIANTS.items():
        prof = profile(regs, data.spells, replace(p, **change))
        std = prof["profiled_standard"].to_numpy()
        rows.append({"variant": name, "work_tag_share": prof["tag_work"].mean(),
                     "education_tag_share": prof["tag_education"].mean(), "profiled_standard_share": std.mean(),
                     "accuracy_stable": accuracy(std, o, "stable"),
                     "changed_vs_default": float(np.mean(std != frame["profiled_standard"].to_numpy()))})
    return pd.DataFrame(rows)


def evaluate(data: ProfilingData, p: ProfilingParams) -> ProfilingEvaluation:
    """Run every step of the evaluation on validated data."""
    af = analysis_frame(data, p)
    df = af.frame
    o = df["outcome"].astype(object).to_numpy()
    m_s, m_w = fit_model(df, "stable"), fit_model(df, "without_work")
    p_s, p_w = predict(m_s, df), predict(m_w, df)
    today = df["profiled_standard"].to_numpy(dtype=bool)
    sortings = sortings_for(df, today, p_s, p_w, p)
    correct_tree = today == (o == "stable")
    correct_a = sortings["variant A"] == (o == "stable")
    t5 = table5_long(df)
    picks = example_persons(df, p_s, today, sortings["variant A"])
    return ProfilingEvaluation(
        params=p, flow=af.flow, frame=df, table5_long=t5, table5=table5_wide(t5),
        table5_accuracy=table5_accuracy(df), discrepancy=table5_discrepancy(),
        model_stable=m_s, model_without=m_w, p_stable=p_s, p_without=p_w, sortings=sortings,
        summary=sorting_summary(df, sortings, p.typical_month),
        destinations=destination_by_outcome(df, sortings, p.typical_month),
        discrimination=discrimination_table(df, p_s, p_w),
        calibration={"stable": calibration_table(o == "stable", p_s, p.calibration_bins),
                     "without_work": calibration_table(o == "without_work", p_w, p.calibration_bins)},
        curve=volume_curve(df, p_s, p_w, p.volume_grid, p.typical_month),
        mcnemar=mcnemar_exact(correct_a, correct_tree),
        bootstrap=bootstrap_accuracy_difference(correct_a, correct_tree, p.bootstrap_replicates, p.bootstrap_seed),
        temporal=temporal_validation(df, p),
        fairness=fairness_audit(df, {"today (rule tree)": today, "variant A": sortings["variant A"]}, p_s),
        explanations=explain(m_s, df, picks, df),
        rule_variants=rule_variants(data, df, p),
        sequences=sequence_percentiles(df, af.post_g),
        readings=source_readings(df, p_s, p_w, p),
    )


# --- numbers quoted in the chapter --------------------------------------------------------------


def key_numbers(ev: ProfilingEvaluation) -> dict[str, Any]:
    """Plain Python numbers the chapter quotes in prose (shares as fractions, counts per month)."""
    df = ev.frame
    o = df["outcome"].astype(object).to_numpy()
    std = df["profiled_standard"].to_numpy(dtype=bool)
    dec = df["decision_standard"].to_numpy(dtype=bool)
    s = ev.summary.set_index("sorting")
    acc = ev.table5_accuracy.set_index(["sorting", "definition"])["computed_on_data"]
    disc = ev.discrimination.set_index(["target", "score"])
    tv = ev.temporal.set_index(["target", "fitted_on"]) if len(ev.temporal) else None
    fa = ev.fairness[(ev.fairness["attribute"] == "landgruppe") & (ev.fairness["group"].str.startswith("3"))]
    fa = fa.set_index("sorting")
    rv = ev.rule_variants.set_index("variant")["profiled_standard_share"]
    n_months = df["reg_month"].nunique()
    out: dict[str, Any] = {
        "n": len(df), "n_months": n_months, "per_month": len(df) / max(n_months, 1),
        "share_stable": float(np.mean(o == "stable")), "share_in_out": float(np.mean(o == "in_and_out")),
        "share_without": float(np.mean(o == "without_work")),
        "prof_standard": float(std.mean()), "dec_standard": float(dec.mean()),
        "dec_std_given_prof_std": float(dec[std].mean()),
        "not_stable_given_prof_std": float(np.mean(o[std] != "stable")),
        "not_stable_given_dec_std": float(np.mean(o[dec] != "stable")),
        "tag_hindrance": float(df["tag_hindrance"].mean()), "tag_education": float(df["tag_education"].mean()),
        "tag_work": float(df["tag_work"].mean()), "to_noe": float(df["to_noe"].mean()),
        "acc_prof": float(acc[("profiling", "stable")]), "acc_dec": float(acc[("decision", "stable")]),
        "acc_prof_nw": float(acc[("profiling", "not_without")]), "acc_dec_nw": float(acc[("decision", "not_without")]),
        "pub_prof_cells": ev.discrepancy.profiling_from_cells, "pub_dec_cells": ev.discrepancy.decision_from_cells,
        "pub_dec_other": ev.discrepancy.decision_other_definition,
        "pub_prof_other": ev.discrepancy.profiling_other_definition,
        "acc_today": float(s.loc["today (rule tree)", "accuracy_stable"]),
        "acc_a": float(s.loc["variant A", "accuracy_stable"]),
        "acc_b": float(s.loc["variant B", "accuracy_not_without"]),
        "acc_today_nw": float(s.loc["today (rule tree)", "accuracy_not_without"]),
        "vol_a": float(s.loc["variant A", "share_to_noe"]), "vol_b": float(s.loc["variant B", "share_to_noe"]),
        "a_more_stable": float(s.loc["variant A", "more_stable_to_noe_per_month"]),
        "a_fewer_without": float(s.loc["variant A", "fewer_without_to_noe_per_month"]),
        "b_more_noe": float(s.loc["variant B", "more_to_noe_per_month"]),
        "b_more_without": float(-s.loc["variant B", "fewer_without_to_noe_per_month"]),
        "b_more_stable": float(s.loc["variant B", "more_stable_to_noe_per_month"]),
        "prec_today": float(s.loc["today (rule tree)", "precision_stable"]),
        "prec_a": float(s.loc["variant A", "precision_stable"]),
        "auc_stable": float(disc.loc[("stable", "model"), "auc"]),
        "auc_without": float(disc.loc[("without_work", "model"), "auc"]),
        "auc_tree": float(disc.loc[("stable", "rule tree (standard = 1)"), "auc"]),
        "auc_dec": float(disc.loc[("stable", "first decision (standard = 1)"), "auc"]),
        "brier_stable": float(disc.loc[("stable", "model"), "brier"]),
        "brier_null": float(np.mean(o == "stable") * (1 - np.mean(o == "stable"))),
        "mcnemar_p": ev.mcnemar.p_value, "mcnemar_a_only": ev.mcnemar.only_a_correct,
        "mcnemar_tree_only": ev.mcnemar.only_b_correct,
        "boot_diff": ev.bootstrap.difference, "boot_lo": ev.bootstrap.lower, "boot_hi": ev.bootstrap.upper,
        "boot_reps": ev.bootstrap.replicates,
        "typical_month": ev.params.typical_month,
        "std_legacy": float(rv.iloc[1]), "std_nus2": float(rv.iloc[2]), "std_margin4": float(rv.iloc[3]),
        "std_default": float(rv.iloc[0]),
        "fnr_gap_tree_lg3": float(fa.loc["today (rule tree)", "fnr_gap"]),
        "fnr_gap_a_lg3": float(fa.loc["variant A", "fnr_gap"]),
        "calib_gap_lg3": float(fa.loc["variant A", "calibration_gap_pp"]),
    }
    if tv is not None:
        out.update({
            "tv_auc_out": float(tv.loc[("stable", "earlier period (out of time)"), "auc"]),
            "tv_auc_in": float(tv.loc[("stable", "later period (in sample)"), "auc"]),
            "tv_pred_out": float(tv.loc[("stable", "earlier period (out of time)"), "mean_predicted"]),
            "tv_obs": float(tv.loc[("stable", "earlier period (out of time)"), "observed"]),
            "tv_acc_out": float(tv.loc[("stable", "earlier period (out of time)"), "accuracy"]),
            "tv_acc_in": float(tv.loc[("stable", "later period (in sample)"), "accuracy"]),
        })
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in out.items()}


def format_p(p: float) -> str:
    """A p-value for prose: '< 0.001' below one in a thousand, else three decimals."""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
