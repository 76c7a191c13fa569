"""The manifest's months are read by the one strict month parser (windows.parse_month)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from arbeidsindikator.data.extracts import read_manifest


def _write(folder, start, end="2024-06"):
    months = {k: ["2017-12", "2024-06"] for k in ("timer", "lonn", "ba_region")}
    months["status"] = ["2012-12", "2024-06"]  # NAV history needs 60 months before the period
    man = {"contract": "arbeidsindikator-extracts/1", "period": {"start": start, "end": end},
           "coverage": {**months, "pgi": [2007, 2023]}}
    (folder / "manifest.json").write_text(json.dumps(man), encoding="utf-8")


def test_manifest_months_parse(tmp_path):
    _write(tmp_path, "2017-12")
    man, problems = read_manifest(tmp_path)
    assert man is not None and man.start == pd.Period("2017-12", freq="M")
    assert problems == []


@pytest.mark.parametrize("bad", ["2017-12-01", "2017-13", 2017, "Dec 2017"])
def test_manifest_bad_month_is_named(tmp_path, bad):
    _write(tmp_path, bad)
    _, problems = read_manifest(tmp_path)
    hits = [p for p in problems if p.startswith("- manifest.period.start: expected a month as 'YYYY-MM'")]
    assert hits and repr(bad) in hits[0], problems
