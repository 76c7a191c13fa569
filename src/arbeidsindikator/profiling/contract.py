"""Input contract of the registration extracts used by the profiling evaluation (seed 003).

Four tables, each declared once as a tuple of :class:`~arbeidsindikator.data.contract.ColumnSpec`
(name, type, unit, allowed values, meaning, allowed codes); the same tuples document the contract
in the book and drive the code checks:

* ``registrations`` — one row per job-seeker registration (*arbeidssøkerregistrering*) with the
  answers of the registration form (seed 003 appendix 1, NAV's code names), the caseworker's
  first §14a decision and the background variables used by the fairness audit;
* ``spells`` — employment spells from the employer register (*Aa-registeret*), one row per
  spell, as known at registration (input of the "6 continuous months of the last 12" rule);
* ``wages`` — monthly wage income from the a-melding in NOK, one row per person and calendar
  month **with** a reported wage (a person-month without a row had no reported wage: 0 NOK);
* ``g`` — the National Insurance basic amount G (*grunnbeløpet*) by the date it applies from.

:func:`validate_profiling_data` checks all four and raises **one**
:class:`~arbeidsindikator.data.contract.ContractError` that lists every violation with its table,
column, number of rows and an example value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from arbeidsindikator.data.contract import ColumnSpec, ContractError, violation
from arbeidsindikator.data.grunnbelop import load_g

# --- code lists (NAV's code names) --------------------------------------------------------------

#: "Din situasjon" (registration reason), the ten answers of question 1 (seed 003 appendix 1).
DIN_SITUASJON: tuple[str, ...] = (
    "MISTET_JOBBEN",
    "HAR_SAGT_OPP",
    "DELTIDSJOBB_VIL_MER",
    "ALDRI_HATT_JOBB",
    "VIL_BYTTE_JOBB",
    "JOBB_OVER_2_AAR",
    "ER_PERMITTERT",
    "USIKKER_JOBBSITUASJON",
    "AKKURAT_FULLFORT_UTDANNING",
    "VIL_FORTSETTE_I_JOBB",
)
#: English wording of the ten answers (the form's Norwegian text, translated).
DIN_SITUASJON_LABEL: dict[str, str] = {
    "MISTET_JOBBEN": "has lost or will lose the job",
    "HAR_SAGT_OPP": "has resigned or will resign",
    "DELTIDSJOBB_VIL_MER": "part-time job, wants to work more",
    "ALDRI_HATT_JOBB": "has never had a job",
    "VIL_BYTTE_JOBB": "has a job, wants to change",
    "JOBB_OVER_2_AAR": "not worked in the last two years",
    "ER_PERMITTERT": "is or will be furloughed",
    "USIKKER_JOBBSITUASJON": "unsure about the job situation",
    "AKKURAT_FULLFORT_UTDANNING": "just finished education, military service or other",
    "VIL_FORTSETTE_I_JOBB": "has a job and wants to keep it",
}
JA_NEI_VET_IKKE: tuple[str, ...] = ("JA", "NEI", "VET_IKKE")
#: NUS education levels as codes '0'–'9' (0 none, 1 primary 1–7, 2 lower secondary, 3–4 upper
#: secondary, 5 post-secondary vocational, 6 bachelor, 7 master, 8 PhD, 9 unknown).
NUS_LEVELS: tuple[str, ...] = tuple(str(i) for i in range(10))
#: Legacy education answers of the old form and their NUS level (digest Part 3).
LEGACY_EDUCATION_TO_NUS: dict[str, str] = {
    "INGEN_UTDANNING": "0",
    "GRUNNSKOLE": "2",
    "VIDEREGAENDE_GRUNNUTDANNING": "3",
    "VIDEREGAENDE_FAGBREV_SVENNEBREV": "4",
    "HOYERE_UTDANNING_1_TIL_4": "6",
    "HOYERE_UTDANNING_5_ELLER_MER": "7",
    "INGEN_SVAR": "9",
}
#: §14a decision codes, old names and the names used since 2024 (digest Part 3).
VEDTAK_OLD_TO_NEW: dict[str, str] = {
    "STANDARD_INNSATS": "GODE_MULIGHETER",
    "SITUASJONSBESTEMT_INNSATS": "TRENGER_VEILEDNING",
    "SPESIELT_TILPASSET_INNSATS": "TRENGER_VEILEDNING_NEDSATT_ARBEIDSEVNE",
    "GRADERT_VARIG_TILPASSET_INNSATS": "JOBBE_DELVIS",
    "VARIG_TILPASSET_INNSATS": "LITEN_MULIGHET_TIL_A_JOBBE",
}
VEDTAK_CODES: tuple[str, ...] = tuple(VEDTAK_OLD_TO_NEW) + tuple(VEDTAK_OLD_TO_NEW.values())
VEDTAK_STANDARD: frozenset[str] = frozenset({"STANDARD_INNSATS", "GODE_MULIGHETER"})
LANDGRUPPER: tuple[int, ...] = (-1, 0, 1, 2, 3)

# --- column specifications ----------------------------------------------------------------------

_JNV = "JA, NEI, VET_IKKE; empty = not answered"

REGISTRATION_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("reg_id", "int64", "—", "> 0, unique", "id of the registration"),
    ColumnSpec("person_id", "int64", "—", "> 0", "pseudonymised person id (links spells and wages)"),
    ColumnSpec("registrert_dato", "datetime64", "date", "any date", "date the registration was sent in"),
    ColumnSpec("fodselsdato", "datetime64", "date", "before registrert_dato",
               "date of birth (birth year only: 1 July of that year, as NAV's code does)"),
    ColumnSpec("din_situasjon", "category", "—", ", ".join(DIN_SITUASJON),
               "'Din situasjon': the registration reason chosen on the form (question 1)", codes=DIN_SITUASJON),
    ColumnSpec("utdanning_nus", "category", "NUS level", "'0'–'9'; empty = not answered",
               "highest completed education as NUS level (legacy answers mapped, see LEGACY_EDUCATION_TO_NUS)",
               nullable=True, codes=NUS_LEVELS),
    ColumnSpec("utdanning_bestatt", "category", "—", _JNV, "education passed (not asked for NUS 0–2)",
               nullable=True, codes=JA_NEI_VET_IKKE),
    ColumnSpec("utdanning_godkjent", "category", "—", _JNV, "education approved in Norway (not asked for NUS 0–2)",
               nullable=True, codes=JA_NEI_VET_IKKE),
    ColumnSpec("helse_hindrer", "category", "—", _JNV, "health problems that hinder seeking or holding a job",
               nullable=True, codes=JA_NEI_VET_IKKE),
    ColumnSpec("andre_forhold_hindrer", "category", "—", _JNV,
               "other problems (language, reading, family situation …) hindering work", nullable=True,
               codes=JA_NEI_VET_IKKE),
    ColumnSpec("enslig_forsorger", "bool", "—", "true/false",
               "single parent (special rights; NOE routes to local office)"),
    ColumnSpec("reservert_digital", "bool", "—", "true/false",
               "reserved against digital contact or otherwise shielded: never routed to NOE"),
    ColumnSpec("forste_vedtak", "category", "—", ", ".join(VEDTAK_CODES) + "; empty = no decision",
               "the caseworker's first §14a decision after registration", nullable=True, codes=VEDTAK_CODES),
    ColumnSpec("kvinne", "bool", "—", "true/false", "female (fairness audit only; not a model input)"),
    ColumnSpec("landgruppe", "int", "—", "-1, 0, 1, 2, 3",
               "country group of birth, 0 Norway, -1 unknown (fairness audit only; not a model input)",
               codes=LANDGRUPPER),
)

SPELL_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("person_id", "int64", "—", "> 0, present in registrations", "person"),
    ColumnSpec("startdato", "datetime64", "date", "any date", "first day of the employment spell (Aa-registeret)"),
    ColumnSpec("sluttdato", "datetime64", "date", "≥ startdato; empty = ongoing",
               "end date of the spell as registered (NAV's code uses it as exclusive end)", nullable=True),
)

WAGE_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("person_id", "int64", "—", "> 0, present in registrations", "person"),
    ColumnSpec("maaned", "datetime64", "month", "first day of a month; unique per person",
               "calendar month the wage was paid for (a-melding)"),
    ColumnSpec("lonn_nok", "float", "NOK", "≥ 0",
               "cash wage income reported by employers in the month (no NAV benefits, holiday pay or severance)"),
)

G_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("fom_dato", "datetime64", "date", "unique, increasing", "date the amount applies from (normally 1 May)"),
    ColumnSpec("grunnbelop_nok", "float", "NOK per year", "> 0", "the basic amount G"),
)

#: The profiling contract's names for the columns of the one G table
#: (:func:`arbeidsindikator.data.grunnbelop.load_g`: ``effective_from``, ``G_nok``).
G_CONTRACT_NAMES: dict[str, str] = {"effective_from": "fom_dato", "G_nok": "grunnbelop_nok"}


def load_g_table(path: Path | None = None) -> pd.DataFrame:
    """The G table (``data/reference/G.csv`` unless ``path``) in the profiling contract's column names."""
    return load_g(path).rename(columns=G_CONTRACT_NAMES)


def g_canonical(g: pd.DataFrame) -> pd.DataFrame:
    """A contract ``g`` table in the G table's own column names, for :mod:`arbeidsindikator.data.grunnbelop`."""
    return g.rename(columns={v: k for k, v in G_CONTRACT_NAMES.items()})

TABLES: dict[str, tuple[ColumnSpec, ...]] = {
    "registrations": REGISTRATION_COLUMNS,
    "spells": SPELL_COLUMNS,
    "wages": WAGE_COLUMNS,
    "g": G_COLUMNS,
}


@dataclass(frozen=True)
class ProfilingData:
    """The four input tables of the profiling evaluation (validated or raw)."""

    registrations: pd.DataFrame
    spells: pd.DataFrame
    wages: pd.DataFrame
    g: pd.DataFrame


def contract_table(table: str | None = None) -> pd.DataFrame:
    """The contract as a tidy table (one row per column) for the book's data dictionary."""
    names = [table] if table else list(TABLES)
    return pd.DataFrame([{"table": t, **c.doc_row()} for t in names for c in TABLES[t]])


# --- validation ---------------------------------------------------------------------------------


def _example(values: pd.Series) -> str:
    """Up to two distinct failing values (dates without their time) for a message."""
    ex = values.drop_duplicates().head(2).tolist()
    return ", ".join(repr(v.date() if isinstance(v, pd.Timestamp) else v) for v in ex)


def _violation(problems: list[str], table: str, column: str, mask: Any, what: str, values: pd.Series) -> None:
    """Record the rows of ``mask`` as one violation, if there are any."""
    mask = np.asarray(mask, dtype=bool)
    n = int(mask.sum())
    if n:
        problems.append(violation(table, column, n, what, _example(values[mask])))


def _coerce(df: pd.DataFrame, table: str, spec: ColumnSpec, problems: list[str]) -> pd.Series | None:
    """The column in its canonical dtype, or None (with a problem recorded) if it cannot be."""
    s = df[spec.name]
    if not spec.nullable:
        _violation(problems, table, spec.name, s.isna(), "are empty (not allowed)", s.astype(str))
    if spec.dtype == "datetime64":
        out = pd.to_datetime(s, errors="coerce")
        _violation(problems, table, spec.name, out.isna() & s.notna(), "are not dates", s)
        return out.astype("datetime64[ns]")
    if spec.dtype in ("int64", "int"):
        out = pd.to_numeric(s, errors="coerce")
        bad = (out.isna() & s.notna()) | (out.notna() & (out % 1 != 0))
        _violation(problems, table, spec.name, bad, "are not whole numbers", s)
        return out.where(~bad)
    if spec.dtype == "float":
        out = pd.to_numeric(s, errors="coerce")
        _violation(problems, table, spec.name, out.isna() & s.notna(), "are not numbers", s)
        return out.astype("float64")
    if spec.dtype == "bool":
        ok = s.isin([True, False, 0, 1]) | s.isna()
        _violation(problems, table, spec.name, ~ok, "are not true/false", s)
        return s.where(ok).astype("boolean")
    # category: text codes, compared as strings
    return s.astype("string")


def _check_codes(problems: list[str], table: str, c: dict[str, pd.Series]) -> None:
    """Values outside the declared ``codes`` of each present column of ``table``, in contract order."""
    for spec in TABLES[table]:
        if spec.codes is not None and spec.name in c:
            s = c[spec.name]
            bad = s.notna() & ~s.isin(list(spec.codes))
            _violation(problems, table, spec.name, bad, f"hold values outside {{{', '.join(map(str, spec.codes))}}}", s)


def _check_table(df: pd.DataFrame, table: str, problems: list[str]) -> dict[str, pd.Series]:
    specs = TABLES[table]
    missing = [c.name for c in specs if c.name not in df.columns]
    if missing:
        problems.append(f"- {table}: missing column(s) {missing} ({len(df)} rows)")
    if len(df) == 0:
        problems.append(f"- {table}: the table is empty")
    return {c.name: _coerce(df, table, c, problems) for c in specs if c.name in df.columns}


_RULES: dict[str, Callable[[dict[str, pd.Series], list[str]], None]] = {}


def _rule(table: str) -> Callable[[Callable[[dict[str, pd.Series], list[str]], None]], Callable[..., None]]:
    def deco(fn: Callable[[dict[str, pd.Series], list[str]], None]) -> Callable[..., None]:
        _RULES[table] = fn
        return fn

    return deco


@_rule("registrations")
def _registration_rules(c: dict[str, pd.Series], problems: list[str]) -> None:
    t = "registrations"
    if "reg_id" in c:
        _violation(problems, t, "reg_id", c["reg_id"] <= 0, "are not > 0", c["reg_id"])
        _violation(problems, t, "reg_id", c["reg_id"].duplicated(keep="first") & c["reg_id"].notna(),
                   "duplicate an earlier reg_id", c["reg_id"])
    if "person_id" in c:
        _violation(problems, t, "person_id", c["person_id"] <= 0, "are not > 0", c["person_id"])
    _check_codes(problems, t, c)
    if "fodselsdato" in c and "registrert_dato" in c:
        _violation(problems, t, "fodselsdato", c["fodselsdato"] >= c["registrert_dato"],
                   "are on or after registrert_dato", c["fodselsdato"])


@_rule("spells")
def _spell_rules(c: dict[str, pd.Series], problems: list[str]) -> None:
    if "startdato" in c and "sluttdato" in c:
        _violation(problems, "spells", "sluttdato", c["sluttdato"] < c["startdato"], "are before startdato",
                   c["sluttdato"])


@_rule("wages")
def _wage_rules(c: dict[str, pd.Series], problems: list[str]) -> None:
    t = "wages"
    if "maaned" in c:
        _violation(problems, t, "maaned", c["maaned"].notna() & (c["maaned"].dt.day != 1),
                   "are not the first day of a month", c["maaned"])
    if "lonn_nok" in c:
        _violation(problems, t, "lonn_nok", c["lonn_nok"] < 0, "are negative", c["lonn_nok"])
    if "person_id" in c and "maaned" in c:
        dup = pd.DataFrame({"p": c["person_id"], "m": c["maaned"]}).duplicated(keep="first")
        _violation(problems, t, "maaned", dup, "repeat a person-month", c["maaned"])


@_rule("g")
def _g_rules(c: dict[str, pd.Series], problems: list[str]) -> None:
    if "grunnbelop_nok" in c:
        _violation(problems, "g", "grunnbelop_nok", c["grunnbelop_nok"] <= 0, "are not > 0", c["grunnbelop_nok"])
    if "fom_dato" in c:
        _violation(problems, "g", "fom_dato", c["fom_dato"].duplicated(), "duplicate an earlier date", c["fom_dato"])


def _cross_table(cols: dict[str, dict[str, pd.Series]], problems: list[str]) -> None:
    persons = cols["registrations"].get("person_id")
    if persons is None:
        return
    known = set(persons.dropna().astype("int64"))
    for t in ("spells", "wages"):
        p = cols[t].get("person_id")
        if p is not None:
            _violation(problems, t, "person_id", p.notna() & ~p.isin(known), "name no registered person", p)
    g = cols["g"].get("fom_dato")
    reg = cols["registrations"].get("registrert_dato")
    if g is not None and reg is not None and g.notna().any() and reg.notna().any():
        first_needed = reg.min() - pd.DateOffset(months=25)
        _violation(problems, "g", "fom_dato", pd.Series([g.min() > first_needed]),
                   f"start too late: G is needed from {first_needed.date()} (24 months before the first registration)",
                   pd.Series([g.min()]))


def validate_profiling_data(data: ProfilingData) -> ProfilingData:
    """Check the four tables against the contract; return them with canonical dtypes.

    Raises one :class:`ContractError` that lists every violation found (table, column, number
    of rows, an example). The input frames are not modified.
    """
    problems: list[str] = []
    frames = {"registrations": data.registrations, "spells": data.spells, "wages": data.wages, "g": data.g}
    cols = {t: _check_table(df, t, problems) for t, df in frames.items()}
    for t, rule in _RULES.items():
        rule(cols[t], problems)
    _cross_table(cols, problems)
    if problems:
        raise ContractError.listing("the profiling extracts violate the data contract", problems)
    out = {}
    for t, df in frames.items():
        o = df.copy()
        for spec in TABLES[t]:
            o[spec.name] = _canonical(spec, cols[t][spec.name])
        out[t] = o
    return ProfilingData(**out)


def _canonical(spec: ColumnSpec, s: pd.Series) -> pd.Series:
    """A checked column in its final dtype: required whole numbers as int64, required flags as bool."""
    if not spec.nullable and spec.dtype in ("int64", "int"):
        return s.astype("int64")
    if not spec.nullable and spec.dtype == "bool":
        return s.astype(bool)
    return s
