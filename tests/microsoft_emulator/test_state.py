import json
import re

import pytest

from microsoft_emulator.state import State, load_state, save_state, to_plain
from microsoft_emulator.store import new_secret_value

SECRET = re.compile(r"^[A-Za-z0-9_~.]{3}8Q~[A-Za-z0-9_~.-]{34}$")


def test_it_makes_secrets_in_entras_current_format():
    values = {new_secret_value() for _ in range(200)}
    assert len(values) == 200
    assert all(SECRET.match(value) and len(value) == 40 for value in values)


STATE_YAML = """
directories:
  - name: Contoso
    id: 0a1b2c3d-0000-4000-8000-000000000001
    domains: [contoso.onmicrosoft.com]
    users:
      - upn: admin@contoso.onmicrosoft.com
        password: pw
        admin_role: Global Administrator
        messages:
          - subject: Hello
            received: 2026-01-02T03:04:05Z
apps:
  - name: Ops
    directory_id: 0a1b2c3d-0000-4000-8000-000000000001
    client_id: 11111111-0000-4000-8000-000000000002
    redirect_uris: [https://localhost]
    permissions: [{name: Mail.Read}]
    secrets:
      - value: abc8Q~0123456789012345678901234567890123
        end: 2027-01-01T00:00:00Z
"""


def test_it_loads_a_yaml_state_and_creates_home_service_principals(tmp_path):
    path = tmp_path / "state.yaml"
    path.write_text(STATE_YAML)
    state = load_state(path)
    (directory,) = state.directories
    assert directory.users[0].is_admin
    assert directory.users[0].messages[0].received.year == 2026
    assert state.apps[0].permissions[0].kind == "Application"
    assert state.apps[0].secrets[0].hint == "abc"
    assert [(sp.directory_id, sp.client_id) for sp in state.service_principals] == [
        ("0a1b2c3d-0000-4000-8000-000000000001", "11111111-0000-4000-8000-000000000002")
    ]


def test_it_round_trips_a_state_through_json(tmp_path):
    path = tmp_path / "state.yaml"
    path.write_text(STATE_YAML)
    saved = tmp_path / "saved.json"
    save_state(load_state(path), saved)
    assert to_plain(load_state(saved)) == json.loads(saved.read_text())


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"directories": [{"name": "X", "domains": [], "tenant": "y"}]}, "unknown field"),
        ({"directories": [{"name": "X", "domains": "x.com"}]}, "expected a list"),
        ({"token_lifetime_seconds": "long"}, "expected int"),
        ({"apps": [{"name": "X"}]}, "directory_id"),
    ],
)
def test_it_refuses_a_state_file_with_mistakes(tmp_path, data, problem):
    path = tmp_path / "state.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=problem):
        load_state(path)


def test_it_starts_empty():
    assert to_plain(State())["directories"] == []
