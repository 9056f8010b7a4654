"""Ready-made states: a directory set up as the guide intends (for tests and the bench),
and the demo state `make run` starts from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from microsoft_emulator.handle import EmulatorHandle
from microsoft_emulator.state import (
    AppRegistration,
    ClientSecret,
    Directory,
    Message,
    State,
    User,
    personal_account_id,
    utc_now,
)

GUIDE_REDIRECT_URIS = ["https://localhost", "http://localhost"]
DEMO_PASSWORDS = {
    "admin": "Contoso-Admin-2026!",
    "dispatch": "Contoso-Mailbox-2026!",
    "mfa": "Contoso-Mfa-2026!",
    "personal": "Outlook-Personal-2026!",
}


@dataclass(frozen=True)
class Ready:
    directory: Directory
    admin: User
    mailbox: User
    app: AppRegistration
    secret: ClientSecret


def ready_directory(
    handle: EmulatorHandle,
    name: str = "Contoso",
    *,
    consent: bool = True,
    permissions: tuple[str, ...] = ("Mail.Read", "Mail.Send"),
    delegated: tuple[str, ...] = (),
    public_client: bool = True,
) -> Ready:
    """A directory where an admin followed the guide: app, Web redirect URIs, public client
    flows on, Mail.Read + Mail.Send application permissions, a secret, and (by default)
    admin consent granted. Its mailbox user has one message in the inbox."""
    slug = name.lower().replace(" ", "")
    directory = handle.add_directory(name, f"{slug}.onmicrosoft.com")
    admin = handle.add_user(directory, f"admin@{slug}.onmicrosoft.com", "Admin-pass-1", admin=True)
    mailbox = handle.add_user(directory, f"dispatch@{slug}.onmicrosoft.com", "Mailbox-pass-1")
    handle.add_message(mailbox, "Welcome", "The first message.", sender=admin.upn)
    app = handle.register_app(
        directory,
        f"{name} operations app",
        redirect_uris=GUIDE_REDIRECT_URIS,
        permissions=list(permissions),
        delegated=list(delegated),
        public_client=public_client,
    )
    secret = handle.add_secret(app, display_name="Oauth")
    if consent:
        handle.grant_admin_consent(app, directory)
    return Ready(directory, admin, mailbox, app, secret)


def demo_state() -> State:
    """Contoso with a Global Administrator, a mailbox, an MFA user; one Outlook.com user.
    No app registration: the person running the demo registers it in the admin center."""
    now = utc_now()
    directory = Directory(name="Contoso", domains=["contoso.onmicrosoft.com"])
    dispatch = User(
        upn="dispatch@contoso.onmicrosoft.com",
        password=DEMO_PASSWORDS["dispatch"],
        display_name="Contoso Dispatch",
        messages=[
            Message(
                subject=f"Delivery request {number}",
                body="Please collect two pallets from dock 4.",
                sender="customer@fabrikam.example",
                to=["dispatch@contoso.onmicrosoft.com"],
                received=now - timedelta(hours=number),
            )
            for number in (1, 2, 3)
        ],
    )
    directory.users = [
        User(
            upn="admin@contoso.onmicrosoft.com",
            password=DEMO_PASSWORDS["admin"],
            display_name="Contoso Admin",
            admin_role="Global Administrator",
        ),
        dispatch,
        User(
            upn="mfa.user@contoso.onmicrosoft.com",
            password=DEMO_PASSWORDS["mfa"],
            display_name="MFA User",
            mfa_required=True,
        ),
    ]
    personal = User(
        upn="someone@outlook.com",
        password=DEMO_PASSWORDS["personal"],
        personal=True,
        id=personal_account_id(),
    )
    return State(directories=[directory], personal_accounts=[personal])
