"""A failed renewal against the emulated Entra, for the guide's account type: Entra then
refuses the next secret, the portal names the one to delete, and renewal works again."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from accounts.actors import Actor
from microsoft_emulator.app_limits import TooManyAppPasswords
from microsoft_emulator.scenarios import ready_directory
from onboarding.client_secrets import secret_deleted_in_entra
from onboarding.models import CheckRun, ClientSecret
from onboarding.renewal import workflow as renewal
from onboarding.renewal.limits import secret_room
from onboarding.tasks import enqueue_requested
from tests.onboarding.check_helpers import configure

GUIDE_AUDIENCE = "AzureADandPersonalMicrosoftAccount"


@pytest.fixture
def configured(emulated_microsoft, emulator, acme):
    ready = ready_directory(emulator)
    emulator.update_app(ready.app, sign_in_audience=GUIDE_AUDIENCE)
    configure(acme, ready)
    return ready, ClientSecret.objects.get(app__tenant=acme)


def renew(app, value, secret_id, alice, capture):
    with capture(execute=True):
        requested = renewal.renewal_start(
            app=app,
            value=value,
            secret_id=secret_id,
            expires_on=date.today() + timedelta(days=180),
            actor=Actor(user=alice),
        )
        enqueue_requested(requested)
    requested.run.refresh_from_db()
    return requested.run


def test_after_a_failed_renewal_the_portal_names_the_secret_entra_needs_gone(
    configured, emulator, alice, django_capture_on_commit_callbacks
):
    ready, old = configured
    created = emulator.add_secret(ready.app, display_name="Renewal")
    typo = created.value[:-1] + ("A" if created.value[-1] != "A" else "B")
    failed = renew(old.app, typo, created.key_id, alice, django_capture_on_commit_callbacks)
    assert failed.status == CheckRun.Status.FAILED

    # Entra (emulated) now refuses a third secret, as the real one does ...
    with pytest.raises(TooManyAppPasswords):
        emulator.add_secret(ready.app)
    # ... and the portal, from its own records, names the one to delete: the failed one.
    room = secret_room(old.app)
    to_delete = room.to_delete
    assert room.at_limit
    assert to_delete is not None
    assert str(to_delete.secret_id) == created.key_id
    assert room.active == old

    ready.app.secrets = [s for s in ready.app.secrets if s.key_id != created.key_id]
    assert secret_deleted_in_entra(to_delete, actor=Actor(user=alice))
    assert not secret_room(old.app).at_limit

    fresh = emulator.add_secret(ready.app, display_name="Renewal 2")
    passed = renew(old.app, fresh.value, fresh.key_id, alice, django_capture_on_commit_callbacks)
    assert passed.status == CheckRun.Status.PASSED
    after = secret_room(old.app)
    assert after.active is not None
    assert str(after.active.secret_id) == fresh.key_id
    # The replaced secret now takes the second place: the next renewal deletes it first.
    assert after.at_limit
    assert after.to_delete is not None
    assert after.to_delete.secret_id == old.secret_id
