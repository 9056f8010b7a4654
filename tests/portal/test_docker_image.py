"""The production image (Dockerfile, .dockerignore, pyproject's dependencies) ships
neither the Microsoft emulator nor its HTTP server, CA and web framework. Docker does
not run here, so the files are read."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EMULATOR_ONLY = {"flask", "cheroot", "trustme", "werkzeug"}
PORTAL_PACKAGES = ("portal", "accounts", "onboarding", "support")


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()


def test_the_build_context_leaves_the_emulator_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "microsoft_emulator" in ignored


def test_the_image_installs_only_the_runtime_dependencies():
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = re.findall(r"pip install ([^\n\\&]+)", dockerfile)
    assert installs, "the Dockerfile installs the project"
    for line in installs:
        assert "[" not in line, f"an extra (dev, emulator) in the image: {line}"


def test_the_emulators_dependencies_are_an_extra_of_their_own():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_requirement_name(r) for r in project["dependencies"]}
    assert not runtime & EMULATOR_ONLY
    extras = project["optional-dependencies"]
    assert {_requirement_name(r) for r in extras["emulator"]} == {"flask", "cheroot", "trustme"}
    assert "mailbox-portal[emulator]" in extras["dev"]  # make run and make test get them


def test_the_portal_imports_none_of_the_emulators_dependencies():
    for package in PORTAL_PACKAGES:
        for source in (ROOT / package).rglob("*.py"):
            tree = ast.parse(source.read_text(), str(source))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0].lower()
                    assert top not in EMULATOR_ONLY, f"{source} imports {name}"
                    assert top != "microsoft_emulator", f"{source} imports {name}"
