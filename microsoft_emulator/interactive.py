"""Pages a browser goes through: /authorize (sign-in, consent, code) and admin consent
(v1 and v2 URLs), redirecting back exactly as Microsoft does.

Errors Microsoft shows on its own page (an unregistered redirect URI, an unknown app or
tenant) are shown here too and never redirect.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response

from microsoft_emulator import app_limits, clients, tokens
from microsoft_emulator.core import Emulator, injected, login_base, own_graph_urls
from microsoft_emulator.errors import AadError, aad, aad_timestamp
from microsoft_emulator.signin import check_csrf, sign_in_page, signed_in_user
from microsoft_emulator.state import (
    CONSUMERS_TENANT_ID,
    GRAPH_RESOURCE,
    AppRegistration,
    Directory,
    ServicePrincipal,
    User,
)
from microsoft_emulator.store import Store
from microsoft_emulator.tokens import CODE_LIFETIME, AuthCode, client_info

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
# What Microsoft's account page shows a personal account signing in to an app that takes
# work accounts only (tests/recordings/authorize_personal_account_work_only_app.json).
NOT_FOR_CONSUMERS = (
    "unauthorized_client: The client does not exist or is not enabled for consumers. If you "
    "are the application developer, configure a new application through the App "
    "Registrations in the Azure Portal at https://go.microsoft.com/fwlink/?linkid=2083908."
)
# What the personal-account sign-in page says to a work account at /consumers
# (tests/recordings/authorize_work_account_at_consumers.json).
NO_SUCH_MICROSOFT_ACCOUNT = (
    "That Microsoft account doesn't exist. Enter a different account or get a new one."
)


def redirect_uri_registered(app: AppRegistration, uri: str) -> bool:
    """Exact match; for loopback hosts the port is ignored (RFC 8252, as Entra does)."""
    if uri in app.redirect_uris:
        return True
    wanted = urlsplit(uri)
    if wanted.hostname not in LOOPBACK_HOSTS:
        return False
    for registered in map(urlsplit, app.redirect_uris):
        same = (registered.scheme, registered.hostname, registered.path.rstrip("/"))
        if same == (wanted.scheme, wanted.hostname, wanted.path.rstrip("/")):
            return True
    return False


def with_params(uri: str, params: dict[str, str], *, fragment: bool = False) -> str:
    joiner = "#" if fragment else ("&" if "?" in uri else "?")
    return uri + joiner + urlencode({k: v for k, v in params.items() if v != ""})


def error_params(error: AadError, emulator: Emulator) -> dict[str, str]:
    """The error, error_description and error_uri Microsoft appends to a redirect URI."""
    description = (
        f"{error.text()}\r\nTrace ID: {uuid.uuid4()}\r\nCorrelation ID: {uuid.uuid4()}"
        f"\r\nTimestamp: {aad_timestamp(emulator.store.now())}"
    )
    return {
        "error": error.error or error.spec.error,
        "error_description": description,
        "error_uri": f"{login_base()}/error?code={error.code}",
    }


def error_page(error: AadError, status: int = 400) -> tuple[str, int]:
    return render_template("error_page.html", code=error.code, text=error.text()), status


def interactive_blueprint(emulator: Emulator) -> Blueprint:
    bp = Blueprint("interactive", __name__)
    store = emulator.store

    def resolve(tenant: str, client_id: str, redirect_uri: str) -> AppRegistration:
        clients.resolve_tenant(store, tenant)
        app = store.app(client_id) if client_id else None
        if app is None:
            raise aad(700016, client_id=client_id, directory=tenant)
        if not redirect_uri_registered(app, redirect_uri):
            raise aad(50011, redirect_uri=redirect_uri, client_id=client_id)
        return app

    @bp.route("/<tenant>/v2.0/adminconsent", methods=["GET", "POST"])
    @bp.route("/<tenant>/adminconsent", methods=["GET", "POST"], defaults={"v1": True})
    def admin_consent(tenant: str, v1: bool = False) -> str | Response | tuple[str, int]:
        if fault := injected("adminconsent", emulator):
            return fault
        args = request.args
        redirect_uri, state = args.get("redirect_uri", ""), args.get("state", "")
        try:
            app = resolve(tenant, args.get("client_id", ""), redirect_uri)
        except AadError as error:
            return error_page(error)
        if not v1 and not args.get("scope"):
            return _redirect(
                with_params(
                    redirect_uri,
                    {**error_params(aad(900144, name="scope"), emulator), "state": state},
                )
            )
        found = signed_in_user(emulator)
        if found is None:
            return sign_in_page(request.full_path)
        directory, user = found
        if directory is None:
            return error_page(_not_in_tenant(store, tenant, directory, user, app))
        if _foreign(store, tenant, directory):
            # A work account of another directory is sent back with its address hidden
            # (tests/recordings/adminconsent_other_directory.json). The recording is cut
            # after error_uri: state goes back as OAuth requires; admin_consent is not sent.
            refused = _not_in_tenant(store, tenant, directory, user, app, hidden=True)
            failed = error_params(refused, emulator)
            return _redirect(with_params(redirect_uri, {**failed, "state": state}))
        if app.sign_in_audience == "AzureADMyOrg" and app.directory_id != directory.id:
            # A single-tenant app exists in its home directory only.
            return error_page(aad(700016, client_id=app.client_id, directory=directory.name))
        # As Microsoft sends a Cancel (tests/recordings/adminconsent_declined.json).
        declined = {**error_params(aad(65004), emulator), "admin_consent": "True", "state": state}
        if not user.is_admin:
            # "Need admin approval" shows AADSTS90094 on the page only; its return link
            # carries no description and no admin_consent
            # (tests/recordings/adminconsent_not_admin_return_link.json).
            cancel = {"error": "access_denied", "error_subcode": "cancel", "state": state}
            return render_template(
                "need_admin.html",
                app=app,
                user=user,
                directory=directory,
                back=with_params(redirect_uri, cancel),
            )
        if request.method == "GET":
            return render_template(
                "consent.html",
                app=app,
                user=user,
                directory=directory,
                admin=True,
                permissions=app.permissions,
            )
        check_csrf()
        if request.form.get("decision") != "accept":
            return _redirect(with_params(redirect_uri, declined))
        sp = store.consent(app, directory)
        granted = " ".join(f"{GRAPH_RESOURCE}/{role}" for role in sp.app_roles)
        success = {"admin_consent": "True", "tenant": directory.id}
        if not v1:
            success["scope"] = granted or args.get("scope", "")
        success["state"] = state
        return _redirect(with_params(redirect_uri, success))

    @bp.route("/<tenant>/oauth2/v2.0/authorize", methods=["GET", "POST"])
    def authorize(tenant: str) -> str | Response | tuple[str, int]:
        if fault := injected("authorize", emulator):
            return fault
        args = request.args
        redirect_uri = args.get("redirect_uri", "")
        try:
            app = resolve(tenant, args.get("client_id", ""), redirect_uri)
        except AadError as error:
            return error_page(error)
        found = signed_in_user(emulator)
        if found is None:
            return sign_in_page(request.full_path, hint=args.get("login_hint", ""))
        directory, user = found
        # prompt (select_account, login, consent) is not acted on: a signed-in user goes
        # on, and the sign-in page's "next" would come back here with the same prompt.
        target = clients.resolve_tenant(store, tenant)
        if directory is None and target in ("common", "consumers"):
            return _authorize_personal(emulator, app, user)
        if directory is not None and target == "consumers":
            # Only personal accounts sign in there: Microsoft's account page does not
            # know the address. Signing in again with a personal account goes on.
            refused = ("", NO_SUCH_MICROSOFT_ACCOUNT)
            return sign_in_page(request.full_path, error=refused, hint=user.upn)
        if directory is None or _foreign(store, tenant, directory):
            return error_page(_not_in_tenant(store, tenant, directory, user, app))
        return _authorize_signed_in(emulator, app, directory, user)

    return bp


def _foreign(store: Store, tenant: str, directory: Directory) -> bool:
    target = clients.resolve_tenant(store, tenant)
    return isinstance(target, Directory) and target.id != directory.id


def _not_in_tenant(
    store: Store,
    tenant: str,
    directory: Directory | None,
    user: User,
    app: AppRegistration,
    *,
    hidden: bool = False,
) -> AadError:
    """AADSTS50020, naming the directory by its display name. In what it redirects
    Microsoft hides the address (`hidden`); its own error page names it."""
    target = clients.resolve_tenant(store, tenant)
    return aad(
        50020,
        upn="{EmailHidden}" if hidden else user.upn,
        idp="live.com" if directory is None else f"https://sts.windows.net/{directory.id}/",
        directory=target.name if isinstance(target, Directory) else tenant,
        client_id=app.client_id,
        name=app.name,
    )


def _authorize_personal(
    emulator: Emulator, app: AppRegistration, user: User
) -> str | Response | tuple[str, int]:
    """A personal account at /common or /consumers: in the consumer directory, for an app
    whose account types include personal accounts. Microsoft shows the refusal on its own
    page and does not redirect (tests/recordings/authorize_personal_account_work_only_app)."""
    if not app_limits.takes_personal_accounts(app.sign_in_audience):
        return render_template("account_error.html", text=NOT_FOR_CONSUMERS), 400
    return _authorize_signed_in(emulator, app, emulator.store.consumers(), user)


def _consented(
    store: Store, app: AppRegistration, user: User, sp: ServicePrincipal | None, consumer: bool
) -> set[str]:
    """The delegated scopes the user may already get: for a personal account its own
    consent (there is no directory to grant for it), for a work account the directory's
    admin consent and the user's own."""
    if consumer:
        consent = store.personal_consent(app.client_id, user.id)
        return set(consent.scopes) if consent else set()
    return set(sp.delegated_scopes) | set(sp.user_scopes.get(user.id, [])) if sp else set()


def _record_consent(
    store: Store,
    app: AppRegistration,
    directory: Directory,
    user: User,
    sp: ServicePrincipal | None,
    scopes: list[str],
) -> None:
    if directory.id == CONSUMERS_TENANT_ID:
        store.consent_for_personal_account(app, user, scopes)
        return
    sp = sp or store.consent(app, directory)
    store.consent_for_user(sp, user, scopes)


def _authorize_signed_in(
    emulator: Emulator, app: AppRegistration, directory: Directory, user: User
) -> str | Response | tuple[str, int]:
    args = request.args
    store, state = emulator.store, args.get("state", "")
    response_type = set(args.get("response_type", "code").split())
    mode = args.get("response_mode") or ("query" if response_type == {"code"} else "fragment")
    back = args.get("redirect_uri", "")

    def finish(params: dict[str, str]) -> str | Response:
        if mode == "form_post":
            return render_template("form_post.html", action=back, params=params)
        return _redirect(with_params(back, params, fragment=mode == "fragment"))

    if "token" in response_type and not app.implicit_access_tokens:
        return finish({**error_params(aad(700051), emulator), "state": state})
    if "id_token" in response_type and not app.implicit_id_tokens:
        return finish({**error_params(aad(700054), emulator), "state": state})
    consumer = directory.id == CONSUMERS_TENANT_ID
    sp = None if consumer else store.service_principal(directory.id, app.client_id)
    if not consumer and sp is None and app.sign_in_audience == "AzureADMyOrg":
        return error_page(aad(700016, client_id=app.client_id, directory=directory.name))
    requested = clients.parse_user_scopes(args.get("scope", ""), own_graph_urls(), directory).graph
    if not requested <= _consented(store, app, user, sp, consumer):
        if request.method == "GET":
            return render_template(
                "consent.html",
                app=app,
                user=user,
                directory=directory,
                admin=False,
                scopes=sorted(requested),
            )
        check_csrf()
        if request.form.get("decision") != "accept":
            # AADSTS65004 for work and personal accounts alike (the emulator's choice: no
            # recording shows what Microsoft's account page sends on a personal Cancel).
            return finish({**error_params(aad(65004), emulator), "state": state})
        _record_consent(store, app, directory, user, sp, sorted(requested))
    return finish(_grant(emulator, app, directory, user, sorted(requested), response_type))


def _grant(
    emulator: Emulator,
    app: AppRegistration,
    directory: Directory,
    user: User,
    scopes: list[str],
    response_type: set[str],
) -> dict[str, str]:
    """The redirect's parameters: a code, and for implicit flows the tokens themselves."""
    args, now = request.args, emulator.store.now()
    params = {"state": args.get("state", ""), "session_state": str(uuid.uuid4())}
    if "code" in response_type:
        params["code"] = emulator.issuer.issue_code(
            AuthCode(
                client_id=app.client_id,
                redirect_uri=args.get("redirect_uri", ""),
                user_id=user.id,
                tenant_id=directory.id,
                scopes=scopes,
                nonce=args.get("nonce", ""),
                code_challenge=args.get("code_challenge", ""),
                code_challenge_method=args.get("code_challenge_method", "S256"),
                expires=now + CODE_LIFETIME,
            )
        )
    if "id_token" in response_type:
        params["id_token"] = emulator.issuer.id_token(
            issuer=f"{login_base()}/{directory.id}/v2.0",
            client_id=app.client_id,
            tenant_id=directory.id,
            user=user,
            now=now,
            nonce=args.get("nonce", ""),
        )
    if "token" in response_type:
        lifetime = tokens.token_lifetime(emulator.store.state.token_lifetime_seconds)
        params["access_token"] = emulator.issuer.access_token(
            audience=GRAPH_RESOURCE,
            tenant_id=directory.id,
            app=app,
            now=now,
            lifetime=lifetime,
            user=user,
            scopes=scopes,
            credential="0",
        )
        params.update(token_type="Bearer", expires_in=str(lifetime), scope=" ".join(scopes))
    if args.get("client_info") == "1":
        params["client_info"] = client_info(user, directory.id)
    return params


def _redirect(location: str) -> Response:
    # 302 as Microsoft answers; werkzeug's redirect() would re-quote the URL.
    return Response(status=302, headers={"Location": location})
