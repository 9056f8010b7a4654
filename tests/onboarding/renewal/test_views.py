import uuid

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD


def renew_url(tenant_id) -> str:
    return reverse("onboarding:renew-secret", args=[tenant_id])


def test_it_asks_a_stranger_to_sign_in_first(client, acme):
    response = client.get(renew_url(acme.pk))
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/onboarding/{acme.pk}/renew/"


def test_it_hides_another_tenant_behind_a_404(client, acme, alice, globex):
    client.force_login(alice)
    assert client.get(renew_url(globex.pk)).status_code == 404


def test_it_hides_every_tenant_from_support_staff(client, acme, charlie):
    client.force_login(charlie)
    assert client.get(renew_url(acme.pk)).status_code == 404


@pytest.mark.parametrize(
    "path", [f"/onboarding/{uuid.uuid4()}/renew/", "/onboarding/not-a-uuid/renew/"]
)
def test_it_answers_404_to_an_unknown_or_malformed_tenant(client, alice, path):
    client.force_login(alice)
    assert client.get(path).status_code == 404


def test_it_lets_the_admin_sign_in_and_carries_on(client, acme, alice):
    response = client.post(
        f"/accounts/login/?next={renew_url(acme.pk)}",
        {"username": alice.email, "password": PASSWORD, "next": renew_url(acme.pk)},
        follow=True,
    )
    assert response.redirect_chain[0][0] == renew_url(acme.pk)
    assert response.status_code == 200
