"""environment.yml and the pip requirements must name the same packages and versions."""

from __future__ import annotations

import re

import yaml

from conftest import REPO


def _pins(lines: list[str]) -> dict[str, str]:
    out = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)", line)
        assert m, f"requirement not pinned with '==': {line!r}"
        out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def test_requirements_are_pinned_and_match_environment_yml():
    req = _pins((REPO / "requirements.txt").read_text().splitlines())
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip section"
    env_pins = _pins(pip_sections[0])
    assert env_pins == req, f"differ: only in requirements.txt {set(req.items()) - set(env_pins.items())}, only in environment.yml {set(env_pins.items()) - set(req.items())}"


def test_lock_agrees_with_direct_pins():
    req = _pins((REPO / "requirements.txt").read_text().splitlines())
    lock = _pins((REPO / "requirements.lock").read_text().splitlines())
    for name, version in req.items():
        assert lock.get(name) == version, f"{name}: requirements.txt pins {version}, requirements.lock {lock.get(name)}"
