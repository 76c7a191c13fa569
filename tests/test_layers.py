"""The package's house plan (issue 10): no import circles, no import against the layer order.

Every module's imports are read with ``ast`` (module level *and* inside functions, so a lazy
import cannot hide a circle or an upward reach). Layers, lowest first:

    config / spec / io / windows -> data -> panel -> estimation -> indicator -> profiling -> synthetic -> engines
    -> pipeline -> analyses -> book -> cli

A module may import its own layer and the layers below it, never above. Only ``pipeline`` (and
``synthetic`` itself) may import ``arbeidsindikator.synthetic``: the generator is a *source* of
raw extracts and only the pipeline picks the source. Chapters (code cells of ``chapters/*.md``)
call ``pipeline``, ``analyses`` and ``book`` (``config``/``spec`` for constants), nothing else;
each chapter is its own test case, and the chapters still being moved onto recipes by their
owners are listed in :data:`CHAPTERS_PENDING` (expected to fail, not strictly).
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

import pytest

import arbeidsindikator

PKG = "arbeidsindikator"
PKG_DIR = Path(arbeidsindikator.__file__).resolve().parent
REPO = PKG_DIR.parents[1]

#: Layer of each top-level module or subpackage; equal numbers are one layer.
LAYERS: dict[str, float] = {
    "config": 0, "spec": 0, "io": 0, "windows": 0,
    "data": 1,
    "panel": 2,
    "estimation": 3,
    "indicator": 4,
    "profiling": 5,
    "synthetic": 6,
    "engines": 6.5,  # issue 11 (helper "distributed"): between indicator and pipeline
    "pipeline": 7,
    "analyses": 8,
    "book": 9,
    "cli": 10,
}
#: Who may import the synthetic sources besides synthetic itself.
SYNTHETIC_USERS = {"pipeline"}
#: What a chapter may import (top-level module or subpackage).
CHAPTER_ALLOWED = {"pipeline", "analyses", "book", "config", "spec"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG_DIR.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


@lru_cache(maxsize=1)
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG_DIR.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    """Absolute module named by a ``from ... import`` (relative imports included)."""
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if not _is_package(importer):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(name: str, source: str | None = None) -> set[str]:
    """Package modules imported anywhere in a module (or in ``source``), as module names.

    ``from pkg.sub import name`` counts as an import of ``pkg.sub.name`` when that is a module,
    otherwise of ``pkg.sub``. Importing a submodule does not count as importing its package's
    ``__init__`` (Python runs it, but it is not a dependency the author wrote).
    """
    tree = ast.parse(source if source is not None else modules()[name].read_text(encoding="utf-8"))
    known = modules()
    out: set[str] = set()
    typing_only = {id(n) for blk in ast.walk(tree) if isinstance(blk, ast.If)
                   and ast.unparse(blk.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
                   for stmt in blk.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in typing_only:  # imports for type hints only are not run-time dependencies
            continue
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == PKG or a.name.startswith(PKG + "."):
                    out.add(a.name)
        elif isinstance(node, ast.ImportFrom):
            mod = _resolve(name, node) if name else (node.module or "")
            if not (mod == PKG or mod.startswith(PKG + ".")):
                continue
            for a in node.names:
                sub = f"{mod}.{a.name}"
                out.add(sub if sub in known else mod)
    return {m for m in out if m != name}


def layer_key(module: str) -> str | None:
    """Top-level module or subpackage of a module name (None for the package root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


@lru_cache(maxsize=1)
def graph() -> dict[str, set[str]]:
    return {m: imports_of(m) for m in modules()}


def test_every_module_has_a_layer() -> None:
    unknown = sorted({layer_key(m) for m in modules()} - set(LAYERS) - {None})
    assert not unknown, f"modules outside the layer plan (add them to LAYERS and the README): {unknown}"


def test_no_import_circles() -> None:
    g = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in g:
                continue
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            strong(v)
    assert not cycles, "import circles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_imports_follow_the_layer_order() -> None:
    bad = []
    # the package root holds only the version: it is at the bottom and imports nothing
    assert not graph()[PKG], f"{PKG}/__init__.py imports {sorted(graph()[PKG])}; keep it import-free"
    for m, deps in sorted(graph().items()):
        lm = layer_key(m)
        if lm is None:
            continue
        for d in sorted(deps):
            ld = layer_key(d)
            if ld is not None and LAYERS[ld] > LAYERS[lm]:
                bad.append(f"{m} (layer {lm}) imports {d} (layer {ld}, above)")
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def test_only_pipeline_imports_synthetic() -> None:
    bad = [f"{m} imports {d}" for m, deps in sorted(graph().items()) for d in sorted(deps)
           if layer_key(d) == "synthetic" and layer_key(m) not in SYNTHETIC_USERS | {"synthetic"}]
    assert not bad, "only the pipeline picks the data source:\n" + "\n".join(bad)


def test_the_walker_sees_function_level_and_relative_imports() -> None:
    src = (
        "import numpy\n"
        "from arbeidsindikator.spec import FAMILY\n"
        "def f():\n"
        "    from arbeidsindikator.synthetic import generator\n"
        "    import arbeidsindikator.pipeline\n"
        "    from . import fitting\n"
    )
    got = imports_of("arbeidsindikator.estimation.design", src)
    assert got == {"arbeidsindikator.spec", "arbeidsindikator.synthetic.generator", "arbeidsindikator.pipeline",
                   "arbeidsindikator.estimation.fitting"}


# --- chapters -----------------------------------------------------------------------------------

_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)


@lru_cache(maxsize=1)
def chapter_imports() -> dict[str, set[str]]:
    """Package modules imported by the code cells of each chapter."""
    out: dict[str, set[str]] = {}
    for md in sorted((REPO / "chapters").glob("*.md")):
        code = "\n".join(
            "\n".join(line for line in cell.splitlines() if not line.lstrip().startswith(("%", "!", ":")))
            for cell in _CELL.findall(md.read_text(encoding="utf-8"))
        )
        out[md.name] = imports_of("", code)
    return out


def test_chapter_cells_are_found() -> None:
    found = chapter_imports()
    assert found and all(found.values()), "every chapter imports the book helpers; the cell parser found none"


#: Chapters whose imports other helpers are moving onto recipes (issue 11); the lead removes an
#: entry when its chapter passes (strict=False: passing early is not a failure).
CHAPTERS_PENDING: dict[str, str] = {}


def _chapter_params() -> list[object]:
    return [pytest.param(name, marks=pytest.mark.xfail(strict=False, reason=CHAPTERS_PENDING[name]))
            if name in CHAPTERS_PENDING else name
            for name in sorted(p.name for p in (REPO / "chapters").glob("*.md"))]


@pytest.mark.parametrize("chapter", _chapter_params())
def test_chapter_imports_only_pipeline_analyses_book(chapter: str) -> None:
    bad = sorted(d for d in chapter_imports()[chapter] if layer_key(d) not in CHAPTER_ALLOWED)
    assert not bad, (f"{chapter} may import only pipeline, analyses, book (config/spec for constants); "
                     f"move these calls into a recipe (book/recipes.py): {bad}")


def test_pending_chapters_exist() -> None:
    missing = sorted(set(CHAPTERS_PENDING) - {p.name for p in (REPO / "chapters").glob("*.md")})
    assert not missing, f"CHAPTERS_PENDING names chapters that do not exist: {missing}"
