"""Chapter notebooks: one parameters cell that survives the jupytext round trip; no logic in chapters."""

from __future__ import annotations

import ast

import jupytext
import pytest

from arbeidsindikator.book.build import _is_notebook, toc_files
from conftest import REPO

CHAPTERS = [REPO / f"{f}.md" for f in toc_files(REPO)]


def test_every_toc_entry_exists():
    missing = [str(p) for p in CHAPTERS if not p.exists()]
    assert not missing


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_parameters_cell_survives_round_trip(path, tmp_path):
    if not _is_notebook(path):
        pytest.skip("no code")
    nb = jupytext.read(path)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, f"{path.name}: expected exactly one parameters cell, found {len(params)}"
    tree = ast.parse(params[0].source)
    names = [t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets]
    assert names == ["config_path"], f"{path.name}: parameters cell should hold only config_path, has {names}"
    # md -> ipynb -> md -> ipynb keeps the tag
    ipynb = tmp_path / "a.ipynb"
    jupytext.write(nb, ipynb, fmt="ipynb")
    back = jupytext.read(ipynb)
    md = tmp_path / "b.md"
    jupytext.write(back, md, fmt="md:myst")
    again = jupytext.read(md)
    tags = [c.metadata.get("tags", []) for c in again.cells if c.cell_type == "code"]
    assert sum("parameters" in t for t in tags) == 1


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapters_hold_no_logic(path):
    """Loops and function definitions belong in src/ (developers' guide)."""
    if not _is_notebook(path):
        pytest.skip("no code")
    nb = jupytext.read(path)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        bad = [type(n).__name__ for n in ast.walk(tree) if isinstance(n, (ast.For, ast.While, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))]
        assert not bad, f"{path.name}: cell contains {bad}; move the logic into src/arbeidsindikator"


def test_no_ipynb_beside_sources():
    assert not list((REPO / "chapters").glob("*.ipynb")), "executed notebooks belong in _build/book, not chapters/"
