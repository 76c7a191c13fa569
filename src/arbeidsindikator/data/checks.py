"""Checks of raw extracts that need more than one column or one table (issue 12).

:func:`arbeidsindikator.data.extracts.validate_extracts` runs the per-column checks itself and
calls :func:`run_all` for the rest. Real extracts come from several source systems,
pseudonymised separately and cut at different dates; these are the faults that pass the
per-column checks yet change the published numbers:

* **coverage vs data** — each table's months (``pgi``: years) compared with its declared
  coverage; a month (year) without any row inside it is an error (a coverage running past the
  last month of hours would turn unobserved months into "0 hours"; status rows starting later
  than the declared history would shrink history and duration);
* **linkage** — person ids in ``timer``, ``lonn``, ``pgi`` (and ``status``) that are not in
  ``personer``; a high share of persons without any row in a table where most have one is a
  warning (:class:`ExtractWarning`) with the share;
* **G** — a year without an amount over the period the incomes need; amounts that differ from the
  published series (``data/reference/G.csv``), e.g. in thousands instead of NOK;
* **calendar** — more hours than the month holds by its own number of days; status months
  before the birth month;
* **ambiguity** — two files for one table (``status.csv`` and ``status.parquet``);
* **engine errors** — every query goes through :func:`guard`, which turns a DuckDB error (a
  corrupt parquet page, part files with different schemas, a bad byte late in a CSV) into one
  short line naming the table and the file.

Messages follow :func:`arbeidsindikator.data.contract.violation` (table, column, rows, example)
and are bounded in length (:data:`MAX_LINE`).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import duckdb
import pandas as pd

from arbeidsindikator.data.contract import ColumnSpec, violation
from arbeidsindikator.data.grunnbelop import month_to_index, sql_month_index

if TYPE_CHECKING:  # pragma: no cover
    from arbeidsindikator.data.extracts import Manifest, _Loaded

#: Longest line of a contract error (characters); longer lines are cut with '…'.
MAX_LINE = 400
#: Longest shown value in an example.
MAX_VALUE = 40
#: A table where fewer persons than this share have a row raises a warning.
LINKED_WARN_SHARE = {"timer": 0.5, "lonn": 0.5, "status": 0.9}
#: Relative difference from the published G accepted as rounding.
G_TOLERANCE = 0.02
#: Plausible range of G (NOK/year) for dates the published series does not hold.
G_RANGE = (30_000.0, 1_000_000.0)


class ExtractWarning(UserWarning):
    """Extracts pass the contract but look suspicious (e.g. few persons have hours)."""


class _GuardedError(Exception):
    """Internal: an engine error already turned into a contract line."""

    def __init__(self, line: str):
        super().__init__(line)
        self.line = line


# ---------------------------------------------------------------------------------------------
# SQL and formatting helpers (shared with extracts.py)
# ---------------------------------------------------------------------------------------------


def q(s: str) -> str:
    """SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def ident(s: str) -> str:
    """SQL identifier."""
    return '"' + s.replace('"', '""') + '"'


def glob_literal(path: Path | str) -> str:
    """A path as a DuckDB file pattern that matches only itself (glob characters made literal)."""
    s = str(path)
    return re.sub(r"([\[*?{}])", lambda m: "[[]" if m.group(1) == "[" else f"[{m.group(1)}]", s)


def cut(s: str, n: int = MAX_VALUE) -> str:
    """``s`` shortened to ``n`` characters (with '…')."""
    return s if len(s) <= n else s[: n - 1] + "…"


def fmt_value(v: Any) -> str:
    """A value for an example: dates as ISO, floats rounded, long text cut."""
    if hasattr(v, "isoformat"):
        return v.isoformat()[:10]
    if isinstance(v, float):
        return repr(round(v, 4))
    return cut(repr(v))


def bounded(line: str) -> str:
    return cut(line, MAX_LINE)


# ---------------------------------------------------------------------------------------------
# Column types: the source type of a column mapped to the contract's canonical SQL type
# ---------------------------------------------------------------------------------------------

_INT_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "HUGEINT",
              "UHUGEINT"}
#: Integer types that can hold values beyond the signed 64-bit range the book computes with.
_WIDE_INT_TYPES = {"UBIGINT", "HUGEINT", "UHUGEINT"}
#: Text that carries a time of day or a time zone (a month must be 'YYYY-MM' or 'YYYY-MM-DD').
_TIME_TEXT = r"'^\s*\d{4}-\d{1,2}-\d{1,2}([T ]\d{1,2}:\d{2}|.*(Z|[+-]\d{2}:?\d{2})\s*$)'"
_FLOAT_TYPES = {"FLOAT", "DOUBLE", "REAL"}


#: Source types of key columns whose order pyarrow can check without changing their values.
_SORTABLE_KEY_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "DATE"}


def keys_strictly_increasing(files: list[Path], keys: tuple[str, ...], src_types: dict[str, str]) -> bool:
    """True if the rows of the parquet ``files``, in this order, have non-null keys that strictly
    increase (lexicographically over ``keys``): then no key repeats.

    A cheap proof of unique keys for extracts written in key order (the usual case: one scan of
    the key columns instead of a hash aggregation over every key, which at full scale took most
    of the validation's time, issue 11). False (the caller then counts duplicates exactly)
    when the order does not hold, a key has a null or a type other than a signed integer or a
    date, or the file cannot be read this way.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not keys or any(src_types.get(k, "").upper() not in _SORTABLE_KEY_TYPES for k in keys):
        return False
    last: list[int] | None = None
    try:
        for f in files:
            for batch in pq.ParquetFile(f).iter_batches(batch_size=1 << 20, columns=list(keys)):
                cols = []
                for name in keys:
                    a = batch.column(name)
                    if a.null_count:
                        return False
                    if pa.types.is_date32(a.type):
                        a = a.cast(pa.int32())
                    elif not pa.types.is_signed_integer(a.type):
                        return False
                    v = a.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
                    cols.append(v if last is None else np.concatenate([[last[len(cols)]], v]))
                if len(cols[0]) == 0:
                    continue
                up = np.zeros(len(cols[0]) - 1, dtype=bool)
                tie = np.ones(len(cols[0]) - 1, dtype=bool)
                for v in cols:  # compare neighbours (a difference could wrap for far-apart int64 keys)
                    up |= tie & (v[1:] > v[:-1])
                    tie &= v[1:] == v[:-1]
                if not up.all():
                    return False
                last = [int(v[-1]) for v in cols]
    except (OSError, ValueError, pa.ArrowException):
        return False
    return True


def typed_expr(col: ColumnSpec, src_type: str, fmt: str) -> tuple[str | None, str]:
    """SQL expression giving the column in its canonical type, or (None, reason) if the type is wrong."""
    c = ident(col.name)
    t = src_type.upper()
    if t.strip('"') == "NULL":  # a column with no value at all: every row is missing (checked as such)
        sql = {"int": "BIGINT", "year": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "code": "VARCHAR",
               "month": "DATE", "date": "DATE"}[col.dtype]
        return f"CAST(NULL AS {sql})", ""
    is_text = t == "VARCHAR"
    text = f"NULLIF(TRIM({c}), '')"
    if col.dtype in ("int", "year"):
        if t in _WIDE_INT_TYPES:
            return f"TRY_CAST({c} AS BIGINT)", ""
        if t in _INT_TYPES:
            return f"CAST({c} AS BIGINT)", ""
        if is_text and fmt == "csv":
            return f"TRY_CAST({text} AS BIGINT)", ""
        return None, f"expected an integer column, found {src_type}"
    if col.dtype == "float":
        if t in _INT_TYPES or t in _FLOAT_TYPES or t.startswith("DECIMAL"):
            return f"CAST({c} AS DOUBLE)", ""
        if is_text and fmt == "csv":
            return f"TRY_CAST({text} AS DOUBLE)", ""
        return None, f"expected a numeric column, found {src_type}"
    if col.dtype == "bool":
        if t == "BOOLEAN":
            return c, ""
        if is_text and fmt == "csv":
            return (f"CASE WHEN lower({text}) IN ('true','t','1','yes') THEN true "
                    f"WHEN lower({text}) IN ('false','f','0','no') THEN false END"), ""
        return None, f"expected a boolean column, found {src_type}"
    if col.dtype == "code":
        if is_text:
            return text, ""
        if t in _INT_TYPES:
            return f"CAST({c} AS VARCHAR)", ""
        return None, f"expected a text (code) column, found {src_type}"
    if col.dtype in ("month", "date"):
        if "TIME ZONE" in t or t == "TIMESTAMPTZ":
            return None, (f"{src_type}: months given as timestamps with a time zone (the calendar month "
                          "would depend on the zone); write dates or text 'YYYY-MM'")
        if t == "DATE" or t.startswith("TIMESTAMP"):
            return f"CAST({c} AS DATE)", ""
        if is_text:
            return f"CAST(COALESCE(TRY_STRPTIME({text}, '%Y-%m-%d'), TRY_STRPTIME({text}, '%Y-%m')) AS DATE)", ""
        return None, f"expected a date column (or text 'YYYY-MM[-DD]'), found {src_type}"
    raise AssertionError(col.dtype)


def raw_present(col: ColumnSpec, src_type: str) -> str:
    c = ident(col.name)
    if src_type.upper() == "VARCHAR":
        return f"NULLIF(TRIM({c}), '') IS NOT NULL"
    return f"{c} IS NOT NULL"


# ---------------------------------------------------------------------------------------------
# Engine errors
# ---------------------------------------------------------------------------------------------


def describe_engine_error(table: str, files: list[Path], exc: BaseException) -> str:
    """One short contract line for a DuckDB (or decoding) error while reading ``table``."""
    text = str(exc)
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), type(exc).__name__)
    where = ", ".join(p.name for p in files[:3]) + (f" (+{len(files) - 3} more)" if len(files) > 3 else "")
    m = re.search(r"CSV Error on Line:\s*(\d+)", text)
    at = f" at line {m.group(1)}" if m else ""
    if "unicode" in text.lower() or "utf-8" in text.lower() or isinstance(exc, UnicodeDecodeError):
        why = f"not valid UTF-8{at} (encoding problem: save the file as UTF-8)"
    elif m:
        why = f"malformed CSV{at}: {cut(first, 120)}"
    elif "schema" in text.lower() or "column" in text.lower() and "mismatch" in text.lower():
        why = f"part files do not share one schema: {cut(first, 160)}"
    elif "parquet" in text.lower() or "thrift" in text.lower() or "snappy" in text.lower() or "corrupt" in text.lower():
        why = f"corrupt or unreadable parquet data: {cut(first, 160)}"
    else:
        why = f"{type(exc).__name__}: {cut(first, 160)}"
    return bounded(f"- {table}: cannot be read from {where or '(no file)'}: {why}")


@contextmanager
def guard(table: str, files: list[Path]) -> Iterator[None]:
    """Turn an engine error inside the block into :class:`_GuardedError` naming table and file."""
    try:
        yield
    except _GuardedError:
        raise
    except (duckdb.Error, UnicodeDecodeError, OSError) as exc:
        raise _GuardedError(describe_engine_error(table, files, exc)) from exc


# ---------------------------------------------------------------------------------------------
# Before reading: ambiguous files, part files with different schemas
# ---------------------------------------------------------------------------------------------


def ambiguous(folder: Path, name: str) -> str | None:
    """A problem line if a table is given by more than one file (or folder), else None."""
    cands = []
    if (folder / f"{name}.parquet").is_file():
        cands.append(f"{name}.parquet")
    if (folder / name).is_dir() and any((folder / name).glob("*.parquet")):
        cands.append(f"{name}/*.parquet")
    if (folder / f"{name}.csv").is_file():
        cands.append(f"{name}.csv")
    if len(cands) > 1:
        return (f"- {name}: ambiguous input: {' and '.join(cands)} are all present; keep exactly one "
                "(the book does not choose silently)")
    return None


def part_schemas(con: duckdb.DuckDBPyConnection, name: str, files: list[Path]) -> str | None:
    """A problem line if the parquet part files of a table differ in column names or types."""
    if len(files) < 2:
        return None
    ref = None
    for f in files:
        with guard(name, [f]):
            sch = [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({q(glob_literal(f))})").fetchall()]
        if ref is None:
            ref = (f, sch)
        elif sch != ref[1]:
            a, b = dict(ref[1]), dict(sch)
            diff = sorted({c for c in set(a) | set(b) if a.get(c) != b.get(c)})
            ex = ", ".join(f"{c}: {a.get(c, 'absent')} vs {b.get(c, 'absent')}" for c in diff[:3])
            return bounded(f"- {name}: part files do not share one schema: {f.name} differs from "
                           f"{ref[0].name} in column(s) {diff[:5]}; e.g. {ex}")
    return None


# ---------------------------------------------------------------------------------------------
# After the per-column checks: coverage, linkage, G, calendar
# ---------------------------------------------------------------------------------------------


def _months_str(idx: list[int]) -> str:
    return ", ".join(f"{i // 12}-{i % 12 + 1:02d}" for i in idx[:3]) + (" …" if len(idx) > 3 else "")


def coverage_vs_data(con: duckdb.DuckDBPyConnection, L: dict[str, "_Loaded"], manifest: "Manifest",
                     problems: list[str]) -> None:
    """Every month (year) of each declared coverage must hold at least one row."""
    for name in ("status", "timer", "lonn", "ba_region"):
        if name not in L or "month" not in L[name].typed or name not in manifest.coverage:
            continue
        a, b = manifest.coverage[name]
        lo, hi = month_to_index(a), month_to_index(b)
        e = L[name].typed["month"]
        with guard(name, L[name].files):
            have = {int(r[0]) for r in con.execute(
                f"SELECT DISTINCT {sql_month_index('m')} FROM (SELECT {e} AS m FROM {L[name].source}) WHERE m IS NOT NULL"
            ).fetchall()}
        missing = [i for i in range(lo, hi + 1) if i not in have]
        if not missing:
            continue
        inside = sorted(i for i in have if lo <= i <= hi)
        span = f"rows run {_months_str(inside[:1])}–{_months_str(inside[-1:])}" if inside else "no rows inside it"
        why = {"timer": "a month without hours rows would count as 0 hours for everybody",
               "status": "history and duration would shrink and left-censoring disappear",
               "lonn": "pre-entry wage income would count as 0",
               "ba_region": "the inflow covariate would be missing"}[name]
        problems.append(bounded(violation(
            name, "month", 0,
            f"in {len(missing)} month(s) of the declared coverage {a}–{b} (manifest.coverage.{name}; {span}): {why}",
            _months_str(missing))))
    if "pgi" in L and "ar" in L["pgi"].typed and "pgi" in manifest.coverage:
        a, b = manifest.coverage["pgi"]
        with guard("pgi", L["pgi"].files):
            have = {int(r[0]) for r in con.execute(
                f"SELECT DISTINCT {L['pgi'].typed['ar']} FROM {L['pgi'].source} WHERE {L['pgi'].typed['ar']} IS NOT NULL").fetchall()}
        missing = [y for y in range(int(a), int(b) + 1) if y not in have]
        if missing:
            problems.append(bounded(violation(
                "pgi", "ar", 0, f"in {len(missing)} year(s) of the declared coverage {a}–{b} (manifest.coverage.pgi): "
                "pensionable income would count as 0", ", ".join(map(str, missing[:3])))))


def _unmatched(con: duckdb.DuckDBPyConnection, child: "_Loaded", parent: "_Loaded",
               column: str) -> tuple[int, int, list[Any]]:
    """Rows of ``child`` whose ``column`` value is not in ``parent``: (rows, distinct values, first 3 values)."""
    src = (f"FROM (SELECT {child.typed[column]} AS v FROM {child.source}) c "
           f"ANTI JOIN (SELECT {parent.typed[column]} AS v FROM {parent.source}) p USING (v)")
    n_rows, n_values = con.execute(f"SELECT count(*), count(DISTINCT c.v) {src}").fetchone()
    ex = [r[0] for r in con.execute(f"SELECT DISTINCT c.v {src} ORDER BY 1 LIMIT 3").fetchall()] if n_rows else []
    return int(n_rows), int(n_values), ex


def linkage(con: duckdb.DuckDBPyConnection, L: dict[str, "_Loaded"], problems: list[str],
            warns: list[str]) -> None:
    """Person ids of every person-level table must be in ``personer``; warn on poorly linked tables."""
    if "personer" not in L or "person_id" not in L["personer"].typed:
        return
    per = L["personer"]
    for name in ("status", "timer", "lonn", "pgi"):
        if name not in L or "person_id" not in L[name].typed:
            continue
        with guard(name, L[name].files):
            n_rows, n_p, ex = _unmatched(con, L[name], per, "person_id")
        if n_rows:
            hint = "" if name == "status" else " (ids from another pseudonymisation?)"
            problems.append(bounded(violation(name, "person_id", f"{n_rows:,}",
                                              f"of {n_p:,} person(s) in {name} but not in personer{hint}",
                                              f"person_id {ex}")))
    with guard("personer", per.files):
        n_persons = int(con.execute(f"SELECT count(DISTINCT {per.typed['person_id']}) FROM {per.source}").fetchone()[0])
    if not n_persons:
        return
    for name, share in LINKED_WARN_SHARE.items():
        if name not in L or "person_id" not in L[name].typed:
            continue
        with guard(name, L[name].files):
            n_linked = int(con.execute(
                f"SELECT count(*) FROM (SELECT DISTINCT {per.typed['person_id']} AS v FROM {per.source}) p "
                f"SEMI JOIN (SELECT {L[name].typed['person_id']} AS v FROM {L[name].source}) c USING (v)").fetchone()[0])
        if n_linked < share * n_persons:
            warns.append(bounded(
                f"- {name}.person_id: {n_persons - n_linked:,} of {n_persons:,} persons in personer "
                f"({1 - n_linked / n_persons:.0%}) have no row in {name}; expected at most "
                f"{1 - share:.0%} (a linkage or extraction fault?)"))


def g_table(con: duckdb.DuckDBPyConnection, L: dict[str, "_Loaded"], manifest: "Manifest",
            problems: list[str], reference: pd.DataFrame | None) -> None:
    """G complete for every year incomes need, and in NOK (against the published series)."""
    if "grunnbelop" not in L or not {"effective_from", "G_nok"} <= set(L["grunnbelop"].typed):
        return
    g = L["grunnbelop"]
    with guard("grunnbelop", g.files):
        rows = con.execute(f"SELECT {g.typed['effective_from']}, {g.typed['G_nok']} FROM {g.source} "
                           f"WHERE {g.typed['effective_from']} IS NOT NULL ORDER BY 1").fetchall()
    if not rows:
        return
    years = {pd.Timestamp(r[0]).year for r in rows}
    first = manifest.coverage["lonn"][0].year if "lonn" in manifest.coverage else manifest.start.year
    if "pgi" in manifest.coverage:
        first = min(first, int(manifest.coverage["pgi"][0]))
    first = max(first, min(years))  # the first amount's own check is in extracts' cross checks
    last = manifest.end.year if manifest.end.month >= 5 else manifest.end.year - 1
    missing = [y for y in range(first, last + 1) if y not in years]
    if missing:
        problems.append(bounded(violation(
            "grunnbelop", "effective_from", 0,
            f"for {len(missing)} year(s) in {first}–{last} (G is regulated every 1 May; the previous "
            "year's amount would be used)", ", ".join(map(str, missing[:3])))))
    if reference is None or not len(reference):
        return
    pub = {pd.Timestamp(d).normalize(): float(v) for d, v in zip(reference["effective_from"], reference["G_nok"])}
    bad = []
    for d, v in rows:
        ts = pd.Timestamp(d).normalize()
        if v is None:
            continue
        if ts in pub:
            if abs(float(v) / pub[ts] - 1) > G_TOLERANCE:
                bad.append(f"(effective_from={ts.date()}, G_nok={float(v):g}, published {pub[ts]:g})")
        elif not G_RANGE[0] <= float(v) <= G_RANGE[1]:
            bad.append(f"(effective_from={ts.date()}, G_nok={float(v):g}, plausible {G_RANGE[0]:g}–{G_RANGE[1]:g})")
    if bad:
        problems.append(bounded(violation(
            "grunnbelop", "G_nok", len(bad),
            f"differ from the published G by more than {G_TOLERANCE:.0%} (wrong unit, e.g. thousands instead of NOK?)",
            " ".join(bad[:2]))))


def calendar(con: duckdb.DuckDBPyConnection, L: dict[str, "_Loaded"], problems: list[str]) -> None:
    """Hours within the month's own length; status months not before the birth month."""
    if "timer" in L and {"timer", "month", "person_id"} <= set(L["timer"].typed):
        t = L["timer"]
        h, m = t.typed["timer"], t.typed["month"]
        cond = f"isfinite({h}) AND {h} <= 744 AND {h} > 24 * day(last_day({m}))"
        with guard("timer", t.files):
            n = int(con.execute(f"SELECT count(*) FROM {t.source} WHERE coalesce({cond}, false)").fetchone()[0])
            ex = con.execute(f"SELECT {t.typed['person_id']}, {m}, {h}, day(last_day({m})) FROM {t.source} "
                             f"WHERE coalesce({cond}, false) LIMIT 2").fetchall() if n else []
        if n:
            problems.append(bounded(violation(
                "timer", "timer", f"{n:,}", "with more hours than the month holds by its own number of days (24 h × days)",
                " ".join(f"(person_id={r[0]}, month={fmt_value(r[1])}, timer={fmt_value(r[2])}, max {24 * r[3]})" for r in ex))))
    if "status" in L and "personer" in L and {"person_id", "month"} <= set(L["status"].typed) \
            and {"person_id", "fodt"} <= set(L["personer"].typed):
        s, p = L["status"], L["personer"]
        src = (f"FROM (SELECT {s.typed['person_id']} AS pid, {s.typed['month']} AS m FROM {s.source}) s "
               f"JOIN (SELECT {p.typed['person_id']} AS pid, {p.typed['fodt']} AS f FROM {p.source}) p USING (pid) "
               "WHERE s.m < p.f")
        with guard("status", s.files + p.files):
            n = int(con.execute(f"SELECT count(*) {src}").fetchone()[0])
            ex = con.execute(f"SELECT pid, m, f {src} ORDER BY pid, m LIMIT 2").fetchall() if n else []
        if n:
            problems.append(bounded(violation(
                "status", "month", f"{n:,}", "before the person's birth month (personer.fodt)",
                " ".join(f"(person_id={r[0]}, month={fmt_value(r[1])}, fodt={fmt_value(r[2])})" for r in ex))))


def cross_checks(con: duckdb.DuckDBPyConnection, L: dict[str, "_Loaded"], manifest: "Manifest | None",
                  problems: list[str]) -> None:
    """Referential integrity between tables and coverage of the commuting-region series."""

    def ok(t: str, *cols: str) -> bool:
        return t in L and all(c in L[t].typed for c in cols)

    if ok("status", "nav_kontor") and ok("kontor", "nav_kontor"):
        n_rows, n_k, ex = _unmatched(con, L["status"], L["kontor"], "nav_kontor")
        if n_rows:
            problems.append(violation("status", "nav_kontor", f"{n_rows:,}",
                                      f"with {n_k} office(s) not in kontor (no county or region known)", str(ex)))
    if ok("kontor", "ba_region") and ok("ba_region", "ba_region", "month") and manifest is not None:
        a, b = manifest.coverage["ba_region"]
        n_months = (b - a).n + 1
        q = (f"SELECT o.r, count(DISTINCT g.m) AS n FROM (SELECT DISTINCT {L['kontor'].typed['ba_region']} AS r FROM {L['kontor'].source}) o "
             f"LEFT JOIN (SELECT {L['ba_region'].typed['ba_region']} AS r, {L['ba_region'].typed['month']} AS m FROM {L['ba_region'].source}) g "
             f"USING (r) GROUP BY o.r HAVING count(DISTINCT g.m) < {n_months} ORDER BY o.r")
        bad = con.execute(q).fetchall()
        if bad:
            missing = sum(n_months - r[1] for r in bad)
            problems.append(
                f"- ba_region.month: {missing:,} region-month(s) missing for {len(bad)} commuting region(s) used by offices "
                f"(coverage {a}–{b} needs {n_months} months each); e.g. {[(r[0], f'{r[1]} months') for r in bad[:2]]}"
            )
    if ok("grunnbelop", "effective_from") and manifest is not None and "lonn" in manifest.coverage:
        first = manifest.coverage["lonn"][0]
        pgi_first = manifest.coverage.get("pgi", (first.year, first.year))[0]
        need = min(first.start_time, pd.Timestamp(year=pgi_first, month=1, day=1))
        gmin = con.execute(f"SELECT min({L['grunnbelop'].typed['effective_from']}) FROM {L['grunnbelop'].source}").fetchone()[0]
        if gmin is not None and pd.Timestamp(gmin) > need:
            problems.append(f"- grunnbelop.effective_from: first amount from {gmin}, but incomes from {need.date()} need G")


def run_all(con: duckdb.DuckDBPyConnection, L: dict[str, "_Loaded"], manifest: "Manifest | None",
            problems: list[str], warns: list[str], g_reference: pd.DataFrame | None,
            coverage_gaps: str = "error") -> None:
    """Every check of this module; an engine error becomes one problem line and stops only its check.

    ``coverage_gaps="warn"`` reports declared months without rows as warnings instead of errors
    (only for hand-made test extracts of the panel builder; the pipeline never passes it)."""
    steps: list[Any] = [lambda: linkage(con, L, problems, warns), lambda: calendar(con, L, problems)]
    if manifest is not None:
        steps += [lambda: coverage_vs_data(con, L, manifest, problems if coverage_gaps == "error" else warns),
                  lambda: g_table(con, L, manifest, problems, g_reference)]
    for step in steps:
        try:
            step()
        except _GuardedError as exc:
            if exc.line not in problems:
                problems.append(exc.line)
