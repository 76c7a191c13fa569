"""Publishing a build (issue 12): outputs per run fingerprint, published by an atomic rename.

Fast tests check the rename and the data-absent page; the slow ones kill a build during chapter
execution (the previously published tables stay intact and the next build does not reuse the
partial outputs) and build the whole book from a folder of extracts without profiling data.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arbeidsindikator.book import build as b
from arbeidsindikator.config import load_config
from conftest import REPO, write_config, tree_hash




def test_publish_replaces_the_whole_folder(tmp_path: Path) -> None:
    pub = tmp_path / "tables" / "x"
    s1 = tmp_path / "s1"
    (s1 / "a").mkdir(parents=True)
    (s1 / "a" / "t.csv").write_text("1")
    b.publish(s1, pub)
    assert (pub / "a" / "t.csv").read_text() == "1" and not s1.exists()
    s2 = tmp_path / "s2"
    (s2 / "b").mkdir(parents=True)
    (s2 / "b" / "u.csv").write_text("2")
    b.publish(s2, pub)
    assert sorted(p.name for p in pub.rglob("*.csv")) == ["u.csv"]  # nothing of the old build is left
    assert not s2.exists()


def test_run_fingerprint_follows_the_configuration(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = load_config(write_config(tmp_path / "a"))
    c = load_config(write_config(tmp_path / "b", **{"bootstrap.seed": 2}))
    assert b.run_fingerprint(a) != b.run_fingerprint(c) and b.run_fingerprint(a) == b.run_fingerprint(a)


def test_extracts_without_profiling_folder_get_an_absent_page(tmp_path: Path) -> None:
    ex = tmp_path / "ex"
    ex.mkdir()
    cfg = load_config(write_config(tmp_path, **{"data.source": "extracts", "data.path": str(ex)}))
    reason = b.missing_chapter_data(cfg, "07_profiling")
    assert reason and "profiling" in reason
    page = b.absent_page(REPO / "chapters" / "07_profiling.md", reason)
    assert page.startswith("(ch-profiling)=\n# ") and "data are absent" in page
    assert b.missing_chapter_data(cfg, "04_results") is None
    (ex / "profiling").mkdir()
    (ex / "profiling" / "registrations.parquet").write_bytes(b"")
    assert b.missing_chapter_data(cfg, "07_profiling") is None


@pytest.mark.slow
def test_killed_build_leaves_published_tables_intact_and_is_not_reused(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    cfg_a = write_config(tmp_path / "a", **{"name": "kill", "output.cache_dir": cache})
    cfg_b = write_config(tmp_path / "b", **{"name": "kill", "output.cache_dir": cache, "bootstrap.seed": 2})
    b.build(cfg_a, out_root=tmp_path, render_html=False)
    published = tmp_path / "tables" / "kill"
    before = tree_hash(published)
    runs = tmp_path / "_build" / "runs"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "arbeidsindikator.book.build", "--config", str(cfg_b),
                             "--no-render", "--out-root", str(tmp_path)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 900
        while time.time() < deadline and proc.poll() is None and not list(runs.glob("*/tables/*/*/*.csv")):
            time.sleep(0.5)
        assert list(runs.glob("*/tables/*/*/*.csv")), "the build never reached chapter execution"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the build and its kernels, mid-chapter
        proc.wait()
    assert tree_hash(published) == before  # previous publication intact
    (run_b,) = list(runs.iterdir())  # the partial outputs stay in their own folder …
    assert run_b.name == b.run_fingerprint(load_config(cfg_b))
    (run_b / "tables" / "kill" / "stale.csv").write_text("partial")
    b.build(cfg_b, out_root=tmp_path, render_html=False)
    assert not (published / "stale.csv").exists()  # … and are not reused
    assert tree_hash(published) != before
    assert not run_b.exists()


@pytest.mark.slow
def test_documented_extracts_path_builds_without_profiling_data(tmp_path: Path) -> None:
    from arbeidsindikator.synthetic.generator import generate_extracts

    ex = tmp_path / "extracts"
    generate_extracts(ex, n_persons=3000, seed=7, truth=False)
    assert not (ex / "profiling").exists()
    example = REPO / "configs" / "extracts.example.yml"
    text = example.read_text(encoding="utf-8").replace("path: ../data/extracts", f"path: {ex}")
    text = text.replace("replicates: 200", "replicates: 10")
    text += f"output:\n  cache_dir: {tmp_path / 'cache'}\n"
    cfg = tmp_path / "extracts.yml"
    cfg.write_text(text, encoding="utf-8")
    html = b.build(cfg, out_root=tmp_path)
    prof = (html / "chapters" / "07_profiling.html").read_text(encoding="utf-8")
    assert "data are absent" in prof
    res = (html / "chapters" / "04_results.html").read_text(encoding="utf-8")
    # read as extracts, but the manifest names the generator: every page says the data are synthetic
    assert "{glue" not in res and "Synthetic data" in res
    assert (tmp_path / "tables" / "extracts" / "export" / "arbeidsindikator_long.csv").is_file()
