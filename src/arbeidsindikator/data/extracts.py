"""Input contract for raw register extracts: table specs, readers and validation (issue 3 (a)).

The book runs unchanged on an analyst's real extracts or on the synthetic ones written by
:mod:`arbeidsindikator.synthetic.generator`. A folder of extracts holds one file per table
(``<table>.parquet``, a folder ``<table>/`` of parquet parts, or ``<table>.csv``) plus a small
``manifest.json`` that declares the analysis period and the months each table covers. Every
table and column is declared once in :data:`TABLES` (type, unit, allowed values, meaning); the
same declaration renders the contract in ``data/README.md`` (:func:`contract_markdown`) and drives
the checks in :func:`validate_extracts`.

Validation runs before any computation and is read-only. It collects *every* violation, each
message naming the table, the column, how many rows and an example, and raises one
:class:`ExtractError` listing them all. Checks: missing tables or columns, wrong column types,
unparseable CSV values, empty tables, missing values, unknown category codes, duplicate keys
(e.g. person-months), months not on the first of a month or outside the declared coverage,
negative or impossible hours (more than a month holds) and wages, persons in status but not in
persons, offices without a county (or unknown to the office table), commuting regions without
inflow data, inconsistent persons (immigration month for a Norway-born person, …) and a period
too short for seasonal adjustment (24 months, seed 002 ch. 2) or without the five years of NAV
history the covariates need (seed 002 ch. 4).

Sources: seed 002 ch. 2 (population, §14a service groups, "varig tilpasset" excluded later by
:mod:`arbeidsindikator.panel.build`), ch. 3 (agreed working hours), ch. 4 (covariates); digest §1.1–1.4.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import duckdb
import pandas as pd

from arbeidsindikator.config import REPO_ROOT
from arbeidsindikator.data import checks
from arbeidsindikator.data.checks import _TIME_TEXT, _WIDE_INT_TYPES, ExtractWarning, glob_literal
from arbeidsindikator.data.checks import raw_present as _raw_present
from arbeidsindikator.data.checks import typed_expr as _typed_expr
from arbeidsindikator.data.checks import fmt_value as _fmt_value
from arbeidsindikator.data.checks import ident as _ident
from arbeidsindikator.data.checks import q as _q
from arbeidsindikator.data.contract import (
    FYLKER,
    HOURS_PER_MONTH_MAX,
    HOVEDGRUPPER,
    INNSATSGRUPPER,
    LANDGRUPPER,
    ColumnSpec,
    ContractError,
    ExtractKind,
    violation,
)
from arbeidsindikator.data.manifest import (
    CONTRACT_VERSION,
    GROWTH_TABLE,
    HISTORY_MONTHS,
    MANIFEST_NAME,
    MIN_PERIOD_MONTHS,
    Manifest,
    read_manifest,
    write_manifest,
)
from arbeidsindikator.data.grunnbelop import G_CSV, g_per_month, index_to_month, load_g, month_to_index

__all__ = [
    "CONTRACT_VERSION",
    "INNSATSGRUPPER_RAW",
    "TILTAK",
    "ExtractColumn",
    "ExtractTable",
    "TABLES",
    "Manifest",
    "ExtractError",
    "ExtractWarning",
    "Extracts",
    "open_extracts",
    "validate_extracts",
    "read_manifest",
    "load_g",
    "g_per_month",
    "contract_table",
    "contract_markdown",
    "month_to_index",
    "index_to_month",
    "write_manifest",
    "write_extracts",
]

#: G and the month index are defined in :mod:`arbeidsindikator.data.grunnbelop` (re-exported here).
DEFAULT_G_PATH = G_CSV

#: Service groups as they occur in the status extract: the population's seven plus
#: "varig tilpasset innsats", which the panel builder excludes (seed 002 ch. 2).
INNSATSGRUPPER_RAW: tuple[str, ...] = INNSATSGRUPPER + ("varig_tilpasset",)
#: Labour-market programme codes in the status extract and their display names in the panel
#: (seed 002 ch. 5 names the programmes it breaks the indicator down by).
TILTAK: dict[str, str] = {
    "ingen": "ingen",
    "oppfolging": "Oppfølging",
    "arbeid_med_stotte": "Arbeid med støtte",
    "jobbklubb": "Jobbklubb",
    "digitalt_oppfolgingstiltak": "Digitalt oppfølgingstiltak",
    "midlertidig_lonnstilskudd": "Midlertidig lønnstilskudd",
    "ips": "IPS",
    "arbeidstrening": "Arbeidstrening",
    "amo": "AMO-kurs",
    "arbeidsforberedende_trening": "Arbeidsforberedende trening",
}
KJONN = ("K", "M")

#: Column types of a raw extract (alias kept for compatibility).
Kind = ExtractKind


class ExtractError(ContractError):
    """Raw extracts violate the input contract; the message lists every violation found."""


#: One column of a raw extract: the shared :class:`~arbeidsindikator.data.contract.ColumnSpec` (alias
#: kept for compatibility). Its ``dtype`` is a :data:`Kind`; ``codes``, ``lo``, ``hi`` are checked.
ExtractColumn = ColumnSpec


@dataclass(frozen=True)
class ExtractTable:
    """One raw extract (one file): its key, columns, and the coverage its month column obeys."""

    name: str
    title: str
    meaning: str
    key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    coverage: str | None = None  # key into Manifest.coverage for the `month`/`ar` column
    optional: bool = False

    def column(self, name: str) -> ColumnSpec:
        """The declaration of column ``name`` (StopIteration if the table has none)."""
        return next(c for c in self.columns if c.name == name)


_PID = ColumnSpec("person_id", "int", "—", "> 0", "pseudonymised person id (the same in every table)", lo=1)

TABLES: tuple[ExtractTable, ...] = (
    ExtractTable(
        "personer",
        "Persons",
        "One row per person who appears in the status extract.",
        ("person_id",),
        (
            _PID,
            ColumnSpec("fodt", "month", "month", "first day of a month", "birth month"),
            ColumnSpec("kjonn", "code", "—", "K (female), M (male)", "sex in the population register", codes=KJONN),
            ColumnSpec(
                "landgruppe", "int", "—", "-1, 0, 1, 2, 3",
                "country group of birth (SSB): 0 Norway; 1 Western Europe excl. Norway, USA, Canada, "
                "Australia, New Zealand; 2 Eastern-European EU; 3 Asia, Africa, Latin America, "
                "non-EU Eastern Europe, Oceania excl. AU/NZ; -1 unknown (seed 002 footnote 7)",
                codes=LANDGRUPPER,
            ),
            ColumnSpec(
                "innvandret", "month", "month", "first day of a month; empty = born in Norway",
                "month of first immigration to Norway; must be empty for country group 0 and present "
                "for 1–3 (residence time, seed 002 ch. 4)", nullable=True,
            ),
        ),
    ),
    ExtractTable(
        "status",
        "Monthly NAV status",
        "One row per person and month in which the person is registered with a §14a decision at the "
        "end of the month (varig tilpasset included; the panel builder excludes it). Must cover at "
        "least the 60 months before the first analysis month (NAV history and duration).",
        ("person_id", "month"),
        (
            _PID,
            ColumnSpec("month", "month", "month", "first day of a month, within coverage.status",
                       "calendar month; registered at the end of this month"),
            ColumnSpec("innsatsgruppe", "code", "—", ", ".join(INNSATSGRUPPER_RAW),
                       "§14a service group (innsatsgruppe) in force at the end of the month", codes=INNSATSGRUPPER_RAW),
            ColumnSpec("hovedgruppe", "code", "—", ", ".join(HOVEDGRUPPER),
                       "main group (seed 002 table 1)", codes=HOVEDGRUPPER),
            ColumnSpec("nav_kontor", "code", "—", "a code in kontor.nav_kontor", "NAV office following the person up"),
            ColumnSpec("aap", "bool", "—", "true/false", "receives work assessment allowance (AAP)"),
            ColumnSpec("sykepenger", "bool", "—", "true/false", "receives sickness benefit"),
            ColumnSpec("dagpenger", "bool", "—", "true/false", "receives unemployment benefit (dagpenger)"),
            ColumnSpec("overgangsstonad", "bool", "—", "true/false", "receives transitional benefit for single parents"),
            ColumnSpec("uforetrygd", "bool", "—", "true/false", "receives disability benefit (any degree)"),
            ColumnSpec("permittert", "bool", "—", "true/false", "furloughed (permittert)"),
            ColumnSpec("tiltak", "code", "—", ", ".join(TILTAK), "labour-market programme in the month ('ingen' = none)",
                       codes=tuple(TILTAK)),
            ColumnSpec("gift", "bool", "—", "true/false", "married (divorced/widowed = false)"),
            ColumnSpec("barn", "int", "children", "0–20", "number of own children under 18", lo=0, hi=20),
            ColumnSpec("hoyere_utd", "bool", "—", "true/false",
                       "completed higher education as part of an education path in the last 12 months"),
        ),
        coverage="status",
    ),
    ExtractTable(
        "timer",
        "Monthly agreed working hours",
        "Sum of agreed working hours in the month over all employment contracts (employer register, "
        "a-ordningen). A person-month without a row worked 0 hours. Must run through the last month "
        "any outcome needs; months after coverage.timer[1] are unobserved, never zero.",
        ("person_id", "month"),
        (
            _PID,
            ColumnSpec("month", "month", "month", "first day of a month, within coverage.timer", "calendar month"),
            ColumnSpec("timer", "float", "hours/month", f"0–{HOURS_PER_MONTH_MAX:.0f}",
                       "agreed working hours in the month", lo=0.0, hi=HOURS_PER_MONTH_MAX,
                       hi_msg=f"more than a month holds ({HOURS_PER_MONTH_MAX:.0f} h)"),
        ),
        coverage="timer",
    ),
    ExtractTable(
        "lonn",
        "Monthly wage income",
        "Wage income paid in the month (a-ordningen). A person-month without a row had no wage income. "
        "Used for pre-entry income in the 12 months before a NAV spell starts.",
        ("person_id", "month"),
        (
            _PID,
            ColumnSpec("month", "month", "month", "first day of a month, within coverage.lonn", "calendar month"),
            ColumnSpec("lonn", "float", "NOK/month", "0–100 000 000", "wage income in the month",
                       lo=0.0, hi=1e8, hi_msg="more than 100 million NOK in one month"),
        ),
        coverage="lonn",
    ),
    ExtractTable(
        "pgi",
        "Annual pensionable income",
        "Pensionable income (pensjonsgivende inntekt) per person and year; used instead of wage income "
        "for spells that started before wage data begin (seed 002 footnote 10). A missing person-year "
        "means no pensionable income.",
        ("person_id", "ar"),
        (
            _PID,
            ColumnSpec("ar", "year", "year", "within coverage.pgi", "income year"),
            ColumnSpec("pgi", "float", "NOK/year", "0–1 000 000 000", "pensionable income in the year",
                       lo=0.0, hi=1e9, hi_msg="more than 1 billion NOK in one year"),
        ),
        coverage="pgi",
    ),
    ExtractTable(
        "kontor",
        "Offices",
        "One row per NAV office used in the status extract.",
        ("nav_kontor",),
        (
            ColumnSpec("nav_kontor", "code", "—", "unique", "NAV office code"),
            ColumnSpec("fylke", "code", "—", "15 counties (2024 structure): " + ", ".join(FYLKER),
                       "county of the office", codes=FYLKER),
            ColumnSpec("ba_region", "code", "—", "a code in ba_region.ba_region",
                       "commuting region (bo- og arbeidsmarkedsregion, SSB) of the office"),
        ),
    ),
    ExtractTable(
        "ba_region",
        "Commuting-region inflow",
        "Monthly new registrations as unemployed and labour force per commuting region; the inflow "
        "share new/labour force averaged over t+1..t+h is a covariate (seed 002 ch. 4, footnote 9).",
        ("ba_region", "month"),
        (
            ColumnSpec("ba_region", "code", "—", "commuting-region code", "commuting region"),
            ColumnSpec("month", "month", "month", "first day of a month, within coverage.ba_region", "calendar month"),
            ColumnSpec("nye_ledige", "int", "persons", "≥ 0 and ≤ arbeidsstyrke",
                       "new registrations as fully or partly unemployed in the month", lo=0),
            ColumnSpec("arbeidsstyrke", "int", "persons", "> 0", "labour force of the region", lo=1),
        ),
        coverage="ba_region",
    ),
    ExtractTable(
        "sysselsettingsvekst",
        "Expected employment growth in the commuting region (optional)",
        "Optional (the model of appendix D does without it; `model.growth: true` needs it). Per commuting "
        "region and measurement month t, the shift-share growth of employment: the relative change the "
        "region's employment would have had over the 12 months to t if each of its industries (SSB's 19 "
        "main groups, SN2007) had grown as the industry did nationally, applied to the region's industry "
        "structure 12 months before t (seed 002 ch. 4, technical definition; table 4 'Forventet "
        "sysselsettingsvekst'). When present it must be declared in manifest.coverage.sysselsettingsvekst "
        "and hold a row for every commuting region of kontor in every month of the period.",
        ("ba_region", "month"),
        (
            ColumnSpec("ba_region", "code", "—", "a code in kontor.ba_region", "commuting region"),
            ColumnSpec("month", "month", "month", "first day of a month, within coverage.sysselsettingsvekst",
                       "measurement month t"),
            ColumnSpec("forventet_vekst", "float", "share", "−1 to 10 (−100 % to +1 000 %)",
                       "expected relative change in employment over the 12 months to t (0.012 = +1.2 %)",
                       lo=-1.0, hi=10.0, hi_msg="a twelve-month growth above +1 000 % is not a rate"),
        ),
        coverage=GROWTH_TABLE,
        optional=True,
    ),
    ExtractTable(
        "grunnbelop",
        "National Insurance basic amount G",
        "Public figures (data/reference/G.csv is used when the folder has no copy). One row per "
        "regulation; the amount in force in a month is the latest effective_from on or before the 1st.",
        ("effective_from",),
        (
            ColumnSpec("effective_from", "date", "date", "ISO date", "date the amount takes effect (1 May)"),
            ColumnSpec("G_nok", "float", "NOK/year", "> 0", "basic amount G", lo=1.0),
        ),
        optional=True,
    ),
)
TABLE_BY_NAME: dict[str, ExtractTable] = {t.name: t for t in TABLES}


def write_extracts(folder: str | Path, tables: dict[str, pd.DataFrame], manifest: Manifest) -> None:
    """Write small extracts (one parquet file per table, each atomically) and the manifest.

    For hand-made test data and examples; the synthetic generator streams large tables itself.
    Frames are written as given (no validation here: :func:`validate_extracts` does that).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        path = folder / f"{name}.parquet"
        tmp = path.with_name(f".{path.name}.tmp")
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    write_manifest(folder, manifest)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def _locate(folder: Path, table: ExtractTable) -> tuple[str, str] | None:
    """(format, duckdb source expression) of a table's file(s), or None if absent."""
    pq = folder / f"{table.name}.parquet"
    parts = folder / table.name
    csv = folder / f"{table.name}.csv"
    # glob characters in the folder's path are made literal: a path is never a pattern
    if pq.is_file():
        return "parquet", f"read_parquet({_q(glob_literal(pq))})"
    if parts.is_dir() and any(parts.glob("*.parquet")):
        return "parquet", f"read_parquet({_q(glob_literal(parts) + '/*.parquet')})"
    if csv.is_file():
        return "csv", f"read_csv({_q(glob_literal(csv))}, all_varchar=true, header=true, auto_detect=true)"
    if table.name == "grunnbelop" and DEFAULT_G_PATH.is_file():
        return "csv", f"read_csv({_q(glob_literal(DEFAULT_G_PATH))}, all_varchar=true, header=true, auto_detect=true)"
    return None


@dataclass
class _Loaded:
    table: ExtractTable
    fmt: str
    source: str
    files: list[Path]
    typed: dict[str, str]  # column -> typed SQL expression (for columns with a usable type)


def _example(con: duckdb.DuckDBPyConnection, loaded: _Loaded, where: str, show: Iterable[str]) -> str:
    """Up to two failing rows as ``(key=…, column=…)``; empty if none (for :func:`violation`)."""
    cols = [c for c in dict.fromkeys([*loaded.table.key, *show])]
    # Show the raw value of the failing column(s) (what the analyst wrote), typed keys otherwise.
    sel = ", ".join(
        (_ident(c) if c in show and c in loaded.typed else
         f"CAST({_ident(c)} AS VARCHAR)" if c not in loaded.typed else loaded.typed[c]) + f" AS {_ident(c)}"
        for c in cols
    )
    rows = con.execute(f"SELECT {sel} FROM {loaded.source} WHERE {where} LIMIT 2").fetchall()
    return " ".join("(" + ", ".join(f"{c}={_fmt_value(v)}" for c, v in zip(cols, r)) + ")" for r in rows)


def _files_of(folder: Path, table: ExtractTable, fmt: str) -> list[Path]:
    pq = folder / f"{table.name}.parquet"
    if fmt == "parquet":
        return [pq] if pq.is_file() else sorted((folder / table.name).glob("*.parquet"))
    csv = folder / f"{table.name}.csv"
    return [csv] if csv.is_file() else [DEFAULT_G_PATH]


class Extracts:
    """A validated folder of raw extracts, readable through one DuckDB connection.

    After :func:`open_extracts` every table is available as a view with canonical column types
    (``month`` as DATE, codes as VARCHAR, …) under its table name. The connection is limited to
    ``memory_limit`` and may spill to a temporary directory, so reading stays bounded.
    """

    def __init__(self, folder: Path, manifest: Manifest, con: duckdb.DuckDBPyConnection,
                 loaded: dict[str, _Loaded], summary: dict[str, Any]):
        self.folder = folder
        self.manifest = manifest
        self.con = con
        self.loaded = loaded
        self.summary = summary
        self.warnings: list[str] = []  # suspicious but valid (also issued as ExtractWarning)
        self._fingerprint: str | None = None

    def _guarded(self, sql: str) -> Any:
        """The guard for a query: names the tables the SQL reads and their files."""
        names = [n for n in self.loaded if re.search(rf"\b{re.escape(n)}\b", sql)] or ["extracts"]
        files = [f for n in names for f in (self.loaded[n].files if n in self.loaded else [self.folder])]
        return checks.guard("+".join(names), files)

    def df(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a query and return a pandas frame; an engine error becomes an :class:`ExtractError`."""
        try:
            with self._guarded(sql):
                return self.con.execute(sql, params or []).df()
        except checks._GuardedError as exc:
            raise ExtractError(f"the raw extracts in {self.folder} could not be read:\n{exc.line}") from exc.__cause__

    def arrow(self, sql: str, params: list[Any] | None = None) -> Any:
        """Run a query and return an Arrow table (engine errors as for :meth:`df`)."""
        try:
            with self._guarded(sql):
                return self.con.execute(sql, params or []).fetch_arrow_table()
        except checks._GuardedError as exc:
            raise ExtractError(f"the raw extracts in {self.folder} could not be read:\n{exc.line}") from exc.__cause__

    def g(self) -> pd.DataFrame:
        g = self.df("SELECT effective_from, G_nok FROM grunnbelop ORDER BY effective_from")
        g["effective_from"] = pd.to_datetime(g["effective_from"])
        return g

    def fingerprint(self) -> str:
        """Content hash of the manifest and every table file (sha256, 16 hex digits)."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            h.update((self.folder / MANIFEST_NAME).read_bytes())
            for name in sorted(self.loaded):
                for f in self.loaded[name].files:
                    h.update(name.encode())
                    with open(f, "rb") as fh:
                        for block in iter(lambda: fh.read(1 << 22), b""):
                            h.update(block)
            self._fingerprint = h.hexdigest()[:16]
        return self._fingerprint

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Extracts":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _connect(memory_limit: str, threads: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit = {_q(memory_limit)}")
    con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = false")
    return con


def _check_table(con: duckdb.DuckDBPyConnection, folder: Path, table: ExtractTable, manifest: Manifest | None,
                 problems: list[str]) -> _Loaded | None:
    """Column presence, types, nulls, codes, ranges, months; returns the typed view or None."""
    loc = _locate(folder, table)
    if loc is None:
        if not table.optional:
            problems.append(f"- {table.name}: table missing (expected {table.name}.parquet, {table.name}/*.parquet or {table.name}.csv)")
        return None
    fmt, source = loc
    try:
        desc = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except duckdb.Error as exc:
        problems.append(checks.describe_engine_error(table.name, _files_of(folder, table, fmt), exc))
        return None
    src_types = {r[0]: r[1] for r in desc}
    loaded = _Loaded(table, fmt, source, _files_of(folder, table, fmt), {})
    n = con.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
    missing = [c.name for c in table.columns if c.name not in src_types]
    if missing:
        problems.append(f"- {table.name}: missing column(s) {missing} in all {n:,} row(s); the contract is in data/README.md")
    for col in table.columns:
        if col.name not in src_types:
            continue
        expr, why = _typed_expr(col, src_types[col.name], fmt)
        if expr is None:
            problems.append(f"- {table.name}.{col.name}: wrong type: {why} (all {n:,} row(s))")
        else:
            loaded.typed[col.name] = expr
    if n == 0:
        problems.append(f"- {table.name}: the table is empty (0 rows)")
        return loaded
    # One scan collects every per-column condition; examples are fetched only for failures.
    conds: list[tuple[str, str, str, list[str]]] = []  # (column, message, SQL condition, columns shown)
    for col in table.columns:
        if col.name not in loaded.typed:
            continue
        e = loaded.typed[col.name]
        present = _raw_present(col, src_types[col.name])
        st = src_types[col.name].upper()
        text = f"NULLIF(TRIM({_ident(col.name)}), '')"
        wide = ""
        if col.dtype in ("int", "year") and (st in _WIDE_INT_TYPES or st == "VARCHAR"):
            raw_num = _ident(col.name) if st != "VARCHAR" else f"TRY_CAST({text} AS HUGEINT)"
            wide = f"{raw_num} IS NOT NULL AND TRY_CAST({raw_num} AS BIGINT) IS NULL"
            conds.append((col.name, "value(s) beyond the 64-bit integer range", wide, [col.name]))
        timed = ""
        if col.dtype in ("month", "date") and st == "VARCHAR":
            timed = f"regexp_matches({text}, {_TIME_TEXT})"
            conds.append((col.name, "value(s) with a time of day or a time zone (write 'YYYY-MM' or 'YYYY-MM-DD')",
                          timed, [col.name]))
        if col.dtype in ("month", "date") and st.startswith("TIMESTAMP") and "TIME ZONE" not in st:
            conds.append((col.name, "timestamp(s) with a time of day (a month is a date)",
                          f"CAST({_ident(col.name)} AS TIME) <> TIME '00:00:00'", [col.name]))
        comma = ""
        if col.dtype == "float" and st == "VARCHAR":  # Norwegian spreadsheets write 169,5
            comma = f"regexp_matches({text}, '^[+-]?[0-9]*,[0-9]+$')"
            conds.append((col.name, "a decimal comma (the contract's decimal mark is a point: "
                          "169.5, not 169,5)", comma, [col.name]))
        if fmt == "csv" or col.dtype in ("month", "date") and st == "VARCHAR":
            excl = "".join(f" AND NOT coalesce({x}, false)" for x in (wide, timed, comma) if x)
            conds.append((col.name, f"value(s) not readable as {col.dtype}", f"{present} AND ({e}) IS NULL{excl}", [col.name]))
        if not col.nullable:
            conds.append((col.name, "missing value(s)", f"NOT ({present})", [col.name]))
        if col.codes is not None:
            codes = ", ".join(_q(str(v)) if col.dtype == "code" else str(int(v)) for v in col.codes)
            conds.append((col.name, f"unknown code(s) (allowed: {col.allowed})", f"({e}) IS NOT NULL AND ({e}) NOT IN ({codes})", [col.name]))
        if col.dtype == "float":
            conds.append((col.name, "non-finite value(s)", f"({e}) IS NOT NULL AND NOT isfinite({e})", [col.name]))
        finite = f"isfinite({e}) AND " if col.dtype == "float" else ""
        if col.lo is not None:
            neg = "negative value(s)" if col.lo == 0 else f"value(s) below {col.lo:g}"
            conds.append((col.name, neg, f"{finite}({e}) < {col.lo}", [col.name]))
        if col.hi is not None:
            msg = f"value(s) above {col.hi:g}" + (f": {col.hi_msg}" if col.hi_msg else "")
            conds.append((col.name, msg, f"{finite}({e}) > {col.hi}", [col.name]))
        if col.dtype == "month":
            conds.append((col.name, "date(s) not on the first day of a month", f"day({e}) <> 1", [col.name]))
            if manifest is not None and table.coverage in manifest.coverage and col.name == "month":
                a, b = manifest.coverage[table.coverage]
                conds.append((col.name, f"month(s) outside the declared coverage {a}–{b} (manifest.coverage.{table.coverage})",
                              f"({e}) < DATE {_q(a.start_time.strftime('%Y-%m-%d'))} OR ({e}) > DATE {_q(b.start_time.strftime('%Y-%m-%d'))}",
                              [col.name]))
            if col.name == "fodt":
                conds.append((col.name, "birth month(s) after the period or more than 120 years before it",
                              (f"({e}) > DATE {_q(manifest.end.start_time.strftime('%Y-%m-%d'))} OR "
                               f"({e}) < DATE {_q((manifest.start - 1440).start_time.strftime('%Y-%m-%d'))}")
                              if manifest is not None else "false", [col.name]))
        if col.dtype == "year" and manifest is not None and "pgi" in manifest.coverage:
            a, b = manifest.coverage["pgi"]
            conds.append((col.name, f"year(s) outside the declared coverage {a}–{b} (manifest.coverage.pgi)",
                          f"({e}) < {a} OR ({e}) > {b}", [col.name]))
    # cross-column checks within a row
    if table.name == "personer" and {"landgruppe", "innvandret", "fodt"} <= set(loaded.typed):
        lg, im, fo = loaded.typed["landgruppe"], loaded.typed["innvandret"], loaded.typed["fodt"]
        conds.append(("innvandret", "immigration month(s) given for persons born in Norway (landgruppe 0)",
                      f"({lg}) = 0 AND ({im}) IS NOT NULL", ["landgruppe", "innvandret"]))
        conds.append(("innvandret", "immigration month(s) missing for persons born abroad (landgruppe 1–3)",
                      f"({lg}) IN (1, 2, 3) AND ({im}) IS NULL", ["landgruppe", "innvandret"]))
        conds.append(("innvandret", "immigration month(s) before the birth month",
                      f"({im}) < ({fo})", ["fodt", "innvandret"]))
    if table.name == "ba_region" and {"nye_ledige", "arbeidsstyrke"} <= set(loaded.typed):
        conds.append(("nye_ledige", "more new unemployed than the labour force",
                      f"({loaded.typed['nye_ledige']}) > ({loaded.typed['arbeidsstyrke']})", ["nye_ledige", "arbeidsstyrke"]))
    if conds:
        agg = ", ".join(f"count(*) FILTER (WHERE coalesce({c}, false))" for _, _, c, _ in conds)
        counts = con.execute(f"SELECT {agg} FROM {source}").fetchone()
        for (colname, msg, cond, show), k in zip(conds, counts):
            if k:
                ex = _example(con, loaded, f"coalesce({cond}, false)", show)
                problems.append(violation(table.name, colname, f"{k:,}", f"with {msg}", ex))
    # duplicate keys
    if all(k in loaded.typed for k in table.key) and not (
            fmt == "parquet" and checks.keys_strictly_increasing(loaded.files, table.key, src_types)):
        keys = ", ".join(f"{loaded.typed[k]} AS {_ident(k)}" for k in table.key)
        kk = ", ".join(_ident(k) for k in table.key)
        dup = con.execute(
            f"SELECT count(*), sum(n) FROM (SELECT {kk}, count(*) AS n FROM (SELECT {keys} FROM {source}) "
            f"GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()
        if dup[0]:
            ex = con.execute(
                f"SELECT {kk}, count(*) FROM (SELECT {keys} FROM {source}) GROUP BY ALL HAVING count(*) > 1 "
                f"ORDER BY {kk} LIMIT 2"
            ).fetchall()
            exs = " ".join("(" + ", ".join(f"{k}={_fmt_value(v)}" for k, v in zip(table.key, r[:-1])) + f": {r[-1]} rows)" for r in ex)
            what = "person-month" if table.key == ("person_id", "month") else "+".join(table.key)
            problems.append(violation(table.name, "+".join(table.key), f"{int(dup[1]):,}",
                                      f"share {dup[0]:,} duplicate {what} key(s)", exs))
    return loaded


def _growth_checks(con: duckdb.DuckDBPyConnection, loaded: dict[str, _Loaded], manifest: Manifest | None,
                   problems: list[str]) -> None:
    """The optional growth extract: declared coverage over the whole period, and a row for every
    commuting region of ``kontor`` in every month of the period (the covariate has no fallback)."""
    if GROWTH_TABLE not in loaded or manifest is None:
        return
    g = loaded[GROWTH_TABLE]
    if GROWTH_TABLE not in manifest.coverage:
        problems.append(f"- manifest.coverage.{GROWTH_TABLE}: missing; the table {GROWTH_TABLE} is delivered, "
                        "so its months must be declared ([first month, last month])")
        return
    a, b = manifest.coverage[GROWTH_TABLE]
    if a > manifest.start or b < manifest.end:
        problems.append(f"- manifest.coverage.{GROWTH_TABLE}: {a}–{b} must include the period "
                        f"{manifest.start}–{manifest.end} (growth is a regressor of every measurement month)")
        return
    k = loaded.get("kontor")
    if k is None or not {"ba_region"} <= set(k.typed) or not {"ba_region", "month"} <= set(g.typed):
        return
    n_months = manifest.n_months
    first = _q(manifest.start.start_time.strftime("%Y-%m-%d"))
    last = _q(manifest.end.start_time.strftime("%Y-%m-%d"))
    rows = con.execute(
        f"WITH r AS (SELECT DISTINCT {k.typed['ba_region']} AS ba_region FROM {k.source}), "
        f"v AS (SELECT {g.typed['ba_region']} AS ba_region, count(DISTINCT {g.typed['month']}) AS n FROM {g.source} "
        f"WHERE {g.typed['month']} BETWEEN DATE {first} AND DATE {last} GROUP BY 1) "
        f"SELECT r.ba_region, coalesce(v.n, 0) AS n FROM r LEFT JOIN v USING (ba_region) "
        f"WHERE coalesce(v.n, 0) < {n_months} ORDER BY r.ba_region"
    ).fetchall()
    if rows:
        missing = sum(n_months - int(r[1]) for r in rows)
        ex = ", ".join(f"{r[0]} ({int(r[1])} of {n_months} months)" for r in rows[:2])
        problems.append(violation(GROWTH_TABLE, "ba_region+month", f"{missing:,}",
                                  f"missing: {len(rows):,} commuting region(s) of kontor lack months of the period "
                                  f"{manifest.start}–{manifest.end}", ex))


def validate_extracts(folder: str | Path, *, memory_limit: str = "4GB", threads: int = 2,
                      coverage_gaps: str = "error") -> Extracts:
    """Validate a folder of raw extracts against the contract and open it for reading.

    ``coverage_gaps``: ``"error"`` (always, in the pipeline) or ``"warn"`` for hand-made sparse
    test extracts of the panel builder, where declared months without rows are intended.

    Read-only: nothing is written. Raises :class:`ExtractError` listing every violation (table,
    column, number of rows, an example). On success returns an :class:`Extracts` whose DuckDB
    connection has one typed view per table.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ExtractError(f"extracts: folder not found: {folder}")
    manifest, problems = read_manifest(folder)
    con = _connect(memory_limit, threads)
    loaded: dict[str, _Loaded] = {}
    warns: list[str] = []
    for table in TABLES:
        amb = checks.ambiguous(folder, table.name)
        if amb:
            problems.append(amb)
            continue
        loc = _locate(folder, table)
        files = _files_of(folder, table, loc[0]) if loc else []
        try:  # every query over an extract runs under the guard: engine errors name table and file
            if loc and loc[0] == "parquet":
                mixed = checks.part_schemas(con, table.name, files)
                if mixed:
                    problems.append(mixed)
                    continue
            with checks.guard(table.name, files):
                res = _check_table(con, folder, table, manifest, problems)
        except checks._GuardedError as exc:
            problems.append(exc.line)
            continue
        if res is not None:
            loaded[table.name] = res
    try:
        with checks.guard("extracts", [folder]):
            checks.cross_checks(con, loaded, manifest, problems)
    except checks._GuardedError as exc:
        problems.append(exc.line)
    try:
        with checks.guard(GROWTH_TABLE, loaded[GROWTH_TABLE].files if GROWTH_TABLE in loaded else [folder]):
            _growth_checks(con, loaded, manifest, problems)
    except checks._GuardedError as exc:
        problems.append(exc.line)
    own_g = "grunnbelop" in loaded and DEFAULT_G_PATH not in loaded["grunnbelop"].files
    if coverage_gaps not in ("error", "warn"):
        raise ValueError(f"coverage_gaps: expected 'error' or 'warn', got {coverage_gaps!r}")
    checks.run_all(con, loaded, manifest, problems, warns, load_g() if own_g and DEFAULT_G_PATH.is_file() else None,
                   coverage_gaps)
    summary: dict[str, Any] = {}
    if not problems:
        assert manifest is not None
        for name, ld in loaded.items():
            cols = ", ".join(f"{ld.typed[c.name]} AS {_ident(c.name)}" for c in ld.table.columns)
            try:
                with checks.guard(name, ld.files):
                    con.execute(f"CREATE VIEW {_ident(name)} AS SELECT {cols} FROM {ld.source}")
                    summary[name] = {"rows": int(con.execute(f"SELECT count(*) FROM {_ident(name)}").fetchone()[0]),
                                     "format": ld.fmt, "files": [str(f) for f in ld.files]}
            except checks._GuardedError as exc:
                problems.append(exc.line)
    if problems:
        con.close()
        problems = [checks.bounded(p) for p in problems]
        raise ExtractError.listing(
            f"the raw extracts in {folder} violate the input contract ({len(problems)} problem(s))", problems)
    assert manifest is not None
    for w in warns:
        warnings.warn(f"extracts in {folder}: {w[2:]}", ExtractWarning, stacklevel=2)
    ex = Extracts(folder, manifest, con, loaded, summary)
    ex.warnings = [w[2:] for w in warns]
    return ex


open_extracts = validate_extracts


# ---------------------------------------------------------------------------------------------
# Documentation
# ---------------------------------------------------------------------------------------------


def contract_table() -> pd.DataFrame:
    """Every column of every table (for the data dictionary)."""
    return pd.DataFrame(
        [
            {"table": t.name, **c.doc_row(), "key": "yes" if c.name in t.key else ""}
            for t in TABLES for c in t.columns
        ]
    )


def contract_markdown() -> str:
    """The raw-extract contract as Markdown (the "Raw register extracts" section of data/README.md)."""
    out = []
    for t in TABLES:
        files = f"`{t.name}.parquet` (or `{t.name}/*.parquet`, or `{t.name}.csv`)"
        out.append(f"### `{t.name}` — {t.title}\n\n{files}. Key: {', '.join(f'`{k}`' for k in t.key)}. {t.meaning}\n")
        out.append("| column | type | unit | allowed values | may be empty | meaning |\n|---|---|---|---|---|---|")
        for c in t.columns:
            out.append(f"| `{c.name}` | {c.dtype} | {c.unit} | {c.allowed} | {'yes' if c.nullable else 'no'} | {c.meaning} |")
        out.append("")
    return "\n".join(out)
