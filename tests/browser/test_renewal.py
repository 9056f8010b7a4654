"""From the reminder e-mail to a renewed, verified secret, as an admin would."""

import re
from datetime import timedelta

from django.core import mail
from django.utils import timezone

from microsoft_emulator.scenarios import ready_directory
from onboarding import tasks
from onboarding.models import ClientSecret
from tests.conftest import PASSWORD
from tests.onboarding.check_helpers import configure


def test_it_renews_from_the_reminder_link(
    page, live_server, settings, emulated_microsoft, emulator, acme, alice, screenshot
):
    settings.PORTAL_BASE_URL = live_server.url
    ready = ready_directory(emulator)
    configure(acme, ready)
    ClientSecret.objects.update(expires_on=timezone.now().date() + timedelta(days=7))
    tasks.scan_expiring_secrets()
    (reminder,) = mail.outbox
    (link,) = re.findall(r"^http\S+/renew/$", str(reminder.body), re.MULTILINE)
    new = emulator.add_secret(ready.app, display_name="Renewed")

    page.goto(link)
    page.get_by_label("E-mail address").fill(alice.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=re.compile("Renew the client secret")).wait_for()
    screenshot(page, "renew-form")
    page.get_by_label("Value").fill(new.value)
    page.get_by_label("Secret ID").fill(new.key_id)
    page.get_by_role("button", name="Verify and switch to the new secret").click()
    page.get_by_role("heading", name=re.compile("is now in use")).wait_for()
    screenshot(page, "renewed")
    assert ready.secret.key_id in page.content()
    assert new.value not in page.content()
