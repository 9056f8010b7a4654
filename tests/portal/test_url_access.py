"""Every URL of the project, for every kind of visitor.

The URL patterns are enumerated from the resolver (recursively, the admin's included),
their arguments filled with the ids of real objects of Acme, a tenant the visitors do
not belong to. A new URL is covered the day it is added; a new kind of argument fails
the test until it is given a real object here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.actors import Actor
from accounts.models import User
from api import keys
from onboarding import vault
from onboarding.invitations import services as invitations
from onboarding.models import (
    AppRegistration,
    AuditEvent,
    CertificateDraft,
    CheckRun,
    ClientSecret,
    Mailbox,
    Membership,
    Tenant,
)
from tests.conftest import PASSWORD
from tests.two_factor import confirmed_device, sign_in_verified
from webhooks.models import Delivery, Endpoint, OutboxEvent

# Reachable without signing in, by design.
PUBLIC = {
    "healthz",
    "readyz",
    "accounts:login",
    "accounts:logout",
    "accounts:password-reset",
    "accounts:password-reset-sent",
    "accounts:password-reset-confirm",
    "accounts:password-reset-complete",
    "invitations:accept",
    "onboarding:consent-callback",
    "onboarding:consent-forwarded",
    # The mailbox owner's sign-in: Microsoft's return, and the owner's signed link.
    "onboarding:connect-callback",
    "onboarding:connect-owner",
    # The portal registering an app: Microsoft's return (a colleague from a forwarded
    # link has no portal account), and that signed link.
    "onboarding:provisioning-callback",
    "onboarding:provisioning-forwarded",
}
# The second-factor pages themselves: a signed-in staff member without a verified
# session must be able to open them (that is how the session gets verified).
TWO_FACTOR = {"support:two-factor", "support:two-factor-setup"}
STAFF_PREFIXES = ("/support/", "/admin/", "/checks/")
# Arguments that name one of Acme's objects: such a URL is tenant-scoped.
ID_KWARGS = {
    "tenant_id",
    "mailbox_id",
    "run_id",
    "check_run_id",
    "invitation_id",
    "secret_pk",
    "object_id",
    "pk",
    "content_type_id",
    # Support's pages of the operations app's API (service accounts, webhook endpoints).
    "account_id",
    "key_id",
    "endpoint_id",
    "delivery_id",
    # Step 4's certificate, made for the admin to upload.
    "draft_id",
}
OTHER_KWARGS = {"token", "uidb64", "app_label", "url"}


def _walk(resolver: URLResolver, ns: str = "", prefix: str = "") -> Iterator[tuple[str, str]]:
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{ns}{pattern.namespace}:" if pattern.namespace else ns
            yield from _walk(pattern, inner, route)
        else:
            assert isinstance(pattern, URLPattern)
            yield (f"{ns}{pattern.name}" if pattern.name else f"{ns}<unnamed>"), route


def all_routes() -> list[tuple[str, str]]:
    return list(_walk(get_resolver()))


ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


class Acme:
    """Real objects of a tenant nobody visiting here belongs to (except its admin)."""

    def __init__(self, tenant: Tenant, staff: User) -> None:
        self.tenant = tenant
        self.app = AppRegistration.objects.create(
            tenant=tenant, client_id=uuid.uuid4(), directory="acme"
        )
        self.secret = ClientSecret(
            app=self.app, secret_id=str(uuid.uuid4()), expires_on="2030-01-31"
        )
        self.secret.set_value("abc8Q~url-access-test-secret")
        self.secret.save()
        self.draft = CertificateDraft(
            tenant=tenant,
            app=self.app,
            certificate_pem="-----BEGIN CERTIFICATE-----",
            thumbprint="AB" * 20,
        )
        self.draft.expires_on = "2030-01-31"
        vault.seal(self.draft, "private_key", "-----BEGIN PRIVATE KEY-----")
        self.draft.save()
        self.mailbox = Mailbox.objects.create(tenant=tenant, address="ops@acme.example")
        self.run = CheckRun.objects.create(mailbox=self.mailbox, trigger="support", status="passed")
        self.invitation, self.token = invitations.invitation_create(
            tenant=tenant, email="eve@acme.example", actor=Actor(user=staff)
        )
        self.service_key = keys.create_account(
            name="Acme operations app", scopes=["connections:read"], tenants=[tenant]
        ).key
        self.endpoint = Endpoint.objects.create(
            owner=self.service_key.account,
            url="https://hooks.acme.example/portal",
            events=["connection.failing"],
        )
        connection = uuid.uuid4()
        event = OutboxEvent.objects.create(
            id="msg_url_access",
            type="connection.failing",
            tenant_id=tenant.pk,
            connection_id=connection,
            sequence=1,
            payload={"type": "connection.failing"},
        )
        self.delivery = Delivery.objects.create(
            event=event, endpoint=self.endpoint, connection_id=connection, sequence=1
        )

    def value(self, name: str, route: str) -> str:
        by_name = {
            "tenant_id": self.tenant.pk,
            "draft_id": self.draft.pk,
            "mailbox_id": self.mailbox.pk,
            "run_id": self.run.pk,
            "check_run_id": self.run.pk,
            "invitation_id": self.invitation.pk,
            "secret_pk": self.secret.pk,
            "account_id": self.service_key.account_id,
            "key_id": self.service_key.pk,
            "endpoint_id": self.endpoint.pk,
            "delivery_id": self.delivery.pk,
            "content_type_id": ContentType.objects.get_for_model(Mailbox).pk,
            "token": self.token if route.startswith("invitations/") else "not-a-token",
            "uidb64": "MQ",
            "app_label": "onboarding",
            "url": "no-such-page",
        }
        if name in {"object_id", "pk"}:
            return str(self._admin_object(route).pk)
        assert name in by_name, f"{route}: give the argument {name!r} a real object"
        return str(by_name[name])

    def _admin_object(self, route: str):
        match = re.match(r"admin/(\w+)/(\w+)/", route)
        if not match:  # admin/r/<content_type_id>/<object_id>/: the "view on site" link
            return self.mailbox
        model = apps.get_model(match[1], match[2])
        obj = model._default_manager.first()
        assert obj is not None, f"{route}: create a {model.__name__} in acme_objects"
        return obj

    def url(self, route: str) -> str:
        path = ARGUMENT.sub(lambda m: self.value(m[1] or m[2], route), route)
        return "/" + path.replace("^", "").replace("$", "")


@pytest.fixture
def acme_objects(acme, alice, charlie) -> Acme:
    objects = Acme(acme, charlie)
    confirmed_device(alice)  # a TOTP device and an audit event for the admin's pages
    AuditEvent.objects.create(action="test.event", tenant=acme)
    when = timezone.now()
    AccessAttempt.objects.create(
        username="eve@acme.example", failures_since_start=1, attempt_time=when
    )
    AccessLog.objects.create(username="eve@acme.example", attempt_time=when)
    AccessFailureLog.objects.create(username="eve@acme.example", attempt_time=when)
    return objects


def visit(client, name: str, url: str):
    """GET, and POST too when the view takes only POST (or to try writing)."""
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    return response


def targets(acme_objects: Acme) -> list[tuple[str, str, str]]:
    # The API (/api/v1/) takes no session: every visitor here gets its 401 problem.
    # tests/api/test_access.py walks it with keys of every scope and tenant list.
    return [
        (name, route, acme_objects.url(route))
        for name, route in all_routes()
        if not route.startswith("api/")
    ]


def test_it_knows_every_argument_of_every_url():
    for _, route in all_routes():
        for match in ARGUMENT.finditer(route):
            assert (match[1] or match[2]) in ID_KWARGS | OTHER_KWARGS, route


def test_it_enumerates_the_admin_and_the_staff_pages():
    names = {name for name, _ in all_routes()}
    assert {"admin:index", "admin:otp_totp_totpdevice_delete", "checks:mailbox-check"} <= names
    assert "support:tenant-detail" in names


def _location(response) -> str:
    return response.get("Location", "")


def test_anonymous_visitors_get_a_sign_in_page_or_a_404(client, acme_objects):
    wrong = []
    for name, _route, url in targets(acme_objects):
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            status = response.status_code
            if name in PUBLIC:
                ok = status < 500
            else:
                ok = status == 404 or (
                    status == 302 and _location(response).startswith("/accounts/login/")
                )
            if not ok:
                wrong.append((method, url, status, _location(response)))
    assert wrong == []


def test_another_tenants_admin_gets_a_404_on_every_tenant_scoped_url(client, bob, acme_objects):
    client.force_login(bob)
    wrong = []
    for name, route, url in targets(acme_objects):
        scoped = url.startswith(STAFF_PREFIXES) or any(
            (m[1] or m[2]) in ID_KWARGS for m in ARGUMENT.finditer(route)
        )
        if not scoped or name in PUBLIC:
            continue
        for method in ("get", "post"):
            status = getattr(client, method)(url).status_code
            # 405 only where the view takes the other method, which answered 404.
            if status != 404 and not (
                status == 405 and visit(client, name, url).status_code == 404
            ):
                wrong.append((method, url, status))
    assert wrong == []


def _writes() -> tuple[int, ...]:
    return (
        AuditEvent.objects.count(),
        LogEntry.objects.count(),
        TOTPDevice.objects.count(),
        Membership.objects.count(),
        Tenant.objects.count(),
        Mailbox.objects.count(),
        ClientSecret.objects.count(),
        CheckRun.objects.count(),
    )


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser("root@vendor.example", PASSWORD)


@pytest.mark.parametrize("who", ["support staff", "superuser"])
def test_staff_without_a_verified_second_factor_open_no_staff_page(
    client, charlie, root, acme_objects, who
):
    user = charlie if who == "support staff" else root
    confirmed_device(user)
    client.force_login(user)
    before = _writes()
    wrong = []
    for name, _route, url in targets(acme_objects):
        if not url.startswith(STAFF_PREFIXES) or name in TWO_FACTOR:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            status, location = response.status_code, _location(response)
            ok = status == 404 or (status == 302 and location.startswith("/support/2fa/"))
            if not ok:
                wrong.append((method, url, status, location))
    assert wrong == []
    assert _writes() == before


def test_verified_support_staff_are_let_through_but_not_into_the_admin(
    client, charlie, acme_objects
):
    sign_in_verified(client, charlie)
    wrong = []
    for name, _route, url in targets(acme_objects):
        if not url.startswith(STAFF_PREFIXES) or name in TWO_FACTOR:
            continue
        response = visit(client, name, url)
        status, location = response.status_code, _location(response)
        if url.startswith("/admin/"):
            ok = status == 404  # superusers only
        else:
            ok = status < 500 and status != 404 and not location.startswith("/support/2fa/")
        if not ok:
            wrong.append((url, status, location))
    assert wrong == []


def test_a_verified_superuser_opens_the_admin(client, root, acme_objects):
    sign_in_verified(client, root)
    wrong = []
    for name, _route, url in targets(acme_objects):
        if not url.startswith("/admin/") or name == "admin:logout":
            continue
        response = client.get(url)
        status, location = response.status_code, _location(response)
        if status >= 500 or location.startswith(("/support/2fa/", "/accounts/login/")):
            wrong.append((url, status, location))
    assert wrong == []
