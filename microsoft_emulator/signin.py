"""The emulated Microsoft sign-in: a browser session, a password form, an MFA step.

Shared by the authorize and admin-consent pages and the Entra admin center.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from microsoft_emulator.core import Emulator
from microsoft_emulator.state import Directory, User

_MESSAGES = {
    "locked": (
        "AADSTS50053",
        "Your account is locked. You've tried to sign in too many times "
        "with an incorrect user ID or password.",
    ),
    "disabled": ("AADSTS50057", "Your account has been disabled. Contact your administrator."),
    "wrong": ("AADSTS50126", "Your account or password is incorrect."),
    "password_expired": ("AADSTS50055", "Your password has expired. Update it and try again."),
}


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return str(session["csrf"])


def check_csrf() -> None:
    sent = request.form.get("csrf", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, "The form expired or came from another site; go back and try again.")


def safe_next(target: str) -> str:
    """Only paths on this server; never an open redirect."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/entra/"
    return target


def signed_in_user(emulator: Emulator) -> tuple[Directory | None, User] | None:
    user_id = session.get("user_id")
    return emulator.store.find_user(user_id) if user_id else None


def sign_in_page(next_url: str, *, error: tuple[str, str] | None = None, hint: str = "") -> str:
    return render_template("signin.html", next_url=safe_next(next_url), error=error, username=hint)


def signin_blueprint(emulator: Emulator) -> Blueprint:
    bp = Blueprint("signin", __name__)

    @bp.route("/login", methods=["GET", "POST"])
    def login() -> str | Response:
        next_url = request.values.get("next", "/entra/")
        if request.method == "GET":
            if request.args.get("switch"):
                session.pop("user_id", None)
            return sign_in_page(next_url)
        check_csrf()
        username = request.form.get("username", "").strip()
        found = emulator.store.find_user(username) if username else None
        problem = _problem(found[1] if found else None, request.form.get("password", ""))
        if problem:
            return sign_in_page(next_url, error=_MESSAGES[problem], hint=username)
        assert found is not None
        user = found[1]
        if user.mfa_required:
            session["pending_user_id"] = user.id
            return render_template("mfa.html", next_url=safe_next(next_url), user=user)
        session["user_id"] = user.id
        return redirect(safe_next(next_url))

    @bp.post("/login/mfa")
    def approve_mfa() -> Response:
        check_csrf()
        pending = session.pop("pending_user_id", None)
        if not pending:
            abort(400, "No sign-in is waiting for approval.")
        session["user_id"] = pending
        return redirect(safe_next(request.form.get("next", "/entra/")))

    @bp.post("/logout")
    def logout() -> Response:
        check_csrf()
        session.pop("user_id", None)
        return redirect(url_for("signin.login"))

    return bp


def _problem(user: User | None, password: str) -> str:
    """Why this sign-in fails, as a key of _MESSAGES, or "" when it succeeds."""
    if user is None:
        return "wrong"
    if user.blocked in ("locked", "disabled"):
        return user.blocked
    if not hmac.compare_digest(user.password.encode(), password.encode()):
        return "wrong"
    return user.blocked
