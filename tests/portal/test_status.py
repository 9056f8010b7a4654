"""The one rule for a tenant's state (onboarding.status), and the start page that shows it.

Issue 15, finding 1: after the Done page the start page said "Setup: step 7 of 7 ·
Continue the setup" (every tenant got that button, step 7 included) and support's
"Failing" counted tenants whose first check failed during the setup."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from microsoft_emulator.scenarios import ready_directory
from onboarding import status
from onboarding.models import AppRegistration, Tenant
from onboarding.steps import DONE, STEP_COUNT
from tests.onboarding.check_helpers import through_the_wizard

pytestmark = pytest.mark.django_db

HEALTHS = [value for value, _ in Tenant.Health.choices]


@pytest.mark.parametrize(
    ("step", "health", "key", "label", "setup_left"),
    [
        (7, "healthy", "connected", "Connected", False),
        (7, "unknown", "checking", "Waiting for a check", False),
        (7, "degraded", "partly", "Partly working", False),
        (7, "failing", "failing", "Not working", False),
        (7, "expired", "expired", "Secret expired", False),
        # During the setup the step decides, whatever the first checks said.
        (6, "degraded", "setup", "Setup in progress", True),
        (3, "failing", "setup", "Setup in progress", True),
        (1, "unknown", "setup", "Setup in progress", True),
    ],
)
def test_the_rule(step, health, key, label, setup_left):
    state = status.state_of(onboarding_step=step, health=health)
    assert (state.key, state.label, state.setup_left) == (key, label, setup_left)


def test_a_tenant_in_setup_is_told_its_next_step():
    state = status.state_of(onboarding_step=3, health="unknown")
    assert state.sentence == "Step 3 of 7 is next: API permissions and admin consent."


def test_an_unknown_health_value_is_not_shown_as_connected():
    assert status.state_of(onboarding_step=DONE, health="bogus").key == "checking"


def test_the_database_filters_say_what_the_rule_says():
    # STATE_FILTERS is the rule again, as SQL: every step and health lands in exactly
    # the state state_of gives it.
    for step, health in itertools.product(range(1, STEP_COUNT + 1), HEALTHS):
        Tenant.objects.create(name=f"{step}-{health}", onboarding_step=step, health=health)
    for tenant in Tenant.objects.all():
        matching = [
            key
            for key, condition in status.STATE_FILTERS.items()
            if Tenant.objects.filter(condition, pk=tenant.pk).exists()
        ]
        assert matching == [status.tenant_state(tenant).key], tenant.name


def main_text(response) -> str:
    html = response.content.decode().split('id="main"', 1)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_tenant_that_finished_the_wizard_is_connected_everywhere(
    client, alice, acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    """The reproduction: steps 1-3 as the admin leaves them, the secret and the mailbox
    saved through the wizard's pages, the real check (emulator) passing."""
    client.force_login(alice)
    ready = ready_directory(emulated_microsoft)
    AppRegistration.objects.create(
        tenant=acme, client_id=ready.app.client_id, directory=ready.directory.id
    )
    through_the_wizard(acme, ready)

    def url(name):
        return reverse(f"onboarding:{name}", args=[acme.pk])

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url("secret"),
            {"value": ready.secret.value, "secret_id": ready.secret.key_id, "expiry": "180"},
        )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("mailbox"), {"address": ready.mailbox.upn})
    acme.refresh_from_db()
    assert (acme.onboarding_step, acme.health) == (DONE, "healthy")

    done = main_text(client.get(url("done")))
    home = main_text(client.get("/"))
    for page in (done, home):
        assert "Connected" in page
        assert ready.mailbox.upn in page
        assert "Last good check" in page
        expires = (timezone.localdate() + timedelta(days=180)).strftime("%-d %b %Y")
        assert f"Client secret expires {expires}" in page
    assert "Continue the setup" not in home
    assert "Setup: step" not in home
    assert "Before you start" not in home  # nothing left to start
    assert "See the connection" in home


def test_the_start_page_offers_the_setup_while_a_step_is_left(client, alice, acme):
    client.force_login(alice)
    Tenant.objects.filter(pk=acme.pk).update(onboarding_step=4, health="degraded")
    home = main_text(client.get("/"))
    assert "Setup in progress" in home
    assert "Setup: step 4 of 7, Client secret" in home
    assert "Continue the setup" in home
    assert "Partly working" not in home  # a failed first check is a step to finish


def test_the_start_page_says_who_can_grant_consent_before_the_start(client, alice, acme):
    client.force_login(alice)
    response = client.get("/")
    page = main_text(response)
    assert "Before you start" in page
    assert '<details class="card card-body mb-3" open>' in response.content.decode()
    assert "Global Administrator or Privileged Role Administrator" in page
    assert "the two application administrator roles cannot grant it" in page
    assert "About 15 minutes" in page


def test_a_finished_tenant_whose_check_broke_is_not_sent_back_into_the_setup(client, alice, acme):
    client.force_login(alice)
    Tenant.objects.filter(pk=acme.pk).update(onboarding_step=DONE, health="failing")
    home = main_text(client.get("/"))
    assert "Not working" in home
    assert "Continue the setup" not in home
    assert "See what needs doing" in home
