"""The synthetic extracts' cache key covers every input they depend on (issue 10).

Changes are made on temporary copies of the package and of the reference tables (the roots are
monkeypatched), never on the real files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from arbeidsindikator import io as aio
from arbeidsindikator.data import extracts
from arbeidsindikator.data.reference import ENV_VAR, reference_dir
from arbeidsindikator.synthetic import generator as se


@pytest.fixture()
def copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    pkg = tmp_path / "arbeidsindikator"
    shutil.copytree(aio.PACKAGE_DIR, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    ref = tmp_path / "reference"
    shutil.copytree(reference_dir(), ref)
    before = se.generator_fingerprint()
    monkeypatch.setattr(se, "PACKAGE_DIR", pkg)
    monkeypatch.setenv(ENV_VAR, str(ref))
    monkeypatch.setattr(extracts, "DEFAULT_G_PATH", ref / "G.csv")
    assert se.generator_fingerprint() == before  # identical copies: identical key
    return pkg, ref


def _changed(path: Path) -> bool:
    before = se.generator_fingerprint()
    path.write_bytes(path.read_bytes() + b"\n")
    return se.generator_fingerprint() != before


@pytest.mark.parametrize("rel", [
    "synthetic/tilt.py", "synthetic/generator.py", "synthetic/simulate.py", "synthetic/calibrated.json",
    "panel/outcomes.py", "panel/build.py", "data/extracts.py", "data/reference.py",
])
def test_changing_package_input_changes_the_fingerprint(copies: tuple[Path, Path], rel: str) -> None:
    pkg, _ = copies
    assert _changed(pkg / rel)


@pytest.mark.parametrize("name", ["table1_outcomes_by_main_group.csv", "table2_description_by_main_group.csv",
                                  "table3_outcomes_by_group.csv", "table4_coefficients.csv", "G.csv"])
def test_changing_a_reference_table_changes_the_fingerprint(copies: tuple[Path, Path], name: str) -> None:
    _, ref = copies
    assert _changed(ref / name)


def test_new_or_removed_files_change_the_fingerprint(copies: tuple[Path, Path]) -> None:
    pkg, ref = copies
    fp0 = se.generator_fingerprint()
    (pkg / "synthetic" / "extra.py").write_text("X = 1\n", encoding="utf-8")
    fp1 = se.generator_fingerprint()
    (ref / "table5.csv").write_text("a\n1\n", encoding="utf-8")
    fp2 = se.generator_fingerprint()
    (pkg / "synthetic" / "extra.py").unlink()
    fp3 = se.generator_fingerprint()
    assert len({fp0, fp1, fp2, fp3}) == 4


def test_inputs_cover_the_modules_the_generator_uses() -> None:
    labels = {label for label, _ in se.generator_inputs()}
    for rel in ("synthetic/tilt.py", "synthetic/calibrated.json", "synthetic/world.py", "panel/outcomes.py",
                "panel/build.py", "data/extracts.py"):
        assert f"package/{rel}" in labels
    assert {"reference/table4_coefficients.csv", "reference/table1_outcomes_by_main_group.csv", "G"} <= labels
