"""Shared set-up for the wizard's page tests."""

import pytest
from django.urls import reverse


class DomainDirectory:
    """Stands in for the mailbox form's domain lookup (OpenID discovery). Without an
    answer set for a domain it reports Microsoft unreachable, in which case the form
    warns about nothing, as before the lookup existed."""

    def __init__(self) -> None:
        self.answers: dict[str, str | None] = {}
        self.lookups: list[str] = []

    def __call__(self, domain: str) -> str:
        from onboarding import microsoft

        self.lookups.append(domain)
        if domain not in self.answers:
            raise microsoft.MicrosoftError("unreachable", "timed out", transient=True)
        answer = self.answers[domain]
        if answer is None:
            raise microsoft.MicrosoftError("AADSTS90002", f"Tenant '{domain}' not found.", 400)
        return answer


@pytest.fixture(autouse=True)
def domain_directory(monkeypatch) -> DomainDirectory:
    """No wizard page test reaches Microsoft to look up a mailbox's domain."""
    fake = DomainDirectory()
    monkeypatch.setattr("onboarding.wizard.forms.directory_of_domain", fake)
    return fake


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def at_mailbox_step(acme_consented):
    """Acme with steps 1-4 done: the mailbox step is open."""
    from tests.onboarding.conftest import make_secret

    make_secret(acme_consented)
    return acme_consented


def mailbox_url(tenant):
    return reverse("onboarding:mailbox", args=[tenant.pk])
