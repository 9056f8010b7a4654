"""Admin consent through the Microsoft identity platform (the step the guide leaves out).

The portal sends the admin to `{login}/{directory}/v2.0/adminconsent` with a
`state` it keeps in the admin's session. Microsoft sends the admin back to one
fixed callback URL. A callback is believed only when its state was made in this
session, by this user, less than ten minutes ago, is used for the first time,
and names the directory the app was registered in. Anything else is refused
before it can change anything.

The state lives in the session, and two requests with one session cookie read the
same session: its single use is therefore also recorded in the database
(`ConsentUse`, a unique hash), so of any number of concurrent callbacks with one
state exactly one is believed. A forwarded link is single-use the same way (its use
is recorded when a callback from it reports consent) and dies once a check confirmed
consent. Microsoft's redirect is not signed: a callback only *claims* consent
(`consent_granted_at`); a passing check confirms it (onboarding.progress).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core import signing
from django.http import HttpResponse
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from accounts.models import User
from onboarding import callback_state, microsoft
from onboarding.models import AppRegistration, ConsentUse

log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=10)
SESSION_KEY = "onboarding_consent_states"
MAX_PENDING = 5
FORWARD_SALT = "onboarding.consent.forward"
FORWARD_MAX_AGE = timedelta(days=7)
STATE_RE = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
MAX_PARAM = 4096
# Parameters Microsoft sends back; anything else is ignored, but never twice.
KNOWN_PARAMS = (
    "state",
    "admin_consent",
    "tenant",
    "scope",
    "error",
    "error_subcode",
    "error_description",
)
# AADSTS codes in error_description -> the kind of failure the callback page explains.
FAILURE_KINDS = {
    "AADSTS65004": "declined",
    "AADSTS90094": "not_admin",
    "AADSTS50011": "redirect_uri",
    "AADSTS50020": "wrong_directory",
    # Microsoft knows no such app in the directory: usually the Object ID saved as the
    # client ID, or an app of another directory. Microsoft shows it on its own page
    # (tests/recordings/adminconsent_unknown_client_id.json); should a callback carry
    # it, the page explains the fix.
    "AADSTS700016": "app_not_found",
}

# Who may grant tenant-wide admin consent for application permissions to Graph
# (recorded: tests/recordings/admin_consent_roles.json). Cloud Application and
# Application Administrators may consent to anything except Graph app roles, which are
# exactly what this app asks for, so they are not listed.
CONSENT_ROLES = (
    "Global Administrator",
    "Privileged Role Administrator",
)


class ConsentRejected(Exception):
    """The callback cannot be trusted. Answer 400 and change nothing. Never holds input."""


STATES = callback_state.States(SESSION_KEY, STATE_TTL, STATE_RE, MAX_PENDING, ConsentRejected)


@dataclass(frozen=True)
class ConsentFailure:
    """Microsoft reported that consent was not granted."""

    # "declined", "not_admin", "redirect_uri", "wrong_directory", "app_not_found", "other"
    kind: str
    code: str
    message: str
    correlation_id: str = ""


@dataclass(frozen=True)
class ConsentOutcome:
    app: AppRegistration
    forwarded: bool
    failure: ConsentFailure | None = None
    # Who asked for a forwarded consent, so that "Try again" still names them.
    asked_by: User | None = None


def login_origin() -> str:
    """The identity platform's origin: forms that start consent are redirected there."""
    parts = urlsplit(settings.MICROSOFT_LOGIN_URL)
    return f"{parts.scheme}://{parts.netloc}"


def callback_url() -> str:
    """The fixed address registered in Entra as a Web redirect URI."""
    return settings.PORTAL_BASE_URL + reverse("onboarding:consent-callback")


def consent_start(
    session: SessionBase,
    app: AppRegistration,
    *,
    user_id: str | None,
    forwarded: bool = False,
    forward_link: str = "",
    select_account: bool = False,
    asked_by: User | None = None,
) -> str:
    """Remember a fresh state in this session; return Microsoft's admin consent URL.
    `forward_link`: the forwarded link's token the state was started from.
    `select_account`: after an account that could not consent, let Microsoft offer the
    choice of another account instead of signing the same one in again."""
    state = secrets.token_urlsafe(32)
    entry = {
        "app": str(app.pk),
        "client_id": str(app.client_id),
        "directory_id": str(app.directory_id),
        "user": user_id,
        "forwarded": forwarded or bool(forward_link),
        "forward_key": _use_key(forward_link) if forward_link else "",
        "asked_by": asked_by.pk.hex if asked_by is not None else "",
    }
    STATES.remember(session, state, entry)
    url = microsoft.admin_consent_url(
        directory=str(app.directory_id),
        client_id=str(app.client_id),
        redirect_uri=callback_url(),
        state=state,
    )
    # The OpenID Connect prompt parameter, as msal sends it (Prompt.SELECT_ACCOUNT).
    return f"{url}&{urlencode({'prompt': 'select_account'})}" if select_account else url


def consent_callback(session: SessionBase, query: Any, *, user_id: str | None) -> ConsentOutcome:
    """Check a callback and say what it means. Raises ConsentRejected if untrusted.

    `query` is request.GET. Recording a granted consent is left to the caller.
    """
    params = callback_state.single_params(
        query, KNOWN_PARAMS, max_length=MAX_PARAM, error=ConsentRejected
    )
    state = params.get("state", "")
    entry = STATES.pop(session, state)
    _use_once(ConsentUse.Kind.STATE, state)
    if entry["user"] != user_id:
        raise ConsentRejected("state made for another user")
    app = _app_for(entry)
    if entry["forwarded"] and app.consent_confirmed_at is not None:
        raise ConsentRejected("forward link used after consent was confirmed")
    if "error" in params:
        asked_by = None
        if entry.get("asked_by"):
            asked_by = User.objects.filter(pk=entry["asked_by"], is_active=True).first()
        return ConsentOutcome(app, entry["forwarded"], failure_from(params), asked_by)
    if params.get("admin_consent", "").lower() != "true":
        raise ConsentRejected("neither consent nor an error")
    if params.get("tenant", "").lower() != str(app.directory_id):
        raise ConsentRejected("consent for another directory")
    if entry.get("forward_key"):
        _use_once(ConsentUse.Kind.FORWARD, entry["forward_key"], hashed=True)
    return ConsentOutcome(app, entry["forwarded"])


def _use_key(value: str) -> str:
    return callback_state.use_key(value)


def _use_once(kind: str, value: str, *, hashed: bool = False) -> None:
    """Record the first use of a state or forward link; refuse any later one."""
    ttl = STATE_TTL if kind == ConsentUse.Kind.STATE else FORWARD_MAX_AGE
    key = value if hashed else _use_key(value)
    callback_state.use_once(kind, key, ttl=ttl, error=ConsentRejected)


def _app_for(entry: Mapping[str, Any]) -> AppRegistration:
    """The app the state was made for, if it still has the client and directory it had."""
    app = (
        AppRegistration.objects.select_related("tenant")
        .filter(pk=entry["app"], client_id=entry["client_id"], directory_id=entry["directory_id"])
        .first()
    )
    if app is None:
        raise ConsentRejected("the app registration changed since consent was started")
    return app


def failure_from(params: Mapping[str, str]) -> ConsentFailure:
    """Classify Microsoft's error callback. The AADSTS code sits in error_description.

    A user without an admin role sees "Need admin approval" (AADSTS90094, on Microsoft's
    page only); its return link sends just error=access_denied&error_subcode=cancel
    (tests/recordings/adminconsent_not_admin_return_link.json), so that shape is read as
    "not an admin". (Backing out of Microsoft's sign-in sends the same; the page's words
    and its forward link fit that case too.)
    """
    code, message, from_text = callback_state.error_code_and_words(params)
    kind = FAILURE_KINDS.get(code, "other")
    cancel = (params["error"], params.get("error_subcode")) == ("access_denied", "cancel")
    if not from_text and cancel:
        kind = "not_admin"
    description = params.get("error_description", "")
    correlation = re.search(r"Correlation ID:\s*([0-9a-fA-F-]{36})", description)
    return ConsentFailure(kind, code, message, correlation.group(1) if correlation else "")


def forward_token(app: AppRegistration, *, asked_by: User | None = None) -> str:
    """A link a colleague with an admin role can open to grant consent for this app.

    Signed and dated; it names the app and a fingerprint of its client and directory,
    so a change to either voids it, and the portal user who asked (shown on the page,
    so that the colleague can tell a real request from phishing).
    """
    asker = f".{asked_by.pk.hex}" if asked_by is not None else ""
    return _forward_signer().sign(f"{app.pk.hex}.{_fingerprint(app)}{asker}")


def _forward_signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=FORWARD_SALT)


def _fingerprint(app: AppRegistration) -> str:
    ids = f"{app.client_id}/{app.directory_id}".encode()
    return hashlib.sha256(ids).hexdigest()[:16]


def forward_url(app: AppRegistration, *, asked_by: User | None = None) -> str:
    path = reverse("onboarding:consent-forwarded", args=[forward_token(app, asked_by=asked_by)])
    return settings.PORTAL_BASE_URL + path


@dataclass(frozen=True)
class ForwardRequest:
    app: AppRegistration
    asked_by: User | None  # None for a link made without a user, or a user since removed


def forward_request(token: str) -> ForwardRequest:
    """The app a forwarded link is for, and who asked, while the link is unused and
    consent unconfirmed. Raises ConsentRejected otherwise."""
    try:
        value = _forward_signer().unsign(token, max_age=FORWARD_MAX_AGE)
    except signing.BadSignature:
        raise ConsentRejected("forward link altered or expired") from None
    app_hex, _, rest = value.partition(".")
    fingerprint, _, asker_hex = rest.partition(".")
    app = AppRegistration.objects.select_related("tenant").filter(pk=app_hex).first()
    if app is None or not constant_time_compare(_fingerprint(app), fingerprint):
        raise ConsentRejected("the app registration changed since the link was made")
    if app.consent_confirmed_at is not None:
        raise ConsentRejected("forward link opened after consent was confirmed")
    if ConsentUse.objects.filter(key=_use_key(token), kind=ConsentUse.Kind.FORWARD).exists():
        raise ConsentRejected("forward link used before")
    asked_by = None
    if asker_hex:
        # Only someone who still administers this tenant is named.
        asked_by = User.objects.filter(
            pk=asker_hex, is_active=True, memberships__tenant=app.tenant
        ).first()
    return ForwardRequest(app, asked_by)


def app_for_forward_token(token: str) -> AppRegistration:
    """The app a forwarded link is for, while the link is unused and consent unconfirmed."""
    return forward_request(token).app


def allow_form_to_microsoft(response: HttpResponse) -> HttpResponse:
    """A page whose consent form is answered with a redirect to Microsoft, which the
    browser checks against the page's CSP form-action."""
    response._csp_update = {"form-action": [login_origin()]}  # type: ignore[attr-defined]
    return response
