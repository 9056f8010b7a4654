"""The admin's sign-in to the vendor's provisioning app, for the portal to register the
customer's own app with their delegated token: the authorization code flow with PKCE
through msal, to a public client (the provisioning app holds no credential, so nothing
of it can leak; a stolen client ID gets no token without an admin signing in).

The state is single use (ConsentUse), bound to the session, the portal user and the
tenant, valid ten minutes; msal checks the state and the ID token's nonce. The tokens
Microsoft returns live in the callback's request only: the access token is handed to
the workflow and dropped with it; the refresh token msal receives is never read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core import signing
from django.urls import reverse

from onboarding import callback_state
from onboarding.microsoft import MicrosoftError, signin
from onboarding.models import ConsentUse, Tenant

STATE_TTL = timedelta(minutes=10)
SESSION_KEY = "onboarding_provisioning_states"
MAX_PENDING = 5
STATE_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
MAX_PARAM = 8192
KNOWN_PARAMS = callback_state.AUTH_CODE_PARAMS
# The delegated permissions the registration needs, each for its call: register the app
# (Application.ReadWrite.All), grant it Graph's app roles (AppRoleAssignment.ReadWrite.All),
# read Graph's service principal and the apps of the directory (Application.Read.All),
# read the app management policies (Policy.Read.ApplicationConfiguration), and the
# admin's own roles (User.Read, /me/transitiveMemberOf).
SCOPES = (
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "Application.Read.All",
    "Policy.Read.ApplicationConfiguration",
    "User.Read",
)
CREDENTIAL_KINDS = ("certificate", "secret")
FAILURE_KINDS = {
    "AADSTS65004": "declined",
    "AADSTS90094": "not_admin",
    "AADSTS50011": "redirect_uri",
    "AADSTS700016": "app_not_found",
    "consent_required": "declined",
    "interaction_required": "interaction",
    "AADSTS53003": "interaction",
}


class SignInRejected(Exception):
    """A callback that cannot be trusted: answer 400, change nothing. Never holds input."""


STATES = callback_state.States(SESSION_KEY, STATE_TTL, STATE_RE, MAX_PENDING, SignInRejected)


@dataclass(frozen=True)
class SignedIn:
    """Who signed in, where, and the token for this one registration."""

    tenant: Tenant
    credential_kind: str
    # A colleague's sign-in from a forwarded link (no portal account): its key.
    forward_key: str = ""
    directory_id: str = ""
    username: str = ""
    access_token: str = field(default="", repr=False)
    failure: str = ""  # a FAILURE_KINDS value, or "other"
    code: str = ""
    message: str = ""


def enabled() -> bool:
    return bool(settings.PORTAL_PROVISIONING_APP_ID)


def callback_url() -> str:
    return settings.PORTAL_BASE_URL + reverse("onboarding:provisioning-callback")


def start(
    session: SessionBase,
    tenant: Tenant,
    *,
    user_id: str | None,
    credential_kind: str,
    forward: Forward | None = None,
) -> str:
    """Remember a fresh flow; Microsoft's sign-in URL (at `organizations`: the admin's
    directory is the one they sign in to, and the ID token names it). `forward`: a
    colleague's sign-in from the link an admin without the role sent them."""
    if credential_kind not in CREDENTIAL_KINDS:
        raise ValueError(f"credential_kind is one of {CREDENTIAL_KINDS}")
    flow = signin.start(
        authority="organizations",
        client_id=str(settings.PORTAL_PROVISIONING_APP_ID),
        client_secret=None,
        redirect_uri=callback_url(),
        login_hint="",
        scopes=SCOPES,
    )
    entry = {
        "flow": flow,
        "tenant": str(tenant.pk),
        "user": user_id,
        "credential_kind": credential_kind,
        "forward_key": forward.key if forward else "",
        "directory": forward.directory_id if forward else "",
    }
    STATES.remember(session, str(flow["state"]), entry)
    return str(flow["auth_uri"])


def callback(session: SessionBase, query: Any, *, user_id: str | None) -> SignedIn:
    """Check the callback and redeem its code. SignInRejected when untrusted;
    MicrosoftError when Microsoft fails transiently."""
    params = callback_state.single_params(
        query, KNOWN_PARAMS, max_length=MAX_PARAM, error=SignInRejected
    )
    state = params.get("state", "")
    entry = STATES.pop(session, state)
    callback_state.use_once(
        ConsentUse.Kind.PROVISIONING,
        callback_state.use_key(state),
        ttl=STATE_TTL,
        error=SignInRejected,
    )
    if entry.get("user") != user_id:
        raise SignInRejected("state made for another user")
    tenant = Tenant.objects.filter(pk=entry["tenant"]).first()
    if tenant is None or tenant.setup_mode != Tenant.SetupMode.AUTOMATIC:
        raise SignInRejected("the tenant left this way to connect since the sign-in started")
    kind = str(entry["credential_kind"])
    forward_key = str(entry.get("forward_key") or "")
    if forward_key and ConsentUse.objects.filter(key=forward_key, kind=FORWARD_USE).exists():
        raise SignInRejected("forwarded link used before")
    if "error" in params:
        code, message, _ = callback_state.error_code_and_words(params)
        failure = FAILURE_KINDS.get(code) or FAILURE_KINDS.get(params["error"], "other")
        if (params["error"], params.get("error_subcode")) == ("access_denied", "cancel"):
            failure = "not_admin" if code == "access_denied" else failure
        elif failure == "other" and params["error"] == "access_denied":
            failure = "declined"
        return SignedIn(tenant, kind, forward_key, failure=failure, code=code, message=message)
    try:
        result = signin.finish(
            authority="organizations",
            client_id=str(settings.PORTAL_PROVISIONING_APP_ID),
            client_secret=None,
            flow=entry["flow"],
            auth_response=params,
        )
    except signin.FlowRejected:
        raise SignInRejected("msal refused the state or nonce") from None
    except MicrosoftError as exc:
        if exc.transient:
            raise
        failure = FAILURE_KINDS.get(exc.code, "other")
        return SignedIn(
            tenant, kind, forward_key, failure=failure, code=exc.code, message=exc.message
        )
    if not result.tid or result.tid == signin.CONSUMERS_TENANT_ID:
        return SignedIn(tenant, kind, forward_key, failure="personal_account")
    if entry.get("directory") and result.tid.lower() != entry["directory"]:
        # A forwarded link registers in the directory of the admin who sent it only.
        return SignedIn(tenant, kind, forward_key, failure="wrong_directory")
    return SignedIn(
        tenant,
        kind,
        forward_key,
        directory_id=result.tid.lower(),
        username=result.username,
        access_token=result.access_token,
    )


# --- the link an admin without the role forwards to a colleague ---------------------

FORWARD_SALT = "onboarding.provisioning.forward"
FORWARD_MAX_AGE = timedelta(days=7)
FORWARD_USE = ConsentUse.Kind.FORWARD


@dataclass(frozen=True)
class Forward:
    """A forwarded link's request: for which tenant, by whom, in which directory (the
    one the asking admin signed in to: the colleague's registration must be there)."""

    tenant: Tenant
    asked_by: Any  # a User, or None when that user no longer administers the tenant
    directory_id: str
    key: str  # the hash its single use is recorded under


def forward_url(tenant: Tenant, *, asked_by: Any, directory_id: str) -> str:
    value = f"{tenant.pk.hex}.{asked_by.pk.hex}.{directory_id}"
    token = signing.TimestampSigner(salt=FORWARD_SALT).sign(value)
    return settings.PORTAL_BASE_URL + reverse("onboarding:provisioning-forwarded", args=[token])


def forward_request(token: str) -> Forward:
    """The request behind a forwarded link, while it is unused, at most seven days old,
    and its tenant still waits for its app. SignInRejected otherwise."""
    from accounts.models import User
    from onboarding.models import AppRegistration

    try:
        value = signing.TimestampSigner(salt=FORWARD_SALT).unsign(token, max_age=FORWARD_MAX_AGE)
    except signing.BadSignature:
        raise SignInRejected("forwarded link altered or expired") from None
    tenant_hex, asker_hex, directory_id = value.split(".", 2)
    tenant = Tenant.objects.filter(pk=tenant_hex).first()
    if tenant is None or tenant.setup_mode != Tenant.SetupMode.AUTOMATIC:
        raise SignInRejected("the tenant no longer waits for the portal to register its app")
    if AppRegistration.objects.filter(tenant=tenant).exists():
        raise SignInRejected("the app is registered already")
    key = callback_state.use_key(token)
    if ConsentUse.objects.filter(key=key, kind=FORWARD_USE).exists():
        raise SignInRejected("forwarded link used before")
    asked_by = User.objects.filter(pk=asker_hex, is_active=True, memberships__tenant=tenant).first()
    return Forward(tenant, asked_by, directory_id, key)


def use_forward(key: str) -> None:
    """The link is spent once a registration from it succeeded."""
    callback_state.use_once(FORWARD_USE, key, ttl=FORWARD_MAX_AGE, error=SignInRejected)
