"""Publishing a new quarter (issue 15): archive, change report, command line.

One synthetic extract folder (3 000 persons, 2017-12–2024-06) is cut at 2024-03 — every monthly
table ends there, as it would have at the earlier publication — and both are published: the
earlier with the period from the extracts' coverage, the later with a fixed length that drops its
three oldest months. The change report is checked against a direct computation from the two
builds' panels and models.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arbeidsindikator.config import load_config
from conftest import REPO, write_config

pytestmark = pytest.mark.slow  # about 5 minutes: two panels and eight model fits at 3 000 persons

N_PERSONS = 3000


def cut_extracts(src: Path, dst: Path, end: str) -> Path:
    """Copy of a folder of extracts as it would have been delivered with ``end`` as its last month."""
    end_p = pd.Period(end, freq="M")
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.name in ("_COMPLETE.json", "truth") or f.is_dir():
            continue
        if f.suffix == ".parquet" and f.stem in ("status", "timer", "lonn", "ba_region"):
            t = pd.read_parquet(f)
            keep = pd.to_datetime(t["month"]) <= end_p.to_timestamp()
            t[keep.to_numpy()].to_parquet(dst / f.name, index=False)
        else:
            shutil.copyfile(f, dst / f.name)
    man = json.loads((src / "manifest.json").read_text())
    man["period"]["end"] = end
    for k in ("status", "timer", "lonn", "ba_region"):
        man["coverage"][k][1] = end
    (dst / "manifest.json").write_text(json.dumps(man, indent=2))
    return dst


@pytest.fixture(scope="module")
def quarters(tmp_path_factory):
    from arbeidsindikator.book import archive, changes
    from arbeidsindikator.synthetic.generator import generate_extracts

    root = tmp_path_factory.mktemp("quarter")
    full = root / "extracts_2024-06"
    generate_extracts(full, n_persons=N_PERSONS, seed=11, truth=False, workers=1)
    cut = cut_extracts(full, root / "extracts_2024-03", "2024-03")
    common = {"data.source": "extracts", "indicator.seasonal_reference": "auto", "indicator.min_cell_count": 1,
              "output.cache_dir": str(root / "cache"), "output.archive_dir": str(root / "publications")}
    (root / "old").mkdir()
    (root / "new").mkdir()
    cfg_old = load_config(write_config(root / "old", **common, **{
        "name": "q-old", "data.path": str(cut), "period": {"start": "auto", "end": "auto"}}))
    cfg_new = load_config(write_config(root / "new", **common, **{
        "name": "q-new", "data.path": str(full), "period": {"start": "auto", "end": "auto", "length_months": 76}}))
    res_old = archive.publish(cfg_old)
    res_new = archive.publish(cfg_new, previous=res_old.path)
    rep = changes.compare(archive.Publication.load(res_old.path), archive.Publication.load(res_new.path))
    return {"root": root, "cfg_old": cfg_old, "cfg_new": cfg_new, "old": res_old, "new": res_new, "rep": rep}


def test_periods_follow_the_extracts(quarters):
    c0, c1 = quarters["cfg_old"], quarters["cfg_new"]
    assert (str(c0.start), str(c0.end)) == ("2017-12", "2024-03")
    assert (str(c1.start), str(c1.end)) == ("2018-03", "2024-06")
    assert [str(w) for w in c0.seasonal_windows_short] == ["2017-12–2019-11", "2022-04–2023-12"]
    assert [str(w) for w in c1.seasonal_windows_short] == ["2018-03–2019-02", "2022-04–2024-03"]


def test_archive_folder_is_keyed_and_complete(quarters):
    from arbeidsindikator.book.archive import COEF_COLUMNS

    p = quarters["new"].path
    assert p.name.startswith("2024-06_") and quarters["old"].path.name.startswith("2024-03_")
    meta = json.loads((p / "publication.json").read_text())
    for f in ("run_stamp.csv", "configuration.yml", "coefficients.csv", "indicator_long.csv", "indicator_long.xlsx",
              "tables.zip", "changes/changes.md", "changes/revisions.csv", "changes/national_old_new.png"):
        assert (p / f).is_file(), f
        assert f in meta["files"]
    coefs = pd.read_csv(p / "coefficients.csv")
    assert list(coefs.columns) == COEF_COLUMNS
    long = pd.read_csv(p / "indicator_long.csv", dtype={"ORG_STED": str})
    for c in ("BEHOLDNINGSMAANED", "ORG_NIVAA", "ORG_STED", "NEDBRYTNING", "UTFALL", "faktisk", "forventet",
              "INDIKATOR", "ANTALL_PERSONER", "NEDRE_95", "OVRE_95"):
        assert c in long.columns
    assert meta["windows"]["why"]["seasonal_reference.short"].startswith("rule:")


def test_t_and_p_values_match_the_fit(quarters):
    from scipy import stats

    from arbeidsindikator import pipeline

    coefs = pd.read_csv(quarters["new"].path / "coefficients.csv")
    f = pipeline.main_models(quarters["cfg_new"]).fits["atid3"]
    c = coefs[coefs["response_variable"] == "atid3"].set_index("variable")
    t = f.params / f.bse
    np.testing.assert_allclose(c.loc[t.index, "t_value"], t, rtol=1e-8)
    df = f.df_inference
    p = 2 * (stats.t.sf(np.abs(t), df) if df else stats.norm.sf(np.abs(t)))
    np.testing.assert_allclose(c.loc[t.index, "p_value"], p, rtol=1e-6, atol=1e-300)


def test_months_added_and_dropped(quarters):
    rep = quarters["rep"]
    assert rep.months["added"] == ["2024-04", "2024-05", "2024-06"]
    assert rep.months["dropped"] == ["2017-12", "2018-01", "2018-02"]
    assert len(rep.months["common"]) == 73
    d = rep.data.set_index("quantity")
    from arbeidsindikator import pipeline

    for cfg, col in ((quarters["cfg_old"], "previous"), (quarters["cfg_new"], "new")):
        panel = pipeline.load_panel(cfg).panel
        assert d.loc["person-months", col] == len(panel)
        assert d.loc["persons", col] == panel["person_id"].nunique()


def test_coefficient_changes_equal_the_fits(quarters):
    from arbeidsindikator import pipeline

    rep = quarters["rep"]
    fo = pipeline.main_models(quarters["cfg_old"]).fits
    fn = pipeline.main_models(quarters["cfg_new"]).fits
    for outcome in ("atid3", "jobb12"):
        direct = (fn[outcome].params - fo[outcome].params).dropna()
        got = rep.coefficients[rep.coefficients["response_variable"] == outcome].set_index("variable")["change"]
        np.testing.assert_allclose(got.loc[direct.index], direct, rtol=1e-7, atol=1e-9)
        assert (direct.abs() > 0).mean() > 0.9  # re-estimated: nearly every coefficient moves
    both = rep.coefficients[rep.coefficients["status"] == "both"]
    # overlapping windows: the change's sampling error is far below either standard error
    assert (both["se_change"] < both[["std_err_old", "std_err_new"]].min(axis=1)).mean() > 0.95
    assert both["beyond_sampling_error"].mean() < 0.5


def test_revisions_of_overlapping_months_equal_a_direct_computation(quarters):
    from arbeidsindikator import pipeline

    rep = quarters["rep"]
    for outcome, f in (("atid3", 1.0), ("jobb12", 100.0)):
        old = pipeline.indicator_series(quarters["cfg_old"], outcome, adjust=False)["indicator"]
        new = pipeline.indicator_series(quarters["cfg_new"], outcome, adjust=False)["indicator"]
        direct = ((new - old).dropna() * f)
        direct.index = pd.DatetimeIndex(direct.index).strftime("%Y-%m")
        nat = rep.national[rep.national["UTFALL"] == outcome].set_index("BEHOLDNINGSMAANED")["revision"].dropna()
        assert list(nat.index) == list(direct.index)
        np.testing.assert_allclose(nat, direct, atol=1e-7)
        assert (direct.abs() > 1e-9).all(), "re-estimation revises every common month"
    s = rep.revision_summary
    assert (s["revised"] > 0).all()
    # the months whose outcome became observable are newly published, the dropped ones no longer
    nat = rep.revisions[(rep.revisions["ORG_NIVAA"] == 1) & (rep.revisions["NEDBRYTNING"] == "Alle")]
    a3 = nat[nat["UTFALL"] == "atid3"].set_index("BEHOLDNINGSMAANED")["status"]
    assert a3.loc["2024-01"] == "newly published" and a3.loc["2017-12"] == "no longer published"


def test_rank_changes_equal_a_direct_computation(quarters):
    from arbeidsindikator import pipeline

    rep = quarters["rep"]
    ranks = {}
    for cfg, tag in ((quarters["cfg_old"], "old"), (quarters["cfg_new"], "new")):
        df = pipeline.panel_with_expected(cfg)
        obs = df["atid12"].notna()
        r = (df.loc[obs, "atid12"] - df.loc[obs, "exp_atid12"]).groupby(df.loc[obs, "fylke"], observed=True).mean()
        ranks[tag] = r.rank(ascending=False, method="min")
    direct = (ranks["old"] - ranks["new"]).rename("direct")
    got = rep.ranks[(rep.ranks["level"] == "county") & (rep.ranks["UTFALL"] == "atid12")].set_index("ORG_STED")
    np.testing.assert_array_equal(got.loc[direct.index.astype(str), "rank_change"].to_numpy(), direct.to_numpy())
    assert rep.summary["ranks_changed"] == int((rep.ranks["rank_change"].fillna(0) != 0).sum())


def test_archive_is_never_overwritten(quarters):
    from arbeidsindikator.book import archive

    p = quarters["old"].path
    before = {f: f.read_bytes() for f in p.rglob("*") if f.is_file()}
    mtimes = {f: f.stat().st_mtime_ns for f in before}
    assert not os.access(p / "coefficients.csv", os.W_OK) or os.geteuid() == 0  # files are read-only
    again = archive.publish(quarters["cfg_old"])
    assert again.path == p and not again.created and again.identical
    assert {f: f.read_bytes() for f in p.rglob("*") if f.is_file()} == before
    assert {f: f.stat().st_mtime_ns for f in before} == mtimes
    # a tampered archive is reported, not repaired
    target = p / "run_stamp.csv"
    target.chmod(0o644)
    target.write_text("tampered\n")
    again = archive.publish(quarters["cfg_old"])
    assert not again.created and not again.identical and "run_stamp.csv" in again.differing
    assert target.read_text() == "tampered\n"
    assert not list((p.parent).glob(".staging-*"))


def test_compare_command_writes_a_standalone_report(quarters, tmp_path):
    from arbeidsindikator.cli import main

    out = tmp_path / "report"
    assert main(["compare", str(quarters["old"].path), str(quarters["new"].path), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["months_added"] == 3 and summary["months_dropped"] == 3
    assert (out / "changes.md").read_text().startswith("# Changes from publication 2024-03_")
    assert main(["compare", str(quarters["old"].path), str(tmp_path), "--out", str(tmp_path / "x"), "--quiet"]) == 2


def test_validate_command_reports_without_computing(quarters, capsys):
    from arbeidsindikator.cli import main

    assert main(["validate", str(quarters["root"] / "extracts_2024-03"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "2017-12–2024-03" in out and "2022-04–2023-12" in out


def test_help_lists_the_subcommands():
    res = subprocess.run([sys.executable, "-m", "arbeidsindikator.cli", "--help"], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO / "src")}, check=True)
    for sub in ("build", "update", "validate", "windows", "compare"):
        assert sub in res.stdout
    assert 'arbeidsindikator = "arbeidsindikator.cli:main"' in (REPO / "pyproject.toml").read_text()
