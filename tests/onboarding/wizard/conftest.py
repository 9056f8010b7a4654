"""Shared set-up for the wizard's page tests."""

import pytest
from django.urls import reverse


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
