"""The Excel export's bytes depend on its content only (no save time in docProps/core.xml or the zip)."""

from __future__ import annotations

import time
import zipfile

import pandas as pd

from arbeidsindikator.indicator.export import FIXED_XLSX_TIME, LONG_COLUMNS, write_exports


def test_two_exports_of_the_same_table_are_byte_identical(tmp_path):
    long = pd.DataFrame({c: [1.5, 2.5] for c in LONG_COLUMNS})
    long["UTFALL"] = ["atid3", "jobb3"]
    long["ORG_NIVAA"] = 1
    a = write_exports(long, tmp_path / "a")["xlsx"].read_bytes()
    time.sleep(1.1)  # openpyxl stamps seconds
    b_path = write_exports(long, tmp_path / "b")["xlsx"]
    assert a == b_path.read_bytes()
    core = zipfile.ZipFile(b_path).read("docProps/core.xml").decode()
    assert core.count(FIXED_XLSX_TIME) == 2
    back = pd.read_excel(b_path, sheet_name=None)
    assert set(back) == {"atid3", "jobb3"} and back["atid3"]["faktisk"].tolist() == [1.5]
