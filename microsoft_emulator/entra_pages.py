"""The admin's side of the setup guide, emulated: the Entra admin center's App
registrations pages (register, Authentication, API permissions with admin consent,
Certificates & secrets with a secret value shown once).

Labels are Entra's: the account types (state.AUDIENCES), the platforms of "Select a
platform" ("Single-page application (SPA)": MicrosoftDocs/azure-docs
articles/active-directory-b2c/tutorial-register-spa.md, "Under Redirect URI, select
Single-page application (SPA)"), the "Add a client secret" panel's Expires choices with
Custom's Start and End (catalogue.SECRET_EXPIRY). The limits of an app that takes personal
accounts (two client secrets, a 90-character name) are app_limits'; the sentences the
pages show for refused input are the emulator's own unless app_limits says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from microsoft_emulator import app_limits, catalogue
from microsoft_emulator.handle import EmulatorHandle
from microsoft_emulator.signin import check_csrf, sign_in_page, signed_in_user
from microsoft_emulator.state import AUDIENCES, AppRegistration, Directory, User

PLATFORMS = ("Web", "Single-page application (SPA)", "Public client/native (mobile & desktop)")


def valid_redirect_uri(uri: str) -> bool:
    """Absolute; https, or http only for localhost, as Entra requires for Web."""
    parts = urlsplit(uri)
    if not parts.netloc or parts.fragment:
        return False
    return parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1")
    )


def secret_window(
    choice: str, custom_start: str, custom_end: str, today: date
) -> tuple[datetime | None, datetime]:
    """When a new secret starts (None: now) and expires, from the Expires choice and, for
    Custom, its Start (empty: today) and End; ValueError when out of range."""
    days = {value: days for value, _, days in catalogue.SECRET_EXPIRY}.get(choice)
    if days is None:
        raise ValueError("Choose when the secret expires.")
    if choice != "custom":
        return None, datetime.combine(today + timedelta(days=days), time(), UTC)
    try:
        start = date.fromisoformat(custom_start) if custom_start else today
        end = date.fromisoformat(custom_end)
    except ValueError:
        raise ValueError("Enter the Start and End dates as YYYY-MM-DD.") from None
    if not today <= start <= today + timedelta(days=catalogue.MAX_START_DAYS):
        raise ValueError("The start date must be from today to 18 months away.")
    if end <= start:
        raise ValueError("The end date must be after the start date.")
    if end > start + timedelta(days=catalogue.MAX_SECRET_DAYS):
        raise ValueError("The end date must be at most 24 months after the start date.")
    began = None if start == today else datetime.combine(start, time(), UTC)
    return began, datetime.combine(end, time(), UTC)


def entra_blueprint(handle: EmulatorHandle) -> Blueprint:
    bp = Blueprint("entra", __name__, url_prefix="/entra")
    store = handle.store

    def admin_page(view: Callable[..., Any]) -> Callable[..., Any]:
        """Signed in as a work user; `app` resolved within that user's directory."""

        @wraps(view)
        def wrapper(**kwargs: Any) -> Any:
            found = signed_in_user(handle.emulator)
            if found is None or found[0] is None:
                return sign_in_page(request.full_path)
            directory, user = found[0], found[1]
            if "client_id" in kwargs:
                app = store.app(kwargs.pop("client_id"))
                if app is None or app.directory_id != directory.id:
                    abort(404)
                kwargs["app"] = app
            if request.method == "POST":
                check_csrf()
            return view(directory=directory, user=user, **kwargs)

        return wrapper

    @bp.get("/")
    @admin_page
    def apps(directory: Directory, user: User) -> str:
        mine = [a for a in store.state.apps if a.directory_id == directory.id]
        return render_template("entra/apps.html", apps=mine, directory=directory, user=user)

    @bp.route("/apps/new", methods=["GET", "POST"])
    @admin_page
    def register(directory: Directory, user: User) -> str | Response:
        form, errors = request.form, []
        if request.method == "POST":
            name, uri = form.get("name", "").strip(), form.get("redirect_uri", "").strip()
            audience = form.get("audience", "")
            if not name:
                errors.append("Enter a name for the application.")
            if audience not in AUDIENCES:
                errors.append("Choose who can use this application.")
            else:
                try:
                    app_limits.check_name(name, audience)
                except ValueError as problem:
                    errors.append(str(problem))
            if uri and not valid_redirect_uri(uri):
                errors.append(
                    "The redirect URI must be an absolute https:// URI or http://localhost."
                )
            if not errors:
                app = handle.register_app(
                    directory, name, sign_in_audience=audience, delegated=["User.Read"]
                )
                if uri:
                    _add_platform_uri(handle, app, form.get("platform", "Web"), uri)
                return redirect(url_for("entra.overview", client_id=app.client_id))
        return render_template(
            "entra/register.html",
            directory=directory,
            user=user,
            audiences=AUDIENCES,
            platforms=PLATFORMS,
            errors=errors,
        )

    @bp.get("/apps/<client_id>")
    @admin_page
    def overview(directory: Directory, user: User, app: AppRegistration) -> str:
        return render_template(
            "entra/overview.html",
            app=app,
            directory=directory,
            user=user,
            audience=AUDIENCES.get(app.sign_in_audience, ""),
        )

    @bp.route("/apps/<client_id>/authentication", methods=["GET", "POST"])
    @admin_page
    def authentication(directory: Directory, user: User, app: AppRegistration) -> str | Response:
        errors, saved = [], False
        if request.method == "POST":
            uris = [u.strip() for u in request.form.getlist("redirect_uri") if u.strip()]
            errors = [f"Not a valid redirect URI: {u}" for u in uris if not valid_redirect_uri(u)]
            if not errors:
                handle.update_app(
                    app,
                    redirect_uris=list(dict.fromkeys(uris)),
                    implicit_access_tokens="implicit_access_tokens" in request.form,
                    implicit_id_tokens="implicit_id_tokens" in request.form,
                    public_client=request.form.get("public_client") == "yes",
                )
                saved = True
        return render_template(
            "entra/authentication.html",
            app=app,
            directory=directory,
            user=user,
            errors=errors,
            saved=saved,
        )

    @bp.get("/apps/<client_id>/permissions")
    @admin_page
    def permissions(directory: Directory, user: User, app: AppRegistration) -> str:
        sp = store.service_principal(directory.id, app.client_id)
        granted = {("Application", r) for r in sp.app_roles} if sp else set()
        granted |= {("Delegated", s) for s in sp.delegated_scopes} if sp else set()
        rows = [
            (p, catalogue.graph_permission(p.name, p.kind), (p.kind, p.name) in granted)
            for p in app.permissions
        ]
        return render_template(
            "entra/permissions.html", app=app, directory=directory, user=user, rows=rows
        )

    @bp.route("/apps/<client_id>/permissions/add", methods=["GET", "POST"])
    @admin_page
    def add_permissions(directory: Directory, user: User, app: AppRegistration) -> str | Response:
        kind = request.values.get("kind", "Delegated")
        if kind not in catalogue.KINDS:
            abort(400)
        if request.method == "POST":
            known = {p.name for p in catalogue.search(kind, "")}
            chosen = [n for n in request.form.getlist("permission") if n in known]
            handle.store.add_permissions(app, chosen, kind)
            return redirect(url_for("entra.permissions", client_id=app.client_id))
        search = request.args.get("search", "")
        return render_template(
            "entra/add_permissions.html",
            app=app,
            directory=directory,
            user=user,
            kind=kind,
            search=search,
            choices=catalogue.search(kind, search),
        )

    @bp.route("/apps/<client_id>/permissions/consent", methods=["GET", "POST"])
    @admin_page
    def grant_consent(directory: Directory, user: User, app: AppRegistration) -> str | Response:
        if not user.is_admin:
            abort(
                403,
                "Only a Global Administrator or Privileged Role Administrator can "
                "grant admin consent for Microsoft Graph application permissions.",
            )
        if request.method == "POST":
            if request.form.get("decision") == "yes":
                handle.grant_admin_consent(app, directory)
            return redirect(url_for("entra.permissions", client_id=app.client_id))
        return render_template("entra/consent.html", app=app, directory=directory, user=user)

    @bp.get("/apps/<client_id>/credentials")
    @admin_page
    def credentials(
        directory: Directory, user: User, app: AppRegistration, errors: tuple[str, ...] = ()
    ) -> str:
        # The value shows on the first view after creation only, as in Entra.
        fresh = session.pop("fresh_secret", None)
        return render_template(
            "entra/credentials.html",
            app=app,
            directory=directory,
            user=user,
            fresh=fresh,
            now=store.now(),
            errors=list(errors),
        )

    @bp.route("/apps/<client_id>/credentials/new-secret", methods=["GET", "POST"])
    @admin_page
    def new_secret(directory: Directory, user: User, app: AppRegistration) -> str | Response:
        errors: list[str] = []
        if request.method == "POST":
            form = request.form
            try:
                start, end = secret_window(
                    form.get("expires", ""),
                    form.get("start", ""),
                    form.get("end", ""),
                    store.now().date(),
                )
                description = form.get("description", "").strip()[:100]
                # A third secret of an app that takes personal accounts: Graph's words,
                # which the admin center shows too (app_limits).
                secret = handle.add_secret(app, end=end, start=start, display_name=description)
            except ValueError as problem:
                errors.append(str(problem))
            else:
                session["fresh_secret"] = secret.key_id
                return redirect(url_for("entra.credentials", client_id=app.client_id))
        return render_template(
            "entra/new_secret.html",
            app=app,
            directory=directory,
            user=user,
            choices=catalogue.SECRET_EXPIRY,
            errors=errors,
        )

    @bp.post("/apps/<client_id>/credentials/<key_id>/delete")
    @admin_page
    def delete_secret(
        directory: Directory, user: User, app: AppRegistration, key_id: str
    ) -> Response:
        with store.lock:
            app.secrets = [s for s in app.secrets if s.key_id != key_id]
            app.certificates = [c for c in app.certificates if c.key_id != key_id]
        store.changed()
        return redirect(url_for("entra.credentials", client_id=app.client_id))

    @bp.post("/apps/<client_id>/credentials/certificate")
    @admin_page
    def upload_certificate(
        directory: Directory, user: User, app: AppRegistration
    ) -> Response | tuple[str, int]:
        """Upload certificate: a .cer, .pem or .crt with the public key only (entra-docs
        how-to-add-credentials.md, tests/recordings/entra_upload_certificate.json)."""
        upload = request.files.get("certificate")
        try:
            handle.add_certificate(
                app,
                upload.read() if upload else b"",
                display_name=request.form.get("description", "").strip()[:100],
            )
        except ValueError as problem:
            page = credentials.__wrapped__(  # type: ignore[attr-defined]
                directory=directory, user=user, app=app, errors=(str(problem),)
            )
            return page, 400
        return redirect(url_for("entra.credentials", client_id=app.client_id))

    return bp


def _add_platform_uri(
    handle: EmulatorHandle, app: AppRegistration, platform: str, uri: str
) -> None:
    # The emulator keeps one list of redirect URIs whatever the platform; only Web
    # matters to the guide and to admin consent.
    handle.update_app(app, redirect_uris=[*app.redirect_uris, uri])
