"""The commands the portal generates (onboarding.scope.commands), run by the emulator's
Exchange Online (its commands endpoint) as the admin would run them: the app then
reads the scoped mailbox and is refused another, and the removal lines undo it."""

from __future__ import annotations

import pytest

from microsoft_emulator.scenarios import ready_directory
from onboarding.scope.commands import commands_for
from tests.microsoft_emulator import conftest as emulator_fixtures
from tests.microsoft_emulator.test_exchange_roles import read
from tests.microsoft_emulator.test_exchange_scopes import entra_object_id

# The emulator tests' fixtures (tests/microsoft_emulator/conftest.py).
http, cca = emulator_fixtures.http, emulator_fixtures.cca


@pytest.fixture
def unconsented(emulator):
    """Contoso's app with no Entra Mail consent, and a second mailbox outside the scope."""
    ready = ready_directory(emulator, consent=False)
    emulator.add_user(ready.directory, OTHER, "Sl-pass-1")
    return ready


OTHER = "sales@contoso.onmicrosoft.com"


def generated(emulator, ready):
    return commands_for(
        client_id=ready.app.client_id,
        service_principal_object_id=entra_object_id(emulator, ready),
        display_name="Contoso operations app",
        scope_name="Contoso dispatch",
        mailboxes=[ready.mailbox.upn],
    )


def test_the_generated_setup_scopes_the_app_to_the_mailbox(emulator, http, cca, unconsented):
    ready = unconsented
    lines = [command.text for command in generated(emulator, ready).setup]
    run = emulator.exchange_commands(ready.directory, lines)
    assert run.ok, run.results
    assert [r["result"] for r in run.results] == ["ignored"] + ["ok"] * (len(lines) - 1)
    [test] = [
        r for r in run.results if str(r["command"]).startswith("Test-ServicePrincipalAuthorization")
    ]
    assert {row["InScope"] for row in test["rows"]} == {"True"}
    app = cca(ready.app.client_id, ready.secret.value, ready.directory.id)
    token = app.acquire_token_for_client([f"{emulator.graph_url}/.default"])["access_token"]
    assert read(http, emulator, token, ready.mailbox.upn).status_code == 200
    assert read(http, emulator, token, OTHER).status_code == 403


def test_the_generated_removal_undoes_it(emulator, http, cca, unconsented):
    ready = unconsented
    commands = generated(emulator, ready)
    assert emulator.exchange_commands(ready.directory, [c.text for c in commands.setup]).ok
    run = emulator.exchange_commands(ready.directory, [c.text for c in commands.removal])
    assert run.ok, run.results
    removed = [r.get("removed") for r in run.results if "removed" in r]
    assert [len(names) for names in removed] == [1, 1]  # Mail.Read's, then Mail.Send's
    app = cca(ready.app.client_id, ready.secret.value, ready.directory.id)
    token = app.acquire_token_for_client([f"{emulator.graph_url}/.default"])["access_token"]
    assert read(http, emulator, token, ready.mailbox.upn).status_code == 403
