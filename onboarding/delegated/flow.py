"""The round trip of "Connect with Microsoft": the authorization code flow with PKCE.

`start` asks msal for the flow (its state, nonce and PKCE verifier) and keeps it in the
session, with the mailbox, the portal user (None for an owner's link) and the time.
Microsoft sends the browser back to one fixed callback URL. A callback is believed only
when its state was made in this session, by this user, less than ten minutes ago, and
is used for the first time (recorded in ConsentUse, so that of concurrent callbacks
with one state only one counts); msal then checks the state again and the ID token's
nonce, and redeems the code with the verifier. The account that signed in must be the
mailbox's own: the ID token's preferred_username or /me's addresses name it, and its
directory is the app's (or the consumer one for a personal account). Anything else is
refused with a page, and nothing is stored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.urls import reverse

from onboarding import callback_state
from onboarding.delegated import links
from onboarding.delegated.tokens import credential_for
from onboarding.microsoft import MicrosoftError, graph, signin
from onboarding.models import AppRegistration, ConsentUse, Mailbox, MailboxSignIn
from onboarding.wizard.validators import is_personal_address

log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=10)
SESSION_KEY = "onboarding_sign_in_flows"
MAX_PENDING = 5
STATE_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
MAX_PARAM = 8192
KNOWN_PARAMS = callback_state.AUTH_CODE_PARAMS
# What Microsoft's error redirect means for the owner (the page picks the words).
FAILURE_KINDS = {
    "AADSTS65004": "declined",  # "User declined to consent to access the app."
    "consent_required": "consent_required",
    "AADSTS65001": "consent_required",
    "AADSTS50020": "wrong_account",
    "AADSTS50011": "redirect_uri",
    "interaction_required": "interaction",
    "AADSTS53003": "interaction",
}


class SignInRejected(Exception):
    """The callback cannot be trusted: answer 400 and change nothing. Never holds input."""


STATES = callback_state.States(SESSION_KEY, STATE_TTL, STATE_RE, MAX_PENDING, SignInRejected)


@dataclass(frozen=True)
class SignInFailure:
    # declined, consent_required, wrong_account, redirect_uri, interaction, other
    kind: str
    code: str = ""
    message: str = ""
    # For wrong_account: who did sign in (the person's own account, shown to them).
    signed_in_as: str = ""


@dataclass(frozen=True)
class SignInOutcome:
    mailbox: Mailbox
    owner_link: bool
    user_id: str | None
    failure: SignInFailure | None = None
    signed_in: signin.SignedIn | None = None
    authority: str = ""
    owner_key: str = ""


def callback_url() -> str:
    """The fixed address registered in Entra as a Web redirect URI (step 2)."""
    return settings.PORTAL_BASE_URL + reverse("onboarding:connect-callback")


def is_personal(mailbox: Mailbox) -> bool:
    return is_personal_address(mailbox.sign_in_name)


def authority_for(mailbox: Mailbox, app: AppRegistration) -> str:
    """consumers for a personal account, else the app's own directory."""
    if is_personal(mailbox):
        return MailboxSignIn.CONSUMERS
    return str(app.directory_id or app.directory)


def start(
    session: SessionBase, mailbox: Mailbox, *, user_id: str | None, owner_token: str = ""
) -> str:
    """Remember a fresh flow in this session; return Microsoft's sign-in URL.
    MicrosoftError when the app has no usable secret or Microsoft cannot be reached."""
    app = AppRegistration.objects.get(tenant_id=mailbox.tenant_id)
    credential = credential_for(app)
    client_id = credential.client_id
    authority = authority_for(mailbox, app)
    flow = signin.start(
        authority=authority,
        client_id=client_id,
        client_secret=credential.secret,
        certificate=credential.certificate,
        redirect_uri=callback_url(),
        login_hint=mailbox.sign_in_name,
    )
    entry = {
        "flow": flow,
        "mailbox": str(mailbox.pk),
        "client_id": client_id,
        "authority": authority,
        "user": user_id,
        "owner_key": links.use_key(owner_token) if owner_token else "",
    }
    STATES.remember(session, str(flow["state"]), entry)
    return str(flow["auth_uri"])


def callback(session: SessionBase, query: Any, *, user_id: str | None) -> SignInOutcome:
    """Check a callback, redeem its code and say whose sign-in it is. Raises
    SignInRejected when untrusted. Storing the sign-in is the caller's (services)."""
    params = callback_state.single_params(
        query, KNOWN_PARAMS, max_length=MAX_PARAM, error=SignInRejected
    )
    state = params.get("state", "")
    entry = STATES.pop(session, state)
    _use_once(ConsentUse.Kind.SIGN_IN_STATE, links.use_key(state))
    if entry["user"] != user_id:
        raise SignInRejected("state made for another user")
    mailbox = Mailbox.objects.select_related("tenant").filter(pk=entry["mailbox"]).first()
    app = AppRegistration.objects.filter(tenant_id=mailbox.tenant_id).first() if mailbox else None
    if mailbox is None or app is None or str(app.client_id) != entry["client_id"]:
        raise SignInRejected("the mailbox or its app changed since the sign-in started")
    owner_key = str(entry.get("owner_key") or "")
    if (
        owner_key
        and ConsentUse.objects.filter(key=owner_key, kind=ConsentUse.Kind.OWNER_LINK).exists()
    ):
        raise SignInRejected("owner link used before")
    outcome = SignInOutcome(mailbox, owner_link=bool(owner_key), user_id=user_id)
    if "error" in params:
        return replace(outcome, failure=failure_from(params))
    try:
        credential = credential_for(app)
        signed_in = signin.finish(
            authority=entry["authority"],
            client_id=credential.client_id,
            client_secret=credential.secret,
            certificate=credential.certificate,
            flow=entry["flow"],
            auth_response=params,
        )
    except signin.FlowRejected:
        raise SignInRejected("msal refused the state or nonce") from None
    except MicrosoftError as exc:
        code_kind = FAILURE_KINDS.get(exc.code, "other")
        return replace(outcome, failure=SignInFailure(code_kind, exc.code, exc.message))
    wrong = _wrong_account(mailbox, app, entry["authority"], signed_in)
    if wrong is not None:
        return replace(outcome, failure=wrong)
    return replace(outcome, signed_in=signed_in, authority=entry["authority"], owner_key=owner_key)


def _wrong_account(
    mailbox: Mailbox, app: AppRegistration, authority: str, signed_in: signin.SignedIn
) -> SignInFailure | None:
    """None when the account that signed in is the mailbox's own, in the right directory."""
    wanted = {mailbox.address.lower(), mailbox.sign_in_name.lower()}
    names = {signed_in.username.lower()}
    try:
        profile = graph.me(access_token=signed_in.access_token)
    except MicrosoftError as exc:
        log.warning("Mailbox sign-in: /me failed with %s", exc.code)
        profile = {}
    names |= {profile.get("userPrincipalName", "").lower(), profile.get("mail", "").lower()}
    names.discard("")
    expected_tid = (
        signin.CONSUMERS_TENANT_ID if authority == MailboxSignIn.CONSUMERS else app.directory_id
    )
    same_directory = signed_in.tid.lower() == str(expected_tid).lower()
    if names & wanted and same_directory:
        return None
    who = signed_in.username or profile.get("mail", "") or "another account"
    return SignInFailure("wrong_account", signed_in_as=who)


def failure_from(params: Mapping[str, str]) -> SignInFailure:
    """Microsoft's error redirect: the AADSTS code in error_description, else `error`."""
    code, message, _ = callback_state.error_code_and_words(params)
    kind = FAILURE_KINDS.get(code) or FAILURE_KINDS.get(params["error"], "other")
    if kind == "other" and params["error"] == "access_denied":
        kind = "declined"  # the owner chose Cancel, or backed out of the sign-in
    return SignInFailure(kind, code, message)


def _use_once(kind: str, key: str) -> None:
    ttl = STATE_TTL if kind == ConsentUse.Kind.SIGN_IN_STATE else links.MAX_AGE
    callback_state.use_once(kind, key, ttl=ttl, error=SignInRejected)


def use_owner_link(owner_key: str) -> None:
    """The owner's link is spent once a sign-in from it is stored."""
    _use_once(ConsentUse.Kind.OWNER_LINK, owner_key)
