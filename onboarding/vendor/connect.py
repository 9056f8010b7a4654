"""Vendor mode's one round trip: admin consent to the vendor's app, then a silent
sign-in that proves which directory consented.

1. `consent_url`: Microsoft's admin consent endpoint for the vendor's app, at
   `organizations` (the admin need not know their directory ID) or at the directory the
   tenant is bound to already, with a `state` kept in the session.
2. Microsoft sends the admin back with `admin_consent=True&tenant=<GUID>`. That tenant
   is not to be believed: "Never use the tenant ID value of the tenant parameter to
   authenticate or authorize users. The tenant ID value can be updated and sent by bad
   actors" (entra-docs v2-admin-consent.md; tests/recordings/
   adminconsent_success_organizations.json). With the vendor's one credential working in
   every directory that consented, a forged tenant would hand one customer another's
   mail. So `consent_returned` starts an authorization code flow with PKCE at that
   directory, for User.Read only, which the consent just granted: Microsoft signs the
   admin in without a page.
3. `signed_in`: msal redeems the code; the ID token (from the token endpoint, over TLS)
   names the directory (`tid`), and Graph's /me/transitiveMemberOf (User.Read) the
   account's roles. Only when it is the directory consent named, and the account may
   grant that consent (Global or Privileged Role Administrator), is the tenant bound.
   The tokens are dropped: nothing of the sign-in is stored.

Each state is single use (ConsentUse) and bound to the session and the portal user, as
for the customer's own app (onboarding.consent.flow).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.urls import reverse

from onboarding import callback_state, microsoft
from onboarding.microsoft import MicrosoftError, signin
from onboarding.models import AppRegistration, ConsentUse, Tenant
from onboarding.vendor import credential

STATE_TTL = timedelta(minutes=10)
SESSION_KEY = "onboarding_vendor_states"
MAX_PENDING = 5
STATE_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAX_PARAM = 8192
CONSENT_PARAMS = (
    "state",
    "admin_consent",
    "tenant",
    "scope",
    "error",
    "error_subcode",
    "error_description",
)
SIGN_IN_PARAMS = callback_state.AUTH_CODE_PARAMS
# The one delegated permission the proof asks for: the vendor's app lists it (README),
# so the admin's consent covers it and the sign-in shows no consent page.
PROOF_SCOPES = ("User.Read",)
# Microsoft's codes in the error redirects -> what the page says.
FAILURE_KINDS = {
    "AADSTS65004": "declined",
    "AADSTS90094": "not_admin",
    "AADSTS50011": "redirect_uri",
    "AADSTS700016": "app_not_found",
    "AADSTS50020": "wrong_directory",
    "consent_required": "consent_required",
    "AADSTS65001": "consent_required",
    "interaction_required": "interaction",
    "AADSTS53003": "interaction",
}


class ConnectRejected(Exception):
    """A callback that cannot be trusted: answer 400, change nothing. Never holds input."""


STATES = callback_state.States(SESSION_KEY, STATE_TTL, STATE_RE, MAX_PENDING, ConnectRejected)


@dataclass(frozen=True)
class ConnectFailure:
    # declined, not_admin, redirect_uri, app_not_found, wrong_directory, consent_required,
    # interaction, other_directory (the sign-in's directory is not the consent's),
    # not_admin_sign_in (the account that signed in may not grant consent), other
    kind: str
    code: str = ""
    message: str = ""


@dataclass(frozen=True)
class Returned:
    """A consent callback: where to send the browser next (the proving sign-in), or why
    consent was not granted."""

    tenant: Tenant
    next_url: str = ""
    failure: ConnectFailure | None = None


@dataclass(frozen=True)
class Proved:
    """The directory that consented, proved by the admin's own sign-in there."""

    tenant: Tenant
    directory_id: str = ""
    username: str = ""
    failure: ConnectFailure | None = None


def consent_callback_url() -> str:
    return settings.PORTAL_BASE_URL + reverse("onboarding:vendor-consent-callback")


def sign_in_callback_url() -> str:
    return settings.PORTAL_BASE_URL + reverse("onboarding:vendor-sign-in-callback")


def consent_url(session: SessionBase, tenant: Tenant, *, user_id: str | None) -> str:
    """Remember a fresh state; return Microsoft's admin consent URL for the vendor's app."""
    state = secrets.token_urlsafe(32)
    STATES.remember(session, state, {"tenant": str(tenant.pk), "user": user_id, "step": "consent"})
    app = AppRegistration.objects.filter(tenant=tenant, directory_id__isnull=False).first()
    directory = str(app.directory_id) if app is not None else "organizations"
    return microsoft.admin_consent_url(
        directory=directory,
        client_id=credential.client_id(),
        redirect_uri=consent_callback_url(),
        state=state,
    )


def consent_returned(session: SessionBase, query: Any, *, user_id: str | None) -> Returned:
    """Check the consent callback; on success start the proving sign-in at the
    directory it names. MicrosoftError when the vendor's credential cannot be used."""
    params = callback_state.single_params(
        query, CONSENT_PARAMS, max_length=MAX_PARAM, error=ConnectRejected
    )
    entry = _entry(session, params, ConsentUse.Kind.VENDOR_CONSENT, user_id, step="consent")
    tenant = _tenant(entry)
    if "error" in params:
        return Returned(tenant, failure=_failure(params))
    directory = params.get("tenant", "").lower()
    if params.get("admin_consent", "").lower() != "true" or not GUID_RE.match(directory):
        raise ConnectRejected("neither consent for a directory nor an error")
    vendor = credential.app_credential()
    try:
        flow = signin.start(
            authority=directory,
            client_id=vendor.client_id,
            client_secret=vendor.secret,
            certificate=vendor.certificate,
            redirect_uri=sign_in_callback_url(),
            login_hint="",
            scopes=PROOF_SCOPES,
            select_account=False,
        )
    except MicrosoftError as exc:
        if exc.transient:
            raise
        # Microsoft does not know the directory the callback names (AADSTS90002).
        return Returned(tenant, failure=ConnectFailure("other", exc.code, exc.message))
    sign_in_entry = {
        "tenant": entry["tenant"],
        "user": user_id,
        "step": "sign_in",
        "directory": directory,
        "flow": flow,
    }
    STATES.remember(session, str(flow["state"]), sign_in_entry)
    return Returned(tenant, next_url=str(flow["auth_uri"]))


def signed_in(session: SessionBase, query: Any, *, user_id: str | None) -> Proved:
    """Redeem the proving sign-in's code; the directory is proved when the ID token's
    `tid` is the one the consent named. The tokens go no further than this function."""
    params = callback_state.single_params(
        query, SIGN_IN_PARAMS, max_length=MAX_PARAM, error=ConnectRejected
    )
    entry = _entry(session, params, ConsentUse.Kind.VENDOR_SIGN_IN, user_id, step="sign_in")
    tenant = _tenant(entry)
    if "error" in params:
        return Proved(tenant, failure=_failure(params))
    vendor = credential.app_credential()
    try:
        result = signin.finish(
            authority=entry["directory"],
            client_id=vendor.client_id,
            client_secret=vendor.secret,
            certificate=vendor.certificate,
            flow=entry["flow"],
            auth_response=params,
        )
    except signin.FlowRejected:
        raise ConnectRejected("msal refused the state or nonce") from None
    except MicrosoftError as exc:
        if exc.transient:
            raise
        kind = FAILURE_KINDS.get(exc.code, "other")
        return Proved(tenant, failure=ConnectFailure(kind, exc.code, exc.message))
    if result.tid.lower() != entry["directory"]:
        return Proved(tenant, failure=ConnectFailure("other_directory"))
    # Only someone who may grant the consent proves the directory: a code that any user
    # of another directory was talked into handing over is not enough.
    try:
        roles = microsoft.signed_in_roles(access_token=result.access_token)
    except MicrosoftError as exc:
        if exc.transient:
            raise
        return Proved(tenant, failure=ConnectFailure("other", exc.code, exc.message))
    if not roles & microsoft.ROLES_THAT_GRANT_APP_ROLES:
        return Proved(tenant, failure=ConnectFailure("not_admin_sign_in"))
    return Proved(tenant, directory_id=entry["directory"], username=result.username)


def _entry(
    session: SessionBase, params: dict[str, str], kind: str, user_id: str | None, *, step: str
) -> dict[str, Any]:
    state = params.get("state", "")
    entry = STATES.pop(session, state)
    callback_state.use_once(
        kind, callback_state.use_key(state), ttl=STATE_TTL, error=ConnectRejected
    )
    if entry.get("user") != user_id or entry.get("step") != step:
        raise ConnectRejected("state made for another user or another step")
    return entry


def _tenant(entry: dict[str, Any]) -> Tenant:
    tenant = Tenant.objects.filter(pk=entry["tenant"]).first()
    if tenant is None or not tenant.uses_vendor_app:
        raise ConnectRejected("the tenant left vendor mode since consent was started")
    return tenant


def _failure(params: dict[str, str]) -> ConnectFailure:
    """Microsoft's error redirect. A user without an admin role sees "Need admin
    approval"; its return link sends only error=access_denied&error_subcode=cancel
    (tests/recordings/adminconsent_not_admin_return_link.json)."""
    code, message, from_text = callback_state.error_code_and_words(params)
    kind = FAILURE_KINDS.get(code) or FAILURE_KINDS.get(params["error"], "other")
    if not from_text and (params["error"], params.get("error_subcode")) == (
        "access_denied",
        "cancel",
    ):
        kind = "not_admin"
    elif kind == "other" and params["error"] == "access_denied":
        kind = "declined"
    return ConnectFailure(kind, code, message)
