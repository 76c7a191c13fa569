"""The OLS sufficient statistics and the indicator cube as SQL, for data that live in a warehouse.

The statements are plain SQL (SQL:2003 aggregates and ``UNION ALL``), generated here and run by
DuckDB locally (:func:`run_duckdb`), so the same text can run where NAV keeps its tables. What
they rely on, beyond SQL-92 ``SELECT … GROUP BY … UNION ALL``:

* ``VAR_POP`` (SQL:2003 aggregate; SQL Server spells it ``VARP``) for the cube's M2 columns;
* ``COALESCE``, ``CASE``, ``CAST(x AS VARCHAR)`` (Oracle: ``VARCHAR2``; SQL Server: give a length);
* ``COUNT(col)`` counting non-NULL values: a missing outcome must be **NULL**, not a float NaN
  (parquet written from pandas stores NaN as NULL; a warehouse column must too).

No DuckDB-only function is used in the statements. Only the DuckDB runner's view over parquet
files (``read_parquet``) is DuckDB's own, and it is outside the generated SQL.

OLS (seed 002 ch. 4; digest §1.3): the design is all dummies, at most one active column per
regressor block, so ``X'X`` is a table of counts: for each pair of blocks ``a < b`` the rows per
(column of a, column of b), for each block the rows and ``Σy`` per column, and for the constant
``N``, ``Σy``, ``Σy²``. The input table holds one INTEGER column per block with the row's design
column (:attr:`arbeidsindikator.estimation.Design.codes`: ``-1`` = reference level) and the
outcome; :func:`design_table` makes it from a design. Counts are exact integers; the fit is
finished by :func:`arbeidsindikator.engines.stats.fit_from_passes` (classical covariance: RSS
from ``y'y − 2β'X'y + β'X'Xβ``; robust covariances need per-row residuals and are not offered).

Cube: one ``SELECT … GROUP BY`` per outcome × organisational level × breakdown (the cells of
:mod:`arbeidsindikator.indicator.cube`), ``UNION ALL``-ed, over a table with the store's
columns (panel + ``exp_<outcome>`` + flags).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from arbeidsindikator.data.contract import OUTCOMES
from arbeidsindikator.estimation import Design, FitResult
from arbeidsindikator.estimation._kernels import ACC_CONST, ACC_ROWS, ACC_W, ACC_WY, ACC_WYY, N_ACC
from arbeidsindikator.engines.stats import fit_from_passes

__all__ = ["cube_sql", "design_table", "ols_fit", "ols_statistics", "ols_sql", "run_duckdb", "sql_cube"]


def _q(name: str) -> str:
    """A quoted SQL identifier (standard double quotes)."""
    return '"' + name.replace('"', '""') + '"'


def _x(b: int) -> str:
    return _q(f"x_{b}")


def design_table(design: Design, y: np.ndarray | pd.Series, outcome: str = "y") -> pd.DataFrame:
    """The input of :func:`ols_sql`: columns ``x_0 … x_{B−1}`` (design column, −1 reference), outcome.

    A missing outcome is stored as NULL (pandas' nullable Float64), as the SQL expects.
    """
    cols: dict[str, Any] = {f"x_{b}": design.codes[:, b].astype(np.int32) for b in range(design.codes.shape[1])}
    cols[outcome] = pd.array(np.asarray(y, dtype=np.float64), dtype="Float64")
    return pd.DataFrame(cols)


def ols_sql(table: str, n_blocks: int, outcome: str = "y") -> str:
    """SQL for the OLS sufficient statistics of an all-dummy design.

    Returns rows ``(j, k, n, sy, syy)``: ``j = k = 0`` the constant (``N``, ``Σy``, ``Σy²``);
    ``j = k > 0`` a dummy column (rows, ``Σy``); ``j < k`` two columns of different blocks (rows
    with both). Only rows with a non-NULL outcome count.
    """
    y = _q(outcome)
    src = f"(SELECT * FROM {table} WHERE {y} IS NOT NULL) d"
    parts = [f"SELECT 0 AS j, 0 AS k, COUNT(*) AS n, COALESCE(SUM({y}), 0) AS sy, COALESCE(SUM({y} * {y}), 0) AS syy FROM {src}"]
    for a in range(n_blocks):
        parts.append(f"SELECT {_x(a)} AS j, {_x(a)} AS k, COUNT(*) AS n, SUM({y}) AS sy, 0 AS syy FROM {src} "
                     f"WHERE {_x(a)} > 0 GROUP BY {_x(a)}")
    for a in range(n_blocks):
        for b in range(a + 1, n_blocks):
            parts.append(f"SELECT {_x(a)} AS j, {_x(b)} AS k, COUNT(*) AS n, 0 AS sy, 0 AS syy FROM {src} "
                         f"WHERE {_x(a)} > 0 AND {_x(b)} > 0 GROUP BY {_x(a)}, {_x(b)}")
    return "\nUNION ALL\n".join(parts)


def ols_statistics(rows: pd.DataFrame, p: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """``X'X`` (p × p, symmetric), ``X'y``, ``y'y`` and N from the rows of :func:`ols_sql`."""
    A = np.zeros((p, p))
    xy = np.zeros(p)
    j = rows["j"].to_numpy(dtype=np.int64)
    k = rows["k"].to_numpy(dtype=np.int64)
    n = rows["n"].to_numpy(dtype=np.float64)
    sy = rows["sy"].astype("float64").fillna(0.0).to_numpy()
    const = (j == 0) & (k == 0)
    if const.sum() != 1:
        raise ValueError("the OLS statistics lack the constant's row")
    N = float(n[const][0])
    yy = float(rows["syy"].astype("float64").to_numpy()[const][0])
    diag = (j == k) & ~const
    A[j[diag], j[diag]] = n[diag]
    xy[j[diag]] = sy[diag]
    off = j != k
    A[j[off], k[off]] = n[off]
    A[k[off], j[off]] = n[off]
    A[0, 0] = N
    A[0, 1:] = np.diag(A)[1:]
    A[1:, 0] = np.diag(A)[1:]
    xy[0] = float(sy[const][0])
    return A, xy, yy, N


def ols_fit(rows: pd.DataFrame, meta: Any, outcome: str, n_rows: int, family: str = "ols") -> FitResult:
    """The OLS (or LPM) fit with classical covariance from the rows of :func:`ols_sql`.

    ``meta`` is the design (:class:`~arbeidsindikator.estimation.Design` or
    :class:`~arbeidsindikator.engines.design.GlobalDesign`) whose codes made the table.
    """
    p = len(meta.names)
    A, xy, yy, N = ols_statistics(rows, p)

    def run(kind: str, **kw: Any) -> list:
        if kind == "sums":
            return [np.array([N, N, xy[0], 0.0])]
        if kind == "gram" and not kw["probit"]:
            Au = np.triu(A).copy()
            Au[0, :] = 0.0  # the constant's row is completed by the finishing step
            acc = np.zeros(N_ACC)
            acc[[ACC_CONST, ACC_ROWS, ACC_W, ACC_WY, ACC_WYY]] = [N, N, N, xy[0], yy]
            return [Au, xy.copy(), acc, np.zeros(0), np.zeros(0)]
        if kind == "resid":
            if kw.get("meat_pow"):
                raise ValueError("the SQL path gives classical OLS covariances only (robust ones need per-row residuals)")
            b = kw["beta"]
            rss = yy - 2.0 * float(b @ xy) + float(b @ A @ b)
            tss = yy - xy[0] * xy[0] / N
            return [np.zeros((0, 0)), np.array([rss, tss, 0.0, 0.0])]
        raise ValueError(f"the SQL path has no {kind!r} pass (OLS with classical covariance only)")

    if family not in ("ols", "lpm"):
        raise ValueError(f"the SQL path fits OLS/LPM only, not {family!r}")
    return fit_from_passes(run, meta, family=family, outcome=outcome, cov_type="classical", n_rows=n_rows)


# --- the cube -----------------------------------------------------------------------------------

def cube_sql(table: str, outcomes: Sequence[str] = OUTCOMES) -> str:
    """SQL for the indicator cube's cells (keys and sums of :mod:`arbeidsindikator.indicator.cube`)."""
    from arbeidsindikator.indicator import cube as cb

    parts = []
    for o in outcomes:
        y, e = _q(o), _q(f"exp_{o}")
        r = f"({y} - {e})"
        stats = (f"COUNT(*) AS n_all, COUNT({y}) AS n, COALESCE(SUM({y}), 0) AS sum_y, "
                 f"COALESCE(SUM(CASE WHEN {y} IS NOT NULL THEN {e} END), 0) AS sum_e, COALESCE(SUM({r}), 0) AS sum_r, "
                 f"COALESCE(VAR_POP({y}) * COUNT({y}), 0) AS m2_y, COALESCE(VAR_POP({r}) * COUNT({r}), 0) AS m2_r")
        for lvl, col in cb.ORG_LEVELS.items():
            unit = f"CAST({_q(col)} AS VARCHAR)" if col else f"'{cb.NATIONAL_UNIT}'"
            for brk in cb.BREAKDOWNS:
                if brk is None:
                    group = "''"
                elif brk in cb.FLAG_BREAKDOWNS:
                    group = f"CASE WHEN {_q(brk)} THEN 'True' ELSE 'False' END"
                else:
                    group = f"CAST({_q(brk)} AS VARCHAR)"
                keys = ["month"] + ([_q(col)] if col else []) + ([_q(brk)] if brk else [])
                parts.append(
                    f"SELECT '{o}' AS outcome, month, {lvl} AS org_level, {unit} AS org_unit, "
                    f"'{brk or cb.ALL}' AS breakdown, {group} AS {_q('group')}, {stats} FROM {table} "
                    f"GROUP BY {', '.join(keys)}")
    return "\nUNION ALL\n".join(parts)


def order_cube(cells: pd.DataFrame, levels: Any, outcomes: Sequence[str] = OUTCOMES) -> pd.DataFrame:
    """Rows and dtypes in the in-process cube's order (outcome, level, breakdown, month, unit, group)."""
    from arbeidsindikator.indicator import cube as cb

    combos = {(o, lvl, brk or cb.ALL): i for i, (o, lvl, brk) in enumerate(
        (o, lvl, brk) for o in outcomes for lvl in cb.ORG_LEVELS for brk in cb.BREAKDOWNS)}
    c = cells.copy()
    c["month"] = pd.to_datetime(c["month"]).astype("datetime64[ns]")
    ci = np.array([combos[(o, int(lv), b)] for o, lv, b in zip(c["outcome"], c["org_level"], c["breakdown"], strict=True)])
    mi = levels.months.get_indexer(pd.DatetimeIndex(c["month"]))
    if (mi < 0).any():
        raise ValueError("the SQL cube holds a month outside the cube's months")
    ui = np.zeros(len(c), np.int64)
    gi = np.zeros(len(c), np.int64)
    for col in ("fylke", "nav_kontor"):
        pos = {v: i for i, v in enumerate(levels.categories[col])}
        sel = (c["org_level"] == {v: k for k, v in cb.ORG_LEVELS.items()}[col]).to_numpy()
        ui[sel] = [pos[u] for u in c.loc[sel, "org_unit"]]
    for brk in cb.BREAKDOWNS[1:]:
        pos = {"False": 0, "True": 1} if brk in cb.FLAG_BREAKDOWNS else {v: i for i, v in enumerate(levels.categories[brk])}
        sel = (c["breakdown"] == brk).to_numpy()
        gi[sel] = [pos[g] for g in c.loc[sel, "group"]]
    order = np.lexsort((gi, ui, mi, ci))
    c = c.iloc[order].reset_index(drop=True)
    for k in ("outcome", "org_unit", "breakdown", "group"):
        c[k] = c[k].astype(object)
    c["org_level"] = c["org_level"].astype(np.int64)
    for k in ("n_all", "n"):
        c[k] = c[k].astype(np.int64)
    for k in ("sum_y", "sum_e", "sum_r", "m2_y", "m2_r"):
        c[k] = c[k].astype(np.float64)
    return c[cb.KEYS + cb.STATS]


def run_duckdb(sql: str, views: dict[str, Any], threads: int | None = None,
               memory_limit: str | None = None) -> pd.DataFrame:
    """Run ``sql`` in a fresh in-memory DuckDB with ``views`` (name → parquet path(s) or DataFrame).

    ``threads`` and ``memory_limit`` (e.g. ``"2GB"``) are DuckDB settings of the local runner.
    """
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            con.execute(f"SET memory_limit = '{memory_limit}'")
        for name, src in views.items():
            if isinstance(src, pd.DataFrame):
                con.register(name, src)
            else:
                paths = [str(s) for s in (src if isinstance(src, (list, tuple)) else [src])]
                listing = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
                con.execute(f"CREATE VIEW {_q(name)} AS SELECT * FROM read_parquet([{listing}])")
        return con.execute(sql).df()
    finally:
        con.close()


def sql_cube(source: Any, levels: Any, outcomes: Sequence[str] = OUTCOMES, threads: int | None = None,
             memory_limit: str | None = None) -> pd.DataFrame:
    """The cube's cells from parquet file(s) or a DataFrame with the store's columns, by DuckDB."""
    cells = run_duckdb(cube_sql(_q("panel"), outcomes), {"panel": source}, threads=threads, memory_limit=memory_limit)
    return order_cube(cells, levels, outcomes)
