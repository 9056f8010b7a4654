"""Ready-made states: a directory set up as the guide intends (for tests and the bench),
and the demo state `make run` starts from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from microsoft_emulator import certificates
from microsoft_emulator.handle import EmulatorHandle
from microsoft_emulator.state import (
    AppRegistration,
    ClientSecret,
    Directory,
    Message,
    Permission,
    ServicePrincipal,
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


# The vendor's own directory and its multi-tenant app, for vendor mode in `make run`
# (fixed IDs: scripts/run_portal.py gives them to the portal as PORTAL_VENDOR_APP_ID,
# PORTAL_VENDOR_APP_OBJECT_ID and PORTAL_VENDOR_DIRECTORY).
VENDOR_DIRECTORY_ID = "7d1c4e2a-3b5f-4a6e-9c8d-1f2e3a4b5c6d"
VENDOR_APP_ID = "3f9a7c1e-5b2d-4e8f-a6c4-9d1b2e3f4a5b"
VENDOR_APP_OBJECT_ID = "b2c4d6e8-1a3f-4b5d-8e7c-6a9b0c1d2e3f"
VENDOR_APP_NAME = "Mail connector"
# The vendor's registration app (automatic mode): multi-tenant, a public client, the
# delegated permissions with which the portal registers a customer's own app.
PROVISIONING_APP_ID = "6c2e8a4f-1d3b-4f5a-9e7c-2b4d6f8a0c1e"
PROVISIONING_CALLBACK_PATH = "/onboarding/provisioning/callback/"
PROVISIONING_SCOPES = (
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "Application.Read.All",
    "Policy.Read.ApplicationConfiguration",
    "User.Read",
)
# What the README tells the vendor to configure: work accounts of any directory, the
# portal's two vendor callbacks, Mail.Read and Mail.Send (application) and User.Read.
VENDOR_CALLBACK_PATHS = (
    "/onboarding/vendor/consent/callback/",
    "/onboarding/vendor/sign-in/callback/",
)


def add_vendor(state: State, *, portal_url: str, certificate_pem: str = "") -> AppRegistration:
    """The vendor's directory and multi-tenant app, once; its certificate (the portal's
    vendor credential) added when it is not on the app yet. Returns the app."""
    directory = next((d for d in state.directories if d.id == VENDOR_DIRECTORY_ID), None)
    if directory is None:
        directory = Directory(
            name="Logistics vendor",
            domains=["logisticsvendor.onmicrosoft.com"],
            id=VENDOR_DIRECTORY_ID,
        )
        state.directories.append(directory)
    app = next((a for a in state.apps if a.client_id == VENDOR_APP_ID), None)
    if app is None:
        app = AppRegistration(
            name=VENDOR_APP_NAME,
            directory_id=VENDOR_DIRECTORY_ID,
            client_id=VENDOR_APP_ID,
            object_id=VENDOR_APP_OBJECT_ID,
            sign_in_audience="AzureADMultipleOrgs",
            permissions=[
                Permission("Mail.Read"),
                Permission("Mail.Send"),
                Permission("User.Read", kind="Delegated"),
            ],
        )
        state.apps.append(app)
        state.service_principals.append(ServicePrincipal(VENDOR_DIRECTORY_ID, VENDOR_APP_ID))
    base = portal_url.rstrip("/")
    app.redirect_uris = [f"{base}{path}" for path in VENDOR_CALLBACK_PATHS]
    registrar = next((a for a in state.apps if a.client_id == PROVISIONING_APP_ID), None)
    if registrar is None:
        registrar = AppRegistration(
            name=f"{VENDOR_APP_NAME} setup",
            directory_id=VENDOR_DIRECTORY_ID,
            client_id=PROVISIONING_APP_ID,
            sign_in_audience="AzureADMultipleOrgs",
            public_client=True,
            permissions=[Permission(scope, kind="Delegated") for scope in PROVISIONING_SCOPES],
        )
        state.apps.append(registrar)
        state.service_principals.append(ServicePrincipal(VENDOR_DIRECTORY_ID, PROVISIONING_APP_ID))
    registrar.redirect_uris = [f"{base}{PROVISIONING_CALLBACK_PATH}"]
    if certificate_pem:
        entry = certificates.key_credential(certificates.load_certificate(certificate_pem))
        if all(c.thumbprint != entry.thumbprint for c in app.key_credentials):
            app.key_credentials.append(entry)
    return app


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
