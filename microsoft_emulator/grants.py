"""The token endpoint's four grants: client credentials, password (ROPC), authorization
code (PKCE S256, nonce echoed) and refresh token. No Flask here: a form in, a dict out,
or an AadError raised."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from microsoft_emulator import app_limits, clients
from microsoft_emulator.errors import aad
from microsoft_emulator.state import (
    CONSUMERS_TENANT_ID,
    AppRegistration,
    Directory,
    ServicePrincipal,
    User,
    parse_time,
)
from microsoft_emulator.store import Store
from microsoft_emulator.tokens import (
    GRAPH_AUDIENCES,
    REFRESH_INACTIVITY,
    AuthCode,
    RefreshGrant,
    TokenIssuer,
    client_info,
    pkce_s256,
    token_lifetime,
)


@dataclass(frozen=True)
class Context:
    store: Store
    issuer: TokenIssuer
    login_base: str
    own_graph_urls: frozenset[str]
    now: datetime

    @cached_property
    def lifetime(self) -> int:
        """Drawn once per token response, so that its token's exp and expires_in agree."""
        return token_lifetime(self.store.state.token_lifetime_seconds)


def token(ctx: Context, tenant: str, form: dict[str, str]) -> dict[str, Any]:
    grant_type = _required(form, "grant_type")
    target = clients.resolve_tenant(ctx.store, tenant)
    _required(form, "client_id")
    handler = _GRANTS.get(grant_type)
    if handler is None:
        raise aad(70003, grant=grant_type)
    token_url = f"{ctx.login_base}/{tenant}/oauth2/v2.0/token"
    return handler(ctx, target, form, token_url)


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name, "")
    if not value:
        raise aad(900144, name=name)
    return value


def client_credentials(
    ctx: Context, target: Directory | str, form: dict[str, str], token_url: str
) -> dict[str, Any]:
    if not isinstance(target, Directory):
        # Personal accounts (/consumers) and the multi-tenant aliases cannot do app-only.
        raise aad(9001023)
    app, sp = clients.app_in(ctx.store, target, form["client_id"])
    audience = clients.app_only_audience(
        form.get("scope", ""), ctx.store, target, ctx.own_graph_urls
    )
    credential = clients.authenticate(
        app, form, now=ctx.now, token_url=token_url, confidential=True
    )
    roles = _settled_roles(ctx, sp) if audience in GRAPH_AUDIENCES else []
    access = ctx.issuer.access_token(
        audience=audience,
        tenant_id=target.id,
        app=app,
        now=ctx.now,
        lifetime=ctx.lifetime,
        roles=roles,
        principal_id=sp.object_id,
        credential=credential,
    )
    return {
        "token_type": "Bearer",
        "expires_in": ctx.lifetime,
        "ext_expires_in": ctx.lifetime,
        "access_token": access,
    }


def _settled_roles(ctx: Context, sp: ServicePrincipal) -> list[str]:
    """The consented roles, once they have reached the token service: right after admin
    consent new tokens come without them for a while (tests/recordings/
    consent_propagation_token_without_roles.json), as long as the state says."""
    delay = timedelta(seconds=ctx.store.state.consent_propagation_seconds)
    if delay and sp.consented_at and ctx.now < parse_time(sp.consented_at) + delay:
        return []
    return list(sp.app_roles)


def password(
    ctx: Context, target: Directory | str, form: dict[str, str], token_url: str
) -> dict[str, Any]:
    if target in ("common", "consumers"):
        raise aad(9001023)
    username, secret = _required(form, "username"), _required(form, "password")
    directory, user = _work_user(ctx.store, target, username)
    app, sp = clients.app_in(ctx.store, directory, form["client_id"])
    credential = clients.authenticate(app, form, now=ctx.now, token_url=token_url)
    _check_sign_in(directory, user, secret)
    scopes = _granted_scopes(ctx, app, sp, user, directory, form.get("scope", ""))
    return _user_tokens(
        ctx, app, directory, user, scopes, form.get("scope", ""), nonce="", credential=credential
    )


def _work_user(store: Store, target: Directory | str, username: str) -> tuple[Directory, User]:
    if isinstance(target, Directory):
        user = store.user_in(target, username)
        if user is None:
            raise aad(50034, directory=target.id)
        return target, user
    found = store.find_user(username)
    if found is None or found[0] is None:
        raise aad(50034, directory="organizations")
    return found[0], found[1]


def _check_sign_in(directory: Directory, user: User, secret: str) -> None:
    """The order Entra checks a password sign-in in. Policies come after the password:
    a wrong one gets 50126 even where Conditional Access would block (ahaenggli/
    AzureAD-LDAP-wrapper#115; tests/recordings/token_password_blocked_by_conditional_access)."""
    if user.blocked == "locked":
        raise aad(50053)
    if user.blocked == "disabled":
        raise aad(50057)
    if user.password != secret:
        raise aad(50126)
    if user.blocked == "password_expired":
        raise aad(50055)
    if user.blocked_by_conditional_access:
        raise aad(53003)
    if directory.security_defaults:
        raise aad(530035)
    if user.mfa_required:
        raise aad(50076 if user.mfa_registered else 50079)


def _granted_scopes(
    ctx: Context,
    app: AppRegistration,
    sp: ServicePrincipal,
    user: User,
    directory: Directory,
    raw: str,
) -> list[str]:
    """The Graph scopes to put in `scp`; AADSTS65001 when consent is missing."""
    requested = clients.parse_user_scopes(raw, ctx.own_graph_urls, directory)
    granted = set(sp.delegated_scopes) | set(sp.user_scopes.get(user.id, []))
    wanted = set(requested.graph) | (granted if requested.default else set())
    if not wanted <= granted or (requested.default and not granted):
        raise aad(65001, client_id=app.client_id, name=app.name)
    return sorted(wanted)


def _user_tokens(
    ctx: Context,
    app: AppRegistration,
    directory: Directory,
    user: User,
    scopes: list[str],
    raw_scope: str,
    *,
    nonce: str,
    credential: str,
) -> dict[str, Any]:
    # appidacr: 0 for a public client, 1 with a secret, 2 with a certificate.
    access = ctx.issuer.access_token(
        audience=GRAPH_AUDIENCES[0],
        tenant_id=directory.id,
        app=app,
        now=ctx.now,
        lifetime=ctx.lifetime,
        user=user,
        scopes=scopes,
        credential=credential,
    )
    requested = raw_scope.split()
    response: dict[str, Any] = {
        "token_type": "Bearer",
        "scope": " ".join(s for s in requested if s not in clients.RESERVED_SCOPES)
        or " ".join(scopes),
        "expires_in": ctx.lifetime,
        "ext_expires_in": ctx.lifetime,
        "access_token": access,
        "client_info": client_info(user, directory.id),
    }
    if "openid" in requested or nonce:
        response["id_token"] = ctx.issuer.id_token(
            issuer=f"{ctx.login_base}/{directory.id}/v2.0",
            client_id=app.client_id,
            tenant_id=directory.id,
            user=user,
            now=ctx.now,
            nonce=nonce,
        )
    if "offline_access" in requested:
        response["refresh_token"] = ctx.issuer.issue_refresh_token(
            RefreshGrant(app.client_id, user.id, directory.id, scopes, ctx.now, ctx.now)
        )
    return response


def authorization_code(
    ctx: Context, target: Directory | str, form: dict[str, str], token_url: str
) -> dict[str, Any]:
    code = ctx.issuer.take_code(_required(form, "code"))
    if code is None or code.client_id.lower() != form["client_id"].lower():
        raise aad(70000)
    if code.redeemed:
        raise aad(54005)
    if code.expires <= ctx.now:
        raise aad(70008)
    if form.get("redirect_uri", "") != code.redirect_uri:
        raise aad(70000)
    if code.code_challenge and not _pkce_matches(code, form.get("code_verifier", "")):
        raise aad(501481)
    directory, user = _user_by_id(ctx.store, code.tenant_id, code.user_id)
    app = _app_for(ctx.store, directory, code.client_id)
    credential = clients.authenticate(app, form, now=ctx.now, token_url=token_url)
    raw = form.get("scope", "") or " ".join(code.scopes)
    return _user_tokens(
        ctx, app, directory, user, code.scopes, raw, nonce=code.nonce, credential=credential
    )


def _pkce_matches(code: AuthCode, verifier: str) -> bool:
    if code.code_challenge_method.lower() == "plain":
        return bool(verifier) and verifier == code.code_challenge
    return bool(verifier) and pkce_s256(verifier) == code.code_challenge


def refresh_token(
    ctx: Context, target: Directory | str, form: dict[str, str], token_url: str
) -> dict[str, Any]:
    grant = ctx.issuer.refresh_grant(_required(form, "refresh_token"))
    if grant is None or grant.client_id.lower() != form["client_id"].lower():
        raise aad(70000)
    valid_from = ctx.issuer.tokens_valid_from(grant.user_id)
    if valid_from is not None and grant.issued < valid_from:
        # Entra shows TokensValidFrom in whole seconds.
        shown = entra_time(valid_from.replace(microsecond=0))
        raise aad(50173, issued=entra_time(grant.issued), valid_from=shown)
    if ctx.now - grant.last_used > REFRESH_INACTIVITY:
        raise aad(700082, issued=entra_time(grant.issued), inactive="90.00:00:00")
    grant.last_used = ctx.now
    directory, user = _user_by_id(ctx.store, grant.tenant_id, grant.user_id)
    app = _app_for(ctx.store, directory, grant.client_id)
    credential = clients.authenticate(app, form, now=ctx.now, token_url=token_url)
    if user.blocked:
        raise aad(50057 if user.blocked == "disabled" else 50053)
    raw = form.get("scope", "")
    return _user_tokens(
        ctx, app, directory, user, grant.scopes, raw, nonce="", credential=credential
    )


def entra_time(moment: datetime) -> str:
    """A time as Entra writes it in these messages: 2021-01-05T05:09:31.5970000Z."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}0Z"


def _user_by_id(store: Store, tenant_id: str, user_id: str) -> tuple[Directory, User]:
    """The user a code or refresh token was issued to, in its work directory or, for a
    personal account, in the consumer directory (the code's tenant_id is then
    CONSUMERS_TENANT_ID)."""
    directory = store.token_directory(tenant_id)
    user = store.user_in(directory, user_id) if directory else None
    if directory is None or user is None:
        raise aad(70000)
    return directory, user


def _app_for(store: Store, directory: Directory, client_id: str) -> AppRegistration:
    """The app a code or refresh token is redeemed by. A work account's needs its service
    principal in that directory; a personal account's lives in its home directory only
    and must still take personal accounts, or Microsoft answers AADSTS70002
    (tests/recordings/token_client_not_enabled_for_consumers.json)."""
    if directory.id != CONSUMERS_TENANT_ID:
        return clients.app_in(store, directory, client_id)[0]
    app = store.app(client_id)
    if app is None or not app_limits.takes_personal_accounts(app.sign_in_audience):
        raise aad(70002)
    return app


_GRANTS = {
    "client_credentials": client_credentials,
    "password": password,
    "authorization_code": authorization_code,
    "refresh_token": refresh_token,
}
