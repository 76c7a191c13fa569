"""Data contract of the analysis panel: one row per person and measurement month.

The panel is what every chapter computes on. It is produced either by the synthetic generator
or by the panel builder from raw register extracts; both must satisfy this contract, which is
checked with pandera before any computation (seed 002 ch. 2–4; digest §1.1–1.4).

Each column is declared once in :data:`PANEL_COLUMNS` (name, type, unit, allowed values,
meaning); the same table documents the contract in the book's data dictionary and in
``data/README.md``.

The module also holds what the three data contracts share — this one, the raw register extracts
(:mod:`arbeidsindikator.data.extracts`) and the profiling input (:mod:`arbeidsindikator.profiling.contract`):
the column declaration :class:`ColumnSpec`, the error :class:`ContractError` and the format of
one violation (:func:`violation`), so a column is declared, documented and reported alike in all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
import pandera.pandas as pa

from arbeidsindikator.spec import OUTCOMES  # noqa: F401  (re-exported: the panel holds these outcome columns)

HOVEDGRUPPER = (
    "nedsatt_arbeidsevne",
    "helt_ledige",
    "delvis_ledige",
    "arbeidssokere_tiltak",
    "andre",
)
INNSATSGRUPPER = (
    "standard",
    "situasjonsbestemt",
    "spesielt_tilpasset",
    "behov_for_arbeidsevnevurdering",
    "ikke_vurdert",
    "helserelatert",
    "sykmeldt_uten_arbeidsgiver",
)
FYLKER = (
    "Agder",
    "Akershus",
    "Buskerud",
    "Finnmark",
    "Innlandet",
    "Møre og Romsdal",
    "Nordland",
    "Oslo",
    "Rogaland",
    "Telemark",
    "Troms",
    "Trøndelag",
    "Vestfold",
    "Vestland",
    "Østfold",
)
LANDGRUPPER = (-1, 0, 1, 2, 3)
HOURS_PER_MONTH_MAX = 744.0  # 31 days x 24 h: nobody works more hours than a month holds


#: Column types of the analysis panel and the profiling input (pandas names).
PandasType = Literal["int64", "int", "float", "bool", "category", "datetime64"]
#: Column types of the raw register extracts (storage-neutral; :mod:`.extracts` maps them to SQL).
ExtractKind = Literal["int", "float", "bool", "code", "month", "date", "year"]
ColumnType = Literal[PandasType, ExtractKind]


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a data contract: type, unit, allowed values, meaning and checked limits.

    The single column declaration of all three contracts (panel, raw extracts, profiling input),
    so each column is documented by :meth:`doc_row` and checked from the same record. ``dtype``
    uses the contract's own vocabulary (:data:`ColumnType`); ``allowed`` is the human-readable
    rule, while ``codes``, ``lo``/``hi`` are the machine-checked part where a validator uses them.
    """

    name: str
    dtype: ColumnType
    unit: str
    allowed: str
    meaning: str
    nullable: bool = False
    codes: tuple[Any, ...] | None = None  # allowed category codes (None: any value)
    lo: float | None = None  # inclusive bounds for numbers
    hi: float | None = None
    hi_msg: str = ""  # why values above `hi` are impossible

    @property
    def kind(self) -> ColumnType:
        """:attr:`dtype` under the name the raw-extract contract used (``ExtractColumn.kind``)."""
        return self.dtype

    def doc_row(self) -> dict[str, str]:
        """The column as one row of a data-dictionary table (same headings in every contract)."""
        return {
            "column": self.name,
            "type": self.dtype,
            "unit": self.unit,
            "allowed values": self.allowed,
            "meaning": self.meaning,
            "may be empty": "yes" if self.nullable else "no",
        }


PANEL_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("person_id", "int64", "—", "> 0", "pseudonymised person id (same across months)"),
    ColumnSpec("month", "datetime64", "month", "first day of a month in the period",
               "measurement month t (måletidspunkt): registered at the end of this month"),
    ColumnSpec("hovedgruppe", "category", "—", ", ".join(HOVEDGRUPPER), "main group (table 1 of seed 002)"),
    ColumnSpec("innsatsgruppe", "category", "—", ", ".join(INNSATSGRUPPER),
               "§14a service group at t (never varig tilpasset: excluded from the population)"),
    ColumnSpec("fylke", "category", "—", "15 counties (2024 structure)", "county of the person's NAV office"),
    ColumnSpec("nav_kontor", "category", "—", "office code", "NAV office following the person up at t"),
    ColumnSpec("ba_region", "category", "—", "commuting-region code", "commuting region (bo- og arbeidsmarkedsregion) of the office"),
    ColumnSpec("tiltak", "category", "—", "programme name or 'ingen'", "labour-market programme at t"),
    ColumnSpec("alder", "int", "years", "16–75", "age at t in whole years"),
    ColumnSpec("kvinne", "bool", "—", "true/false", "female"),
    ColumnSpec("gift", "bool", "—", "true/false", "married (divorced/widowed = false)"),
    ColumnSpec("barn", "int", "children", "0–20", "number of own children under 18"),
    ColumnSpec("landgruppe", "int", "—", "-1, 0, 1, 2, 3", "country group of birth (0 Norway, -1 unknown)"),
    ColumnSpec("botid", "float", "months", "≥ 0; empty if born in Norway",
               "residence time in Norway at t", nullable=True),
    ColumnSpec("hoyere_utd", "bool", "—", "true/false", "completed higher education in the last 12 months"),
    ColumnSpec("lonn_desil", "float", "decile", "0 (no wage income) or 1–10; empty for entries before 2015",
               "decile of wage income (in G) in the 12 months before first NAV entry", nullable=True),
    ColumnSpec("pgi_desil", "float", "decile", "0 (none) or 1–10; empty unless lonn_desil is empty",
               "decile of annual pensionable income, for entries before 2015", nullable=True),
    ColumnSpec("nav_historikk", "int", "months", "0–60", "months registered with NAV in the 60 months before t"),
    ColumnSpec("nav_varighet", "int", "months", "≥ 0", "months since the start of the current NAV spell"),
    ColumnSpec("ufor", "bool", "—", "true/false", "receives disability benefit (any degree)"),
    ColumnSpec("permittert", "bool", "—", "true/false", "furloughed"),
    ColumnSpec("helse_ytelse", "bool", "—", "true/false", "receives AAP or sickness benefit"),
    ColumnSpec("arbeid_ytelse", "bool", "—", "true/false", "receives unemployment or transitional benefit"),
    ColumnSpec("timer_t", "float", "hours/week", f"0–{HOURS_PER_MONTH_MAX / (52 / 12):.0f}", "agreed weekly working hours in month t"),
    ColumnSpec("innstrom3", "float", "share", "0–1", "commuting-region inflow to unemployment / labour force, mean of t+1..t+3"),
    ColumnSpec("innstrom12", "float", "share", "0–1", "the same, mean of t+1..t+12"),
    ColumnSpec("atid3", "float", "hours/week", "0–171; empty if t+3 not yet observed",
               "average weekly hours in t+1..t+3 (sum of monthly hours / 13)", nullable=True),
    ColumnSpec("atid12", "float", "hours/week", "0–171; empty if t+12 not yet observed",
               "average weekly hours in t+1..t+12 (sum of monthly hours / 52)", nullable=True),
    ColumnSpec("jobb3", "float", "0/1", "0 or 1; empty if t+3 not yet observed",
               "works more than 19 hours a week in month t+3", nullable=True),
    ColumnSpec("jobb12", "float", "0/1", "0 or 1; empty if t+12 not yet observed",
               "works more than 19 hours a week in month t+12", nullable=True),
)

PANEL_COLUMN_NAMES = tuple(c.name for c in PANEL_COLUMNS)

#: Panel column of expected employment growth (optional; from the extract of the same name).
GROWTH_COLUMN = "sysselsettingsvekst"

#: Columns a panel may have; checked when present (issue 13: the regressor appendix D removed).
OPTIONAL_PANEL_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec(GROWTH_COLUMN, "float", "share", "−1 to 10; present only if the raw extracts hold "
               "the optional table sysselsettingsvekst",
               "expected employment growth in the commuting region over the 12 months to t (shift-share; "
               "seed 002 ch. 4, table 4); a regressor only with model.growth: true", lo=-1.0, hi=10.0),
)


class ContractError(ValueError):
    """Input data violate the contract. The message lists every violation found."""

    @classmethod
    def listing(cls, heading: str, problems: list[str]) -> Self:
        """One error for all ``problems`` (one line each, see :func:`violation`) under ``heading``."""
        return cls(f"{heading}:\n" + "\n".join(problems))


def violation(table: str, column: str, rows: int | str, what: str, example: str = "") -> str:
    """One line of a contract error: ``- table.column: N row(s) what; e.g. example``.

    The format every contract reports a failed check in, so each message names the table, the
    column, the number of rows and an example. ``rows`` is shown as given (the raw-extract
    contract passes it with thousands separators); without ``example`` the ``e.g.`` part is left out.
    """
    eg = f"; e.g. {example}" if example else ""
    return f"- {table}.{column}: {rows} row(s) {what}{eg}"


def _schema() -> pa.DataFrameSchema:
    max_week = HOURS_PER_MONTH_MAX / (52 / 12)
    cat = lambda allowed: [pa.Check.isin(list(allowed))]  # noqa: E731
    cols: dict[str, pa.Column] = {
        "person_id": pa.Column("int64", pa.Check.gt(0)),
        "month": pa.Column("datetime64[ns]", pa.Check(lambda s: s.dt.day == 1, error="first day of month"), coerce=True),
        "hovedgruppe": pa.Column(str, cat(_ALLOWED_LABELS["hovedgruppe"]), coerce=True),
        "innsatsgruppe": pa.Column(str, cat(_ALLOWED_LABELS["innsatsgruppe"]), coerce=True),
        "fylke": pa.Column(str, cat(_ALLOWED_LABELS["fylke"]), coerce=True),
        "nav_kontor": pa.Column(str, coerce=True),
        "ba_region": pa.Column(str, coerce=True),
        "tiltak": pa.Column(str, coerce=True),
        "alder": pa.Column("int64", pa.Check.in_range(16, 75), coerce=True),
        "barn": pa.Column("int64", pa.Check.in_range(0, 20), coerce=True),
        "landgruppe": pa.Column("int64", pa.Check.isin(list(LANDGRUPPER)), coerce=True),
        "botid": pa.Column("float64", pa.Check.ge(0), nullable=True, coerce=True),
        "lonn_desil": pa.Column("float64", pa.Check.isin(list(range(11))), nullable=True, coerce=True),
        "pgi_desil": pa.Column("float64", pa.Check.isin(list(range(11))), nullable=True, coerce=True),
        "nav_historikk": pa.Column("int64", pa.Check.in_range(0, 60), coerce=True),
        "nav_varighet": pa.Column("int64", pa.Check.ge(0), coerce=True),
        "timer_t": pa.Column("float64", pa.Check.in_range(0, max_week), coerce=True),
        "innstrom3": pa.Column("float64", pa.Check.in_range(0, 1), coerce=True),
        "innstrom12": pa.Column("float64", pa.Check.in_range(0, 1), coerce=True),
        "atid3": pa.Column("float64", pa.Check.in_range(0, max_week), nullable=True, coerce=True),
        "atid12": pa.Column("float64", pa.Check.in_range(0, max_week), nullable=True, coerce=True),
        "jobb3": pa.Column("float64", pa.Check.isin([0.0, 1.0]), nullable=True, coerce=True),
        "jobb12": pa.Column("float64", pa.Check.isin([0.0, 1.0]), nullable=True, coerce=True),
        GROWTH_COLUMN: pa.Column("float64", pa.Check.in_range(-1.0, 10.0), coerce=True, required=False),
    }
    for c in PANEL_COLUMNS:
        if c.dtype == "bool":
            cols[c.name] = pa.Column("bool", coerce=True)
    return pa.DataFrameSchema(
        cols,
        strict=False,
        unique=["person_id", "month"],
        report_duplicates="exclude_first",
    )


def _describe_failures(err: pa.errors.SchemaErrors, table: str) -> str:
    fc = err.failure_cases
    lines = []
    for (column, check), grp in fc.groupby(["column", "check"], dropna=False, sort=False):
        examples = ", ".join(repr(v) for v in grp["failure_case"].drop_duplicates().head(3))
        col = column if isinstance(column, str) else "(table)"
        lines.append(violation(table, col, len(grp), f"fail '{check}'", examples))
    return "\n".join(lines)


#: Allowed labels of the categorical panel columns that have a fixed list (the others: any text).
_ALLOWED_LABELS: dict[str, tuple[str, ...]] = {
    "hovedgruppe": HOVEDGRUPPER, "innsatsgruppe": INNSATSGRUPPER, "fylke": FYLKER}


def _coded_columns(df: pd.DataFrame) -> list[str]:
    """Categorical contract columns that arrive as pandas categoricals of text labels.

    These are checked on their codes and levels (:func:`_coded_problems`) instead of being
    coerced to one Python string per row for pandera (which cost most of the panel check's time
    at full scale, issue 11); the result is the same: the same violations, the same dtype.
    """
    out = []
    for c in PANEL_COLUMNS:
        if c.dtype == "category" and c.name in df.columns:
            dt = df[c.name].dtype
            if isinstance(dt, pd.CategoricalDtype) and len(dt.categories) and pd.api.types.is_string_dtype(dt.categories):
                out.append(c.name)
    return out


def _coded_problems(s: pd.Series, name: str) -> str:
    """The contract's checks of a categorical text column (not null; a known label), by its codes.

    The same lines pandera gives the column coerced to text: rows and up to three examples.
    """
    codes = s.cat.codes.to_numpy()
    cats = s.cat.categories
    lines = []
    n_null = int(np.count_nonzero(codes < 0))
    if n_null:
        lines.append(violation("panel", name, n_null, "fail 'not_nullable'", "nan"))
    allowed = _ALLOWED_LABELS.get(name)
    if allowed is not None:
        bad_level = ~np.isin(np.asarray(cats, dtype=object), np.asarray(allowed, dtype=object))
        bad_row = bad_level[codes] & (codes >= 0)
        if bad_row.any():  # unknown levels that no row uses do not count
            first = pd.unique(codes[bad_row])[:3]
            examples = ", ".join(repr(str(cats[k])) for k in first)
            lines.append(violation("panel", name, int(bad_row.sum()), f"fail 'isin({list(allowed)})'", examples))
    return "\n".join(lines)


def _sorted_levels(s: pd.Series) -> pd.Series:
    """A categorical text column with only the levels that occur, sorted: what ``astype(str)``
    followed by ``astype("category")`` gives, without one string per row."""
    codes = s.cat.codes.to_numpy()
    used = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(s.cat.categories)))
    labels = np.asarray(s.cat.categories, dtype=object)[used].astype(str)
    order = np.argsort(labels, kind="stable")
    remap = np.full(len(s.cat.categories), -1, dtype=np.int64)
    remap[used[order]] = np.arange(len(used))
    cat = pd.Categorical.from_codes(np.where(codes >= 0, remap[codes], -1), categories=pd.Index(labels[order], dtype="str"))
    return pd.Series(cat, index=s.index, name=s.name)


def validate_panel(df: pd.DataFrame, *, period: tuple[pd.Period, pd.Period] | None = None) -> pd.DataFrame:
    """Check an analysis panel against the contract and return it with canonical dtypes.

    Raises :class:`ContractError` listing every violation (column, number of rows, examples).
    The input frame is not modified.
    """
    problems: list[str] = []
    if len(df) == 0:
        raise ContractError("panel: the table is empty")
    missing = [c for c in PANEL_COLUMN_NAMES if c not in df.columns]
    if missing:
        raise ContractError(f"panel: missing column(s) {missing}; the contract is in data/README.md")
    fast = _coded_columns(df)
    problems += [line for name in fast if (line := _coded_problems(df[name], name))]
    schema = _schema()
    try:
        out = (schema.remove_columns(list(fast)) if fast else schema).validate(df, lazy=True)
    except pa.errors.SchemaErrors as err:
        problems.append(_describe_failures(err, "panel"))
        out = None
    if out is not None and period is not None:
        months = out["month"].dt.to_period("M")
        bad = (months < period[0]) | (months > period[1])
        if bad.any():
            problems.append(violation("panel", "month", int(bad.sum()),
                                      f"outside the declared period {period[0]}–{period[1]}",
                                      str(sorted(months[bad].astype(str).unique())[:3])))
    if problems:
        raise ContractError.listing("the analysis panel violates the data contract", problems)
    assert out is not None
    for c in PANEL_COLUMNS:
        if c.dtype == "category":
            out[c.name] = _sorted_levels(out[c.name]) if c.name in fast else out[c.name].astype("category")
    return out


def contract_table() -> pd.DataFrame:
    """The panel contract as a table (for the data dictionary)."""
    rows = [c.doc_row() for c in PANEL_COLUMNS]
    rows += [{**c.doc_row(), "meaning": "optional: " + c.meaning} for c in OPTIONAL_PANEL_COLUMNS]
    return pd.DataFrame(rows)


def outcome_observable(df: pd.DataFrame, outcome: str) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Rows whose outcome is observed (the newest months are not: need t+3 or t+12)."""
    return df[outcome].notna().to_numpy()
