"""End-to-end: every chapter executes through the papermill path and the book renders.

The slow test builds the whole book from the tiny synthetic configuration twice (separate
caches) and checks that every table is byte-identical.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import nbformat
import pytest

from arbeidsindikator.book.build import ChapterError, build, execute, toc_files
from conftest import REPO, write_config


def test_failing_chapter_names_chapter_and_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("config_path = None", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise ValueError('broken on purpose')"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "99_broken.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(ChapterError, match=r"chapter '99_broken' failed in cell .*ValueError: broken on purpose"):
        execute(path, REPO / "tests" / "configs" / "tiny.yml")


@pytest.fixture(scope="module")
def built(tiny_book):
    # one tiny book per session, shared with tests/test_browser.py (conftest.tiny_book)
    return tiny_book, tiny_book / "_build" / "html"


@pytest.mark.slow
def test_book_renders_every_chapter_with_synthetic_notice(built):
    root, html = built
    assert (html / "index.html").exists()
    for f in toc_files(REPO):
        page = html / f"{f}.html"
        assert page.exists(), f"{page} missing"
        text = page.read_text(encoding="utf-8")
        assert "Synthetic data" in text, f"{f}: no synthetic-data notice"
        assert "{glue" not in text, f"{f}: unresolved glue"
    index = (html / "chapters" / "00_introduction.html").read_text(encoding="utf-8")
    assert "data fingerprint" in index and "2017-12" in index


@pytest.mark.slow
def test_building_twice_gives_identical_tables(built, tmp_path):
    root_a, _ = built
    cfg = write_config(tmp_path, **{"output.cache_dir": str(tmp_path / "cache")})
    build(cfg, out_root=tmp_path, render_html=False)
    a = sorted(p.relative_to(root_a / "tables") for p in (root_a / "tables").rglob("*.csv"))
    b = sorted(p.relative_to(tmp_path / "tables") for p in (tmp_path / "tables").rglob("*.csv"))
    assert a and a == b
    differ = [str(p) for p in a if not filecmp.cmp(root_a / "tables" / p, tmp_path / "tables" / p, shallow=False)]
    assert not differ, f"tables differ between two builds: {differ}"
