"""pytest fixtures for the Microsoft emulator (a plugin; nothing from Django here).

`emulator`: the session's emulator, emptied before each test. It is a RunningEmulator:
base_url, login_url, graph_url, ca_path, and the EmulatorHandle methods that change
its state (add_directory, add_user, register_app, add_secret, grant_admin_consent,
add_access_policy, set_fault, set_mailbox_limit, advance_clock, ...) and read its
counters (counters()).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from microsoft_emulator.server import RunningEmulator, start


@pytest.fixture(scope="session")
def emulator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    running = start(ca_dir=tmp_path_factory.mktemp("microsoft-emulator"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def emulator(emulator_server: RunningEmulator) -> RunningEmulator:
    """No directories, no faults, zero counters, the clock at now."""
    emulator_server.reset()
    return emulator_server


@pytest.fixture
def emulator_http(emulator: RunningEmulator) -> Iterator[requests.Session]:
    """A plain HTTP client that trusts the emulator's CA (for raw protocol tests)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(emulator.ca_path)
    yield session
    session.close()
