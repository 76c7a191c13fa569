"""One definition of each fact of the main model's specification (issue 10): the spell-gap default,
the outcomes' horizons and families, and the repository root (config.REPO_ROOT)."""

from __future__ import annotations

import re
from pathlib import Path

from arbeidsindikator import config, spec
from arbeidsindikator.panel import build, outcomes

SRC = Path(spec.__file__).resolve().parent


def _sources() -> dict[str, str]:
    return {str(p.relative_to(SRC)): p.read_text(encoding="utf-8") for p in sorted(SRC.rglob("*.py"))}


def test_spell_gap_default_is_spec() -> None:
    from arbeidsindikator.synthetic import world as generator

    assert spec.SPELL_GAP_MONTHS == 3 and spec.SPELL_GAP_MONTHS_ALTERNATIVE == 2  # seed 002 ch. 4 text / fn 11, 13
    assert build.PanelOptions().gap_months == spec.SPELL_GAP_MONTHS
    assert generator.GAP_MONTHS == spec.SPELL_GAP_MONTHS
    raw = config.load_config(config.DEFAULT_CONFIG)
    assert raw.gap_months == spec.SPELL_GAP_MONTHS
    # no module writes the default as a number
    literal = re.compile(r"gap_months\s*(?::\s*int\s*)?=\s*\d|\"model\.gap_months\",\s*\d|(?<![A-Z_])GAP_MONTHS\s*=\s*\d|"
                         r"gap_months\s*==\s*\d")
    hits = [f"{name}:{text.count(chr(10), 0, m.start()) + 1}" for name, text in _sources().items()
            if name != "spec.py" for m in literal.finditer(text)]
    assert not hits, f"spell-gap default written as a literal (use spec.SPELL_GAP_MONTHS): {hits}"


def test_horizons_and_families_are_spec() -> None:
    assert outcomes.HORIZONS is spec.HORIZONS
    from arbeidsindikator.estimation import results

    assert results.Family is spec.Family


def test_repo_root_defined_once() -> None:
    """Only config.py derives the repository root from a file's location."""
    pattern = re.compile(r"__file__\)?\.resolve\(\)\.parents\[|__file__\)\.parent\.parent|rev-parse --show-toplevel")
    hits = [name for name, text in _sources().items() if name != "config.py" and pattern.search(text)]
    assert not hits, f"the repository root is recomputed outside config.REPO_ROOT: {hits}"
    assert (config.REPO_ROOT / "src" / "arbeidsindikator" / "config.py").is_file()


def test_horizon_of_reads_spec() -> None:
    import pytest

    from arbeidsindikator.panel.covariates import horizon_of

    assert {o: horizon_of(o) for o in spec.OUTCOMES} == spec.HORIZONS
    with pytest.raises(ValueError, match="atid3, atid12, jobb3, jobb12"):
        horizon_of("atid6")
