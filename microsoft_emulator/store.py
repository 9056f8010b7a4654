"""The running emulator's state: one lock, lookups, and the changes pages and tests make.

Every change goes through a method here, so the control API, the Entra pages and the
pytest fixture change the state the same way (and a persisted state file follows).
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

from microsoft_emulator import app_limits
from microsoft_emulator.state import (
    CONSUMERS_TENANT_ID,
    AccessPolicy,
    AppRegistration,
    ClientSecret,
    Directory,
    Message,
    Permission,
    PersonalConsent,
    ServicePrincipal,
    State,
    User,
    ensure_home_service_principals,
    iso,
    save_state,
    utc_now,
)

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DNS_NAME = re.compile(
    r"^(?=.{4,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$"
)
# Entra's current secret format (SEC101/156): 3 chars, "8Q~", 34 chars; 40 in all.
_SECRET_HEAD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_~."
_SECRET_TAIL = _SECRET_HEAD + "-"


def new_secret_value() -> str:
    head = "".join(secrets.choice(_SECRET_HEAD) for _ in range(3))
    tail = "".join(secrets.choice(_SECRET_TAIL) for _ in range(34))
    return f"{head}8Q~{tail}"


class Store:
    def __init__(self, state: State | None = None, persist_to: Path | None = None) -> None:
        self.lock = threading.RLock()
        self.state = state or State()
        ensure_home_service_principals(self.state)
        self.persist_to = persist_to
        self.clock_offset = timedelta()
        self.listeners: list[Callable[[], None]] = []
        # Message id -> the custom internet message headers it was sent with.
        self.message_headers: dict[str, dict[str, str]] = {}

    # --- time -----------------------------------------------------------------
    def now(self) -> datetime:
        return utc_now() + self.clock_offset

    def advance_clock(self, seconds: float) -> None:
        with self.lock:
            self.clock_offset += timedelta(seconds=seconds)

    # --- lookups --------------------------------------------------------------
    def directory(self, tenant: str) -> Directory | None:
        """A directory by GUID or by one of its verified domains."""
        wanted = tenant.lower()
        for directory in self.state.directories:
            if directory.id.lower() == wanted or wanted in (d.lower() for d in directory.domains):
                return directory
        return None

    def consumers(self) -> Directory:
        """The consumer (MSA) directory, whose users are the personal accounts. Not one
        of state.directories: it is Microsoft's, registers no apps and takes no admin
        consent; built on each call, so it follows a replaced state."""
        return Directory(
            name="consumers", domains=[], id=CONSUMERS_TENANT_ID, users=self.state.personal_accounts
        )

    def token_directory(self, tenant_id: str) -> Directory | None:
        """The directory a code, refresh token or access token (its tid) names: a work
        directory, or the consumer one for personal accounts."""
        if tenant_id.lower() == CONSUMERS_TENANT_ID:
            return self.consumers()
        return self.directory(tenant_id) if tenant_id else None

    def personal_consent(self, client_id: str, user_id: str) -> PersonalConsent | None:
        wanted = client_id.lower()
        for consent in self.state.personal_consents:
            if consent.client_id.lower() == wanted and consent.user_id == user_id:
                return consent
        return None

    def app(self, client_id: str) -> AppRegistration | None:
        wanted = client_id.lower()
        return next((a for a in self.state.apps if a.client_id.lower() == wanted), None)

    def app_by_object_id(self, object_id: str) -> AppRegistration | None:
        wanted = object_id.lower()
        return next((a for a in self.state.apps if a.object_id.lower() == wanted), None)

    def service_principal(self, directory_id: str, client_id: str) -> ServicePrincipal | None:
        wanted = client_id.lower()
        for sp in self.state.service_principals:
            if sp.directory_id == directory_id and sp.client_id.lower() == wanted:
                return sp
        return None

    def user_in(self, directory: Directory, key: str) -> User | None:
        """A user of one directory by UPN or object ID."""
        wanted = key.lower()
        return next((u for u in directory.users if wanted in (u.upn.lower(), u.id.lower())), None)

    def users(self) -> Iterator[tuple[Directory | None, User]]:
        for directory in self.state.directories:
            for user in directory.users:
                yield directory, user
        for user in self.state.personal_accounts:
            yield None, user

    def find_user(self, key: str) -> tuple[Directory | None, User] | None:
        """A work user anywhere, or a personal account (directory None)."""
        wanted = key.lower()
        for directory, user in self.users():
            if wanted in (user.upn.lower(), user.id.lower()):
                return directory, user
        return None

    def recipient(self, address: str) -> User | None:
        """The user mail to `address` reaches: by UPN, primary address or alias."""
        wanted = address.lower()
        return next((user for _, user in self.users() if wanted in user.addresses), None)

    def policies(self, directory_id: str, client_id: str) -> list[AccessPolicy]:
        return [
            p
            for p in self.state.access_policies
            if p.directory_id == directory_id and p.client_id.lower() == client_id.lower()
        ]

    # --- changes --------------------------------------------------------------
    def changed(self) -> None:
        """Call after every change: saves the state file when the emulator persists it."""
        if self.persist_to is not None:
            with self.lock:
                save_state(self.state, self.persist_to)
        for listener in self.listeners:
            listener()

    def replace(self, state: State) -> None:
        with self.lock:
            ensure_home_service_principals(state)
            self.state = state
            self.clock_offset = timedelta()
            self.message_headers.clear()
        self.changed()

    def add_directory(self, name: str, domains: list[str], *, id: str | None = None) -> Directory:
        with self.lock:
            directory = Directory(name=name, domains=domains)
            if id:
                directory.id = id
            self.state.directories.append(directory)
        self.changed()
        return directory

    def add_user(self, directory: Directory | None, user: User) -> User:
        with self.lock:
            (directory.users if directory else self.state.personal_accounts).append(user)
        self.changed()
        return user

    def register_app(self, directory: Directory, name: str, **fields: object) -> AppRegistration:
        """ValueError for a display name the account type does not allow (app_limits)."""
        with self.lock:
            app = AppRegistration(name=name, directory_id=directory.id, **fields)  # type: ignore[arg-type]
            app.created = app.created or iso(self.now())
            app_limits.check_app(app.name, app.sign_in_audience, len(app.secrets))
            self.state.apps.append(app)
            self.state.service_principals.append(ServicePrincipal(directory.id, app.client_id))
        self.changed()
        return app

    def create_application(self, directory: Directory, app: AppRegistration) -> AppRegistration:
        """Graph's POST /applications: the registration alone, with no service principal
        (POST /servicePrincipals creates that). ValueError as register_app. A state file
        loaded again still gets its home service principal (ensure_home_service_principals)."""
        with self.lock:
            app.directory_id = directory.id
            app.created = app.created or iso(self.now())
            app_limits.check_app(app.name, app.sign_in_audience, len(app.secrets))
            self.state.apps.append(app)
        self.changed()
        return app

    def add_service_principal(self, directory: Directory, app: AppRegistration) -> ServicePrincipal:
        """Graph's POST /servicePrincipals: the app's service principal in `directory`,
        with nothing consented. The caller checks that there is none yet."""
        with self.lock:
            sp = ServicePrincipal(directory.id, app.client_id)
            self.state.service_principals.append(sp)
        self.changed()
        return sp

    def assign_app_role(self, sp: ServicePrincipal, role: str) -> None:
        """One Microsoft Graph application permission granted to `sp`, as admin consent
        records it (`consent`): the role in app_roles, and consented_at now, so that
        tokens lag behind it as after a consent (grants._settled_roles)."""
        with self.lock:
            if role not in sp.app_roles:
                sp.app_roles.append(role)
            sp.consented_at = iso(self.now())
        self.changed()

    def add_permissions(self, app: AppRegistration, names: list[str], kind: str) -> None:
        with self.lock:
            present = {(p.name, p.kind) for p in app.permissions}
            for name in names:
                if (name, kind) not in present:
                    app.permissions.append(Permission(name=name, kind=kind))
        self.changed()

    def add_secret(
        self,
        app: AppRegistration,
        *,
        display_name: str = "",
        end: datetime | None = None,
        start: datetime | None = None,
    ) -> ClientSecret:
        """A new client secret; `end` defaults to Entra's recommended 180 days, `start` to
        now. Raises app_limits.TooManyAppPasswords past Entra's limit for the account type."""
        with self.lock:
            app_limits.check_new_secret(app)
            start = start or self.now()
            secret = ClientSecret(
                value=new_secret_value(),
                end=end or start + timedelta(days=180),
                display_name=display_name,
                start=start,
            )
            app.secrets.append(secret)
        self.changed()
        return secret

    def consent(self, app: AppRegistration, directory: Directory) -> ServicePrincipal:
        """Admin consent: the directory grants everything the app asks for, as configured."""
        with self.lock:
            sp = self.service_principal(directory.id, app.client_id)
            if sp is None:
                sp = ServicePrincipal(directory.id, app.client_id)
                self.state.service_principals.append(sp)
            sp.app_roles = app.permission_names("Application")
            sp.delegated_scopes = app.permission_names("Delegated")
            sp.consented_at = iso(self.now())  # tokens lag behind it: see grants.py
        self.changed()
        return sp

    def delete_service_principal(self, app: AppRegistration, directory: Directory) -> bool:
        """Delete the app's enterprise application in `directory`, with every grant on it.
        The registration stays; admin consent creates a new one. (A state loaded again from
        a file gets its home service principal back: see ensure_home_service_principals.)"""
        with self.lock:
            sp = self.service_principal(directory.id, app.client_id)
            if sp is not None:
                self.state.service_principals.remove(sp)
        self.changed()
        return sp is not None

    def consent_for_user(self, sp: ServicePrincipal, user: User, scopes: list[str]) -> None:
        with self.lock:
            granted = set(sp.user_scopes.get(user.id, [])) | set(scopes)
            sp.user_scopes[user.id] = sorted(granted)
        self.changed()

    def consent_for_personal_account(
        self, app: AppRegistration, user: User, scopes: list[str]
    ) -> PersonalConsent:
        """A personal account's own consent to `scopes` for `app`, added to any before."""
        with self.lock:
            consent = self.personal_consent(app.client_id, user.id)
            if consent is None:
                consent = PersonalConsent(app.client_id, user.id)
                self.state.personal_consents.append(consent)
            consent.scopes = sorted(set(consent.scopes) | set(scopes))
        self.changed()
        return consent

    def deliver(
        self,
        sender: User,
        message: Message,
        *,
        save_sent: bool,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Drop a sent message into every emulated recipient's inbox, found by any of
        its addresses (aliases too: Exchange delivers to them, Graph's paths don't take
        them), from the sender's primary address, with its custom headers."""
        with self.lock:
            for address in message.to:
                recipient = self.recipient(address)
                if recipient is not None and recipient.mailbox:
                    copy = Message(
                        subject=message.subject,
                        body=message.body,
                        sender=sender.primary_address,
                        to=list(message.to),
                        received=self.now(),
                    )
                    recipient.messages.append(copy)
                    if headers:
                        self.message_headers[copy.id] = dict(headers)
            if save_sent:
                sender.sent.append(message)
                if headers:
                    self.message_headers[message.id] = dict(headers)
        self.changed()

    def headers_of(self, message: Message) -> dict[str, str]:
        """The custom internet message headers a message was sent with. Kept beside the
        state, not in it: a state file reloaded forgets them (state.Message has no field
        for them)."""
        with self.lock:
            return dict(self.message_headers.get(message.id, {}))
