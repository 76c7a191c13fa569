"""A book from the generator's extracts says on every page that its data are synthetic.

The pipeline reads such a folder as extracts (``data.source: extracts``), but its manifest names
the generator (``generator`` entry, written by ``synthetic.generator``): the notice, the banner and
the figures' source line must follow the data, not the reading path.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import yaml

from arbeidsindikator.book import chapter as book
from arbeidsindikator.book.build import write_book_config
from arbeidsindikator.book.chapter import SYNTHETIC_NOTICE, notice_markdown, synthetic_data
from arbeidsindikator.config import load_config
from arbeidsindikator.data.manifest import declared_generator


def _folder(tmp_path: Path, generator: dict | None) -> Path:
    folder = tmp_path / "extracts"
    folder.mkdir()
    man = {"period": {"start": "2017-12", "end": "2024-06"}, "coverage": {}}
    if generator is not None:
        man["generator"] = generator
    (folder / "manifest.json").write_text(json.dumps(man), encoding="utf-8")
    return folder


def _cfg(folder: Path):  # type: ignore[no-untyped-def]
    return dataclasses.replace(load_config(None), source="extracts", data_path=folder)


def _announcement(cfg, tmp_path: Path) -> str | None:  # type: ignore[no-untyped-def]
    out = tmp_path / "book"
    out.mkdir()
    write_book_config(cfg, out)
    conf = yaml.safe_load((out / "_config.yml").read_text(encoding="utf-8"))
    return conf.get("sphinx", {}).get("config", {}).get("html_theme_options", {}).get("announcement")


def test_generator_extracts_get_the_synthetic_notice(tmp_path: Path) -> None:
    cfg = _cfg(_folder(tmp_path, {"module": "arbeidsindikator.synthetic.generator", "seed": 7}))
    assert not cfg.is_synthetic  # read as extracts ...
    assert synthetic_data(cfg)  # ... but the data are the generator's
    assert SYNTHETIC_NOTICE in notice_markdown(cfg)
    assert "Synthetic data" in (_announcement(cfg, tmp_path) or "")
    assert book.plots.FigureStyle.for_data(True).source != book.plots.FigureStyle.for_data(False).source


def test_analyst_extracts_get_no_synthetic_notice(tmp_path: Path) -> None:
    cfg = _cfg(_folder(tmp_path, None))
    assert not synthetic_data(cfg)
    assert SYNTHETIC_NOTICE not in notice_markdown(cfg) and str(cfg.data_path) in notice_markdown(cfg)
    assert _announcement(cfg, tmp_path) is None


def test_declared_generator_tolerates_missing_or_broken_manifests(tmp_path: Path) -> None:
    assert declared_generator(None) is None
    assert declared_generator(tmp_path) is None  # no manifest
    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    assert declared_generator(tmp_path) is None
    (tmp_path / "manifest.json").write_text(json.dumps({"generator": "text"}), encoding="utf-8")
    assert declared_generator(tmp_path) is None  # only a mapping counts
    assert synthetic_data(load_config(None))  # the embedded default is synthetic
