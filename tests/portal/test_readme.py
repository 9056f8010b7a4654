"""The README's table names every environment variable the settings read."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_documents_every_environment_variable():
    settings = (ROOT / "portal" / "settings.py").read_text()
    readme = (ROOT / "README.md").read_text()
    read = set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', settings))
    documented = set(re.findall(r"^\| `([A-Z_]+)`", readme, re.M))
    assert len(read) > 20
    assert read - documented == set()


def test_it_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```")[1]
    assert "make run" in first_block
    assert "make test" in first_block


def test_it_keeps_the_sections_others_fill():
    readme = (ROOT / "README.md").read_text()
    assert "## Encryption keys" in readme
    assert "docs/vault.md" in readme
    assert "## Microsoft emulator" in readme
