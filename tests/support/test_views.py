import pytest
from django.core import mail

from accounts.actors import Actor
from onboarding.invitations import services as invitations
from onboarding.models import AuditEvent, Invitation, Tenant
from tests.two_factor import sign_in_verified

PAGES = ["/support/", "/support/tenants/new/"]


@pytest.mark.parametrize("path", PAGES)
def test_it_hides_support_pages_from_tenant_admins(client, alice, path):
    client.force_login(alice)
    assert client.get(path).status_code == 404


def test_it_hides_a_tenant_page_from_tenant_admins(client, alice, acme):
    client.force_login(alice)
    assert client.get(f"/support/tenants/{acme.pk}/").status_code == 404
    assert (
        client.post(f"/support/tenants/{acme.pk}/invite/", {"email": "x@y.example"}).status_code
        == 404
    )
    assert not Invitation.objects.exists()


def test_it_hides_support_pages_from_plain_staff(client, charlie):
    charlie.groups.clear()
    sign_in_verified(client, charlie)
    assert client.get("/support/").status_code == 404


@pytest.mark.parametrize("path", PAGES)
def test_it_sends_anonymous_visitors_to_sign_in(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_it_lists_tenants(client, charlie, acme, alice, globex):
    sign_in_verified(client, charlie)
    response = client.get("/support/")
    assert [t.name for t in response.context["tenants"]] == ["Acme Logistics", "Globex Freight"]


def test_it_creates_a_tenant_and_invites_its_admin(
    client, charlie, django_capture_on_commit_callbacks
):
    sign_in_verified(client, charlie)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/support/tenants/new/",
            {"name": " Contoso  Freight ", "admin_email": "ian@contoso.example"},
        )
    tenant = Tenant.objects.get(name="Contoso Freight")
    assert response["Location"] == f"/support/tenants/{tenant.pk}/"
    (message,) = mail.outbox
    assert message.to == ["ian@contoso.example"]
    invitation = tenant.invitations.get()
    assert invitation.invited_by == charlie
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"tenant.created", "invitation.sent"} <= actions


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "admin_email": "ian@contoso.example"},
        {"name": "Contoso", "admin_email": "not-an-address"},
        {"name": "acme logistics", "admin_email": "ian@acme.example"},
        {"name": "x" * 201, "admin_email": "ian@contoso.example"},
    ],
)
def test_it_rejects_a_bad_new_tenant(client, charlie, acme, data):
    sign_in_verified(client, charlie)
    response = client.post("/support/tenants/new/", data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Tenant.objects.count() == 1
    assert not Invitation.objects.exists()


def test_it_invites_another_admin(client, charlie, acme, django_capture_on_commit_callbacks):
    sign_in_verified(client, charlie)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/support/tenants/{acme.pk}/invite/", {"email": "eve@acme.example"})
    assert response.status_code == 302
    assert mail.outbox[0].to == ["eve@acme.example"]
    page = client.get(response["Location"])
    assert "Invitation sent to eve@acme.example" in page.content.decode()


def test_it_explains_why_an_invitation_is_refused(client, charlie, acme, alice):
    sign_in_verified(client, charlie)
    response = client.post(f"/support/tenants/{acme.pk}/invite/", {"email": alice.email})
    assert response.status_code == 400
    assert "already an admin" in response.context["form"].errors["email"][0]


def test_it_answers_404_for_an_unknown_tenant(client, charlie):
    sign_in_verified(client, charlie)
    assert client.get("/support/tenants/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get("/support/tenants/not-a-uuid/").status_code == 404


def test_it_resends_an_invitation(client, charlie, acme, django_capture_on_commit_callbacks):
    old, _ = invitations.invitation_create(
        tenant=acme, email="eve@acme.example", actor=Actor(user=charlie)
    )
    sign_in_verified(client, charlie)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/support/invitations/{old.pk}/resend/")
    assert response["Location"] == f"/support/tenants/{acme.pk}/"
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert len(mail.outbox) == 1


def test_it_resends_only_by_post(client, charlie, acme):
    old, _ = invitations.invitation_create(
        tenant=acme, email="eve@acme.example", actor=Actor(user=charlie)
    )
    sign_in_verified(client, charlie)
    assert client.get(f"/support/invitations/{old.pk}/resend/").status_code == 405


# Real commits, so that the e-mail is attempted inside the request, as in production.
@pytest.mark.django_db(transaction=True)
def test_it_tells_support_when_the_mail_could_not_be_sent(client, charlie, acme, settings):
    settings.EMAIL_BACKEND = "tests.onboarding.failing_mail.Backend"
    sign_in_verified(client, charlie)
    response = client.post(
        f"/support/tenants/{acme.pk}/invite/", {"email": "eve@acme.example"}, follow=True
    )
    assert "could not be sent" in response.content.decode()
    assert Invitation.objects.filter(email="eve@acme.example").exists()
