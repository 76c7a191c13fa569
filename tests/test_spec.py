"""One definition of each fact of the main model's specification (issue 10): the spell-gap default,
the outcomes' horizons and families, and the repository root (config.REPO_ROOT)."""

from __future__ import annotations

import ast
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


# --- one definition of the outcomes (grep-style guard over the package's AST) -------------------

#: The defining module of each collection constant that must not be written a second time.
_DEFINERS: dict[str, str] = {"spec.py": "arbeidsindikator.spec", "profiling/params.py": "arbeidsindikator.profiling.params"}
#: Files owned by another helper that still spell the main outcomes as a literal default argument
#: (not a definition, but a copy): analyses/uncertainty.py book_intervals(outcomes=...), owner 'uncertainty'.
#: Remove the entry when it reads spec.OUTCOMES; never add one.
_LITERAL_PENDING: set[str] = set()


def _defined_collections() -> dict[str, tuple[str, object]]:
    """Public tuple/list/dict constants (two or more items) of the defining modules, by name."""
    import importlib

    out: dict[str, tuple[str, object]] = {}
    for file, mod in _DEFINERS.items():
        m = importlib.import_module(mod)
        for name in dir(m):
            v = getattr(m, name)
            if name.isupper() and isinstance(v, (tuple, list, dict)) and len(v) >= 2:
                out[f"{mod.rsplit('.', 1)[-1]}.{name}"] = (file, v)
    return out


def _same(literal: object, defined: object) -> bool:
    if isinstance(defined, dict):
        return isinstance(literal, dict) and literal == defined
    return isinstance(literal, (tuple, list, set)) and len(literal) == len(defined) and set(literal) == set(defined)


def _module_level_literals(tree: ast.Module) -> list[tuple[int, str, object]]:
    out = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        value = getattr(node, "value", None)
        if not targets or value is None:
            continue
        try:
            lit = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError):
            continue
        out.append((node.lineno, ", ".join(ast.unparse(t) for t in targets), lit))
    return out


def test_outcomes_defined_once() -> None:
    """spec.OUTCOMES (and profiling.params.OUTCOMES / OUTCOME_LABEL) are written once; every
    other module imports them. A module-level constant holding the same items fails."""
    defined = _defined_collections()
    assert "spec.OUTCOMES" in defined and "params.OUTCOMES" in defined and "params.OUTCOME_LABEL" in defined
    offenders = []
    for name, text in _sources().items():
        for line, target, lit in _module_level_literals(ast.parse(text)):
            for const, (home, value) in defined.items():
                if name != home and _same(lit, value):
                    offenders.append(f"{name}:{line} {target} repeats {const}")
    assert not offenders, "second definition(s); import the one in spec/profiling.params instead:\n" + "\n".join(offenders)
    from arbeidsindikator.book import figures
    from arbeidsindikator.data import contract, reference
    from arbeidsindikator.profiling import params

    assert contract.OUTCOMES is spec.OUTCOMES and reference.OUTCOMES is spec.OUTCOMES
    assert figures.PROFILING_OUTCOMES is params.OUTCOMES and figures.PROFILING_OUTCOME_LABEL is params.OUTCOME_LABEL


def test_outcomes_not_spelled_out_elsewhere() -> None:
    """The main outcomes in spec order are not typed out anywhere else (e.g. as a default argument)."""
    offenders = []
    for name, text in _sources().items():
        if name == "spec.py" or name in _LITERAL_PENDING:
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.Tuple, ast.List)):
                try:
                    lit = ast.literal_eval(node)
                except (ValueError, SyntaxError, TypeError):
                    continue
                if tuple(lit) == spec.OUTCOMES:
                    offenders.append(f"{name}:{node.lineno}")
    assert not offenders, f"spec.OUTCOMES typed out again (import it): {offenders}"


def test_guard_sees_a_second_definition() -> None:
    tree = ast.parse('OUTCOMES = ("jobb12", "atid3", "jobb3", "atid12")\nLABEL: dict = {"a": 1}\n')
    found = _module_level_literals(tree)
    assert [(line, target) for line, target, _ in found] == [(1, "OUTCOMES"), (2, "LABEL")]
    assert _same(found[0][2], spec.OUTCOMES) and not _same(("atid3", "jobb3"), spec.OUTCOMES)
