"""`make run`'s preparation (scripts/run_portal.py) honours PORTAL_VAR_DIR as the
settings do, and keeps the state folder private. The servers are not started."""

from __future__ import annotations

import importlib.util
import os
import stat
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "run_portal.py"


@pytest.fixture
def run_portal():
    spec = importlib.util.spec_from_file_location("run_portal_under_test", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    umask = os.umask(0o022)
    os.umask(umask)
    yield module
    os.umask(umask)  # prepare_state_folder sets the process's umask


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_it_prepares_the_folder_named_by_portal_var_dir(run_portal, tmp_path, monkeypatch):
    var = tmp_path / "state"
    monkeypatch.setenv("PORTAL_VAR_DIR", str(var))
    monkeypatch.delenv("PORTAL_ENCRYPTION_KEYS", raising=False)
    monkeypatch.delenv("PORTAL_ENCRYPTION_KEYS_FILE", raising=False)

    assert run_portal.prepare_state_folder() == var
    run_portal.ensure_encryption_keys(var)

    for sub in ("broker/queue", "broker/processed", "broker/control", "mail", "cache", "emulator"):
        assert (var / sub).is_dir(), sub
    assert (var / "encryption.keys").is_file()
    # The servers started afterwards inherit the same folder.
    assert os.environ["PORTAL_VAR_DIR"] == str(var)


def test_the_state_folder_is_private(run_portal, tmp_path, monkeypatch):
    var = tmp_path / "state"
    (var / "mail").mkdir(parents=True)
    (var / "mail").chmod(0o755)
    left_over = var / "portal.sqlite3"
    left_over.write_text("")
    left_over.chmod(0o644)
    monkeypatch.setenv("PORTAL_VAR_DIR", str(var))
    monkeypatch.delenv("PORTAL_ENCRYPTION_KEYS", raising=False)
    monkeypatch.delenv("PORTAL_ENCRYPTION_KEYS_FILE", raising=False)

    run_portal.prepare_state_folder()
    run_portal.ensure_encryption_keys(var)
    written = var / "broker" / "queue" / "task.msg"
    written.write_text("{}")  # what a server started afterwards writes

    assert _mode(var) == 0o700
    for folder in (var / "mail", var / "broker", var / "broker" / "queue"):
        assert _mode(folder) == 0o700, folder
    for file in (left_over, var / "encryption.keys", written):
        assert _mode(file) == 0o600, file


def test_a_relative_portal_var_dir_is_taken_from_the_project(run_portal, monkeypatch):
    monkeypatch.setenv("PORTAL_VAR_DIR", "var")
    assert run_portal.var_dir() == run_portal.ROOT / "var"


def test_it_makes_every_folder_the_settings_expect(run_portal, settings):
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    expected = {
        Path(options[key]).relative_to(settings.VAR_DIR).as_posix()
        for key in ("data_folder_in", "processed_folder", "control_folder")
    }
    expected.add(Path(settings.EMAIL_FILE_PATH).relative_to(settings.VAR_DIR).as_posix())
    assert expected <= set(run_portal.STATE_FOLDERS)
