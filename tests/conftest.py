"""Shared fixtures: the tiny synthetic configuration and its panel."""

from __future__ import annotations

import os
import hashlib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "configs" / "tiny.yml"


def write_config(tmp_path: Path, **overrides: object) -> Path:
    """Copy of the tiny configuration with dotted-key overrides, e.g. ``{"output.cache_dir": ...}``."""
    raw = yaml.safe_load(TINY.read_text(encoding="utf-8"))
    for dotted, value in overrides.items():
        cur = raw
        *parents, last = dotted.split(".")
        for p in parents:
            cur = cur.setdefault(p, {})
        cur[last] = value
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_cfg():
    from arbeidsindikator.config import load_config

    return load_config(TINY)


@pytest.fixture(scope="module")
def chunked_cfg(tiny_cfg, tmp_path_factory):
    """The tiny configuration with chunks of at most 701 person-months and its own cache folder
    (one per test module that asks for it: the chunked store is built with the module's tests)."""
    import dataclasses

    from arbeidsindikator import pipeline

    raw = dict(tiny_cfg.raw)
    raw["output"] = dict(raw.get("output", {}) or {}, chunk_rows=701)
    cfg = dataclasses.replace(tiny_cfg, raw=raw, cache_dir=tmp_path_factory.mktemp("chunked"))
    pipeline.prepare(cfg)
    return cfg


@pytest.fixture(scope="session")
def tiny_panel(tiny_cfg):
    from arbeidsindikator.pipeline import load_panel

    return load_panel(tiny_cfg).panel


@pytest.fixture(scope="session")
def tiny_book(tmp_path_factory) -> Path:
    """out_root of the tiny synthetic book, built once per test session (HTML in ``_build/html``,
    executed notebooks in ``_build/book``, tables in ``tables/``). ``ARBEIDSINDIKATOR_TEST_BOOK``
    may name the out_root of a finished build to reuse it."""
    reuse = os.environ.get("ARBEIDSINDIKATOR_TEST_BOOK")
    if reuse:
        return Path(reuse)
    from arbeidsindikator.book.build import build

    root = tmp_path_factory.mktemp("book_a")
    cfg = write_config(root, **{"output.cache_dir": str(root / "cache")})
    build(cfg, out_root=root)
    return root


def tree_hash(d: Path) -> str:
    """Content hash of a folder (paths and bytes): the inputs-unchanged check of the tests."""
    h = hashlib.sha256()
    for p in sorted(d.rglob("*")):
        h.update(str(p.relative_to(d)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()
