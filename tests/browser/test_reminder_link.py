import re
from datetime import timedelta

from django.core import mail
from django.utils import timezone

from onboarding import tasks
from tests.conftest import PASSWORD
from tests.onboarding.secrets_factory import make_secret


def reminder_link(settings, live_server, tenant) -> str:
    """Run the daily scan for a secret expiring in a week; the link in its e-mail."""
    settings.PORTAL_BASE_URL = live_server.url
    make_secret(tenant, timezone.now().date() + timedelta(days=7))
    tasks.scan_expiring_secrets()
    (message,) = mail.outbox
    (link,) = re.findall(r"^http\S+/renew/$", str(message.body), re.MULTILINE)
    return link


def sign_in(page, user) -> None:
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_it_takes_the_admin_from_the_reminder_to_renewal(
    page, live_server, acme, alice, settings, screenshot
):
    link = reminder_link(settings, live_server, acme)
    page.goto(link)
    page.get_by_role("heading", name="Sign in").wait_for()
    screenshot(page, "sign-in-from-reminder")
    sign_in(page, alice)
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    screenshot(page, "after-reminder-link")
    assert page.url.startswith(live_server.url)
    assert "Page not found" not in page.content()
    page.wait_for_url(f"**/onboarding/{acme.pk}/**")
    assert page.get_by_role("heading", level=1).count() == 1


def test_it_shows_another_tenants_admin_a_not_found_page(
    page, live_server, acme, alice, bob, settings
):
    link = reminder_link(settings, live_server, acme)
    page.goto(link)
    sign_in(page, bob)
    page.wait_for_url(link)
    page.get_by_role("heading", name="Page not found").wait_for()
    assert "Acme" not in page.content()
