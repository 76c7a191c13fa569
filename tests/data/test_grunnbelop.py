"""One G table and one month index (issue 10): arbeidsindikator.data.grunnbelop.

Known truth from the public table (NAV, "Grunnbeløpet i folketrygden"; seed 003 quotes 2024:
124 028 NOK a year) and a grep-based guard that no second definition of G or of the month index
appears in the package.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbeidsindikator.data import grunnbelop as gb

SRC = Path(gb.__file__).resolve().parents[1]
HOME = Path(gb.__file__).resolve()


def test_month_index_round_trip_and_formula() -> None:
    assert gb.month_to_index("2019-03") == 2019 * 12 + 2
    assert gb.month_to_index(pd.Period("2019-03", freq="M")) == 2019 * 12 + 2
    assert str(gb.index_to_month(2019 * 12 + 2)) == "2019-03"
    d = pd.DatetimeIndex(["2019-03-10", "2020-01-31", "2020-12-01"])
    mi = gb.month_index(d)
    assert mi.dtype == np.int64
    np.testing.assert_array_equal(mi, [2019 * 12 + 2, 2020 * 12, 2020 * 12 + 11])
    np.testing.assert_array_equal(gb.month_start(mi), pd.DatetimeIndex(["2019-03-01", "2020-01-01", "2020-12-01"]))
    assert gb.month_start(mi).dtype == np.dtype("datetime64[ns]")


@given(st.integers(1900 * 12, 2100 * 12))
def test_month_start_inverts_month_index(i: int) -> None:
    ts = gb.month_start(np.array([i]))
    assert gb.month_index(ts)[0] == i
    assert gb.month_to_index(gb.index_to_month(i)) == i


def test_sql_month_index_matches_python() -> None:
    import duckdb

    con = duckdb.connect()
    got = con.execute(f"SELECT {gb.sql_month_index('d')} AS m FROM (SELECT DATE '2019-03-10' AS d)").fetchone()[0]
    assert got == gb.month_to_index("2019-03")


def test_load_g_and_g_per_month() -> None:
    g = gb.load_g()
    assert g.columns.tolist() == ["effective_from", "G_nok"]
    assert g["G_nok"].dtype == np.float64 and g["effective_from"].is_monotonic_increasing
    assert g.loc[g["effective_from"] == "2024-05-01", "G_nok"].item() == 124028
    apr, may = gb.month_to_index("2024-04"), gb.month_to_index("2024-05")
    np.testing.assert_array_equal(gb.g_per_month(g, apr, may), [118620.0, 124028.0])  # new G from 1 May
    before = gb.month_to_index(g["effective_from"].min().strftime("%Y-%m")) - 1
    assert np.isnan(gb.g_per_month(g, before, before)[0])
    with pytest.raises(ValueError, match="G table starts"):
        gb.g_per_month(g, before, apr, missing="raise")


def test_load_g_names_missing_columns(tmp_path: Path) -> None:
    f = tmp_path / "g.csv"
    f.write_text("fom_dato,grunnbelop_nok\n2020-05-01,101351\n")
    with pytest.raises(ValueError, match=r"effective_from.*G_nok"):
        gb.load_g(f)


def test_profiling_and_panel_use_the_one_g() -> None:
    from arbeidsindikator.data import extracts
    from arbeidsindikator.profiling import contract

    g = gb.load_g()
    pg = contract.load_g_table()
    assert pg.columns.tolist() == ["fom_dato", "grunnbelop_nok"]  # the profiling contract's names
    np.testing.assert_array_equal(pg["grunnbelop_nok"], g["G_nok"])
    pd.testing.assert_frame_equal(contract.g_canonical(pg), g)
    assert extracts.load_g is gb.load_g and extracts.g_per_month is gb.g_per_month
    assert extracts.month_to_index is gb.month_to_index and extracts.DEFAULT_G_PATH == gb.G_CSV


# --- grep-based guard ---------------------------------------------------------------------------

#: Functions that define G or the month index: only data/grunnbelop.py may define them.
_DEFINING = re.compile(r"^(load_g|g_per_month|month_index|month_to_index|index_to_month|month_start|_month_ts)$")
#: The month index formula in Python or SQL (year * 12 + month - 1) and its inverse.
_FORMULA = re.compile(r"year\W*\)?\s*\*\s*12\s*\+[^\n]*month\W*\)?\s*-\s*1")
#: Amounts of the public G table: a second copy of the table would contain them.
_G_AMOUNTS = re.compile(r"\b(?:88370|90068|92576|93634|96883|99858|101351|106399|111477|118620|124028|130160)\b")

#: Files owned by another helper that still compute the month index inline (synthetic/generator.py,
#: being split into several modules): allowed at most this many times in synthetic/ outside
#: registrations.py. Lower it as they move onto data.grunnbelop; never raise it.
_SYNTHETIC_FORMULA_BUDGET = 2


def _py_files() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p.resolve() != HOME)


def test_no_second_definition_of_g_or_month_index() -> None:
    offenders = []
    for p in _py_files():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _DEFINING.match(node.name):
                offenders.append(f"{p.relative_to(SRC)}:{node.lineno} def {node.name}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.endswith("G.csv") \
                    and "/" not in node.value and p.name not in ("generator.py",):
                offenders.append(f"{p.relative_to(SRC)}:{node.lineno} path to G.csv (use data.grunnbelop.G_CSV)")
    assert not offenders, "G / month index defined outside data/grunnbelop.py:\n" + "\n".join(offenders)


def test_no_second_g_table_or_month_formula() -> None:
    tables, formulas, synthetic = [], [], []
    for p in _py_files():
        text = p.read_text(encoding="utf-8")
        rel = p.relative_to(SRC)
        tables += [f"{rel}:{text.count(chr(10), 0, m.start()) + 1}" for m in _G_AMOUNTS.finditer(text)]
        hits = [f"{rel}:{text.count(chr(10), 0, m.start()) + 1}" for m in _FORMULA.finditer(text)]
        if rel.parts[0] == "synthetic" and p.name != "registrations.py":
            synthetic += hits
        else:
            formulas += hits
    assert not tables, "a copy of the G table outside data/reference/G.csv: " + ", ".join(tables)
    assert not formulas, "month index formula outside data/grunnbelop.py (use month_index / sql_month_index): " + ", ".join(formulas)
    assert len(synthetic) <= _SYNTHETIC_FORMULA_BUDGET, f"more inline month-index formulas in synthetic/: {synthetic}"
