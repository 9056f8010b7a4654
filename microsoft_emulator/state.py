"""What the emulated Microsoft cloud knows: directories, apps, consent, users, mailboxes.

Plain dataclasses, so a state file (JSON or YAML) maps onto them one to one;
`load_state` refuses unknown keys so that a typo in a file fails loudly.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_RESOURCE = "https://graph.microsoft.com"
# The consumer ("MSA") directory, where personal Outlook.com accounts live.
CONSUMERS_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
# The roles that may consent to Microsoft Graph application permissions (recorded in the
# portal's tests/recordings/admin_consent_roles.json): Cloud Application and Application
# Administrators may consent to anything else, not to Graph app roles.
ADMIN_ROLES = ("Global Administrator", "Privileged Role Administrator")
# The "Supported account types" of Register an application. The signInAudience values and
# their labels are entra-docs supported-accounts-validation.md's table, whose labels say
# "(Any Microsoft Entra directory - Multitenant)"; the admin center itself now says "(Any
# Microsoft Entra ID tenant - Multitenant)", as the guides quoting its screen do (e.g. the
# portal's onboarding/microsoft/admin_center.ACCOUNT_TYPE), so the emulator shows that.
AUDIENCES = {
    "AzureADMyOrg": "Accounts in this organizational directory only (Single tenant)",
    "AzureADMultipleOrgs": "Accounts in any organizational directory "
    "(Any Microsoft Entra ID tenant - Multitenant)",
    "AzureADandPersonalMicrosoftAccount": "Accounts in any organizational directory "
    "(Any Microsoft Entra ID tenant - Multitenant) and personal Microsoft accounts "
    "(e.g. Skype, Xbox)",
    "PersonalMicrosoftAccount": "Personal Microsoft accounts only",
}
BLOCKS = ("", "locked", "disabled", "password_expired")


def new_id() -> str:
    return str(uuid.uuid4())


def personal_account_id() -> str:
    """An object ID as Microsoft gives personal accounts: eight zero bytes, then the
    account's 64-bit ID (home account IDs such as "00000000-0000-0000-4e50-4b774f355040.
    9188040d-...": tests/recordings/msa_home_account_id.json)."""
    tail = uuid.uuid4().hex[:16]
    return f"00000000-0000-0000-{tail[:4]}-{tail[4:]}"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Message:
    subject: str
    body: str = ""
    sender: str = ""
    to: list[str] = field(default_factory=list)
    received: datetime = field(default_factory=utc_now)
    id: str = field(default_factory=new_id)


@dataclass
class User:
    upn: str
    password: str
    display_name: str = ""
    id: str = field(default_factory=new_id)
    # False: a user without an Exchange Online mailbox (unlicensed, on-premises).
    mailbox: bool = True
    # What Graph then answers: both codes are seen for such users (MICROSOFT.md §0).
    no_mailbox_code: str = "MailboxNotEnabledForRESTAPI"  # or "ResourceNotFound"
    # The primary e-mail address when it is not the UPN (Graph's `mail`; "" = the UPN),
    # and further addresses mail is delivered to (Entra's proxyAddresses, with or
    # without "smtp:"). Graph's /users/{key} takes the UPN or object ID only: a request
    # by one of these gets 404 ErrorInvalidUser, and so does the password sign-in.
    mail: str = ""
    proxy_addresses: list[str] = field(default_factory=list)
    mfa_required: bool = False
    # False with mfa_required: MFA is required but the user has not registered a method
    # yet (a password sign-in then gets AADSTS50079 instead of 50076).
    mfa_registered: bool = True
    # A Conditional Access policy that blocks this user's password sign-ins (AADSTS53003).
    blocked_by_conditional_access: bool = False
    # True: a personal Microsoft account (Outlook.com), not a work account.
    personal: bool = False
    admin_role: str = ""
    # "", "locked", "disabled" or "password_expired".
    blocked: str = ""
    messages: list[Message] = field(default_factory=list)
    sent: list[Message] = field(default_factory=list)

    @property
    def is_admin(self) -> bool:
        return self.admin_role in ADMIN_ROLES

    @property
    def primary_address(self) -> str:
        """The address mail from this user is sent from."""
        return self.mail or self.upn

    @property
    def addresses(self) -> frozenset[str]:
        """Every address mail to this user is delivered to, lower-cased."""
        proxies = (
            a.split(":", 1)[1] if a.lower().startswith("smtp:") else a for a in self.proxy_addresses
        )
        return frozenset(a.lower() for a in (self.upn, self.mail, *proxies) if a)


@dataclass
class CredentialRestriction:
    """One restriction of an app management policy (Graph's passwordCredentialConfiguration
    or keyCredentialConfiguration): `restriction_type` such as "passwordAddition", for
    apps created on or after `restrict_for_apps_created_after` (ISO 8601; "" is Graph's
    null: every app), with `max_lifetime` (ISO 8601 duration) for the lifetime kinds."""

    restriction_type: str
    restrict_for_apps_created_after: str = ""
    max_lifetime: str = ""


@dataclass
class AppManagementPolicy:
    """The directory's tenant default app management policy (Graph's
    tenantAppManagementPolicy, GET /policies/defaultAppManagementPolicy): disabled and
    empty unless an admin set it (tests/recordings/graph_default_app_management_policy).
    Only application restrictions are kept: the emulator has no service principal
    credentials."""

    is_enabled: bool = False
    password_credentials: list[CredentialRestriction] = field(default_factory=list)
    key_credentials: list[CredentialRestriction] = field(default_factory=list)


@dataclass
class MailGroup:
    """A mail-enabled group in Exchange Online (distribution list, mail-enabled security
    group or Microsoft 365 group), as a management scope's `MemberOfGroup` filter sees
    it: its direct members by UPN (nested groups are out of scope, application-rbac.md).
    `distinguished_name` is what MemberOfGroup compares; "" = the one exchange_rbac makes
    up from the name and the directory's initial domain."""

    name: str
    address: str = ""
    members: list[str] = field(default_factory=list)
    distinguished_name: str = ""
    id: str = field(default_factory=new_id)


@dataclass
class Directory:
    name: str
    domains: list[str]
    id: str = field(default_factory=new_id)
    users: list[User] = field(default_factory=list)
    # Verified domains whose users sign in at the organisation's own AD FS (federated),
    # as the user realm then says; each is one of `domains` too.
    federated_domains: list[str] = field(default_factory=list)
    # Entra's security defaults: password sign-ins of its users get AADSTS530035.
    security_defaults: bool = False
    app_management_policy: AppManagementPolicy = field(default_factory=AppManagementPolicy)
    # Exchange Online's mail-enabled groups (MemberOfGroup in a management scope).
    groups: list[MailGroup] = field(default_factory=list)

    @property
    def initial_domain(self) -> str:
        return self.domains[0] if self.domains else self.id


@dataclass
class ClientSecret:
    value: str
    end: datetime
    display_name: str = ""
    start: datetime = field(default_factory=utc_now)
    key_id: str = field(default_factory=new_id)

    @property
    def hint(self) -> str:
        return self.value[:3]


@dataclass
class Certificate:
    """A key credential (Graph's keyCredential) holding an uploaded certificate's public
    key. `thumbprint` is the SHA-1 one Entra shows and Graph's customKeyIdentifier holds
    (hex, upper-case); start and end are the certificate's own validity."""

    pem: str
    thumbprint: str
    end: datetime
    display_name: str = ""
    start: datetime = field(default_factory=utc_now)
    key_id: str = field(default_factory=new_id)
    thumbprint_sha256: str = ""
    type: str = "AsymmetricX509Cert"
    usage: str = "Verify"

    def __post_init__(self) -> None:
        # Entries saved before the SHA-256 thumbprint was kept (x5t#S256 names a key by it).
        if not self.thumbprint_sha256 and self.pem:
            cert = x509.load_pem_x509_certificate(self.pem.encode())
            self.thumbprint_sha256 = cert.fingerprint(hashes.SHA256()).hex().upper()

    def resource(self) -> dict[str, Any]:
        """Graph's keyCredential resource; `key` left out, as Graph leaves it out."""
        return {
            "customKeyIdentifier": self.thumbprint,
            "displayName": self.display_name or None,
            "endDateTime": iso(self.end),
            "key": None,
            "keyId": self.key_id,
            "startDateTime": iso(self.start),
            "type": self.type,
            "usage": self.usage,
        }


# Graph's name for it.
KeyCredential = Certificate


@dataclass
class Permission:
    """A permission the app asks for; `kind` is "Application" (role) or "Delegated" (scope)."""

    name: str
    kind: str = "Application"
    resource: str = "Microsoft Graph"


@dataclass
class AppRegistration:
    name: str
    directory_id: str
    client_id: str = field(default_factory=new_id)
    object_id: str = field(default_factory=new_id)
    sign_in_audience: str = "AzureADMyOrg"
    redirect_uris: list[str] = field(default_factory=list)
    implicit_access_tokens: bool = False
    implicit_id_tokens: bool = False
    public_client: bool = False
    permissions: list[Permission] = field(default_factory=list)
    secrets: list[ClientSecret] = field(default_factory=list)
    key_credentials: list[Certificate] = field(default_factory=list)
    # When it was registered (ISO 8601; Graph's createdDateTime). "" for registrations
    # saved before it was kept: app management policies then take them as created on
    # 2019-01-01, as Graph does service principals whose createdDateTime is null
    # (appmanagementpolicy-post.md).
    created: str = ""

    @property
    def certificates(self) -> list[Certificate]:
        """The key credentials by the admin center's name for them."""
        return self.key_credentials

    @certificates.setter
    def certificates(self, value: list[Certificate]) -> None:
        self.key_credentials = value

    def permission_names(self, kind: str) -> list[str]:
        return [p.name for p in self.permissions if p.kind == kind]


@dataclass
class ServicePrincipal:
    """An app's presence in one directory, with what was consented there."""

    directory_id: str
    client_id: str
    object_id: str = field(default_factory=new_id)
    app_roles: list[str] = field(default_factory=list)
    delegated_scopes: list[str] = field(default_factory=list)
    # Scopes a single user consented to for themselves: user id -> scopes.
    user_scopes: dict[str, list[str]] = field(default_factory=dict)
    # When admin consent was last granted (ISO 8601, "" = never): tokens issued within
    # State.consent_propagation_seconds of it do not carry the roles yet.
    consented_at: str = ""


@dataclass
class PersonalConsent:
    """The scopes a personal account consented to for itself in one app. The consumer
    directory is Microsoft's, so there is no service principal of the app to hold them."""

    client_id: str
    user_id: str
    scopes: list[str] = field(default_factory=list)


@dataclass
class AccessPolicy:
    """Exchange's New-ApplicationAccessPolicy: which mailboxes an app may reach."""

    directory_id: str
    client_id: str
    mailboxes: list[str]
    mode: str = "RestrictAccess"  # or "DenyAccess"
    description: str = ""


@dataclass
class ExchangeRoleAssignment:
    """Exchange Online's New-ManagementRoleAssignment -App: an application role
    ("Application Mail.Read", ...) granted to an app outside Entra, on some mailboxes
    (a management scope; their addresses here) or, with none listed, on all of them.
    Its permissions add to Entra's consented roles (tests/recordings/
    exchange_rbac_for_applications.json) and never show in the token."""

    directory_id: str
    client_id: str
    role: str
    mailboxes: list[str] = field(default_factory=list)
    # New-ManagementRoleAssignment -CustomResourceScope: a ManagementScope's name (then
    # `mailboxes` is empty and the scope's filter, read at access time, decides), and
    # -Name ("" for assignments made with a mailbox list).
    scope: str = ""
    name: str = ""
    # When it was made and removed (ISO 8601, "" = never): Graph sees a change only
    # State.exchange_propagation_seconds later. "" created_at: in effect from the start.
    created_at: str = ""
    removed_at: str = ""


@dataclass
class ExchangeServicePrincipal:
    """Exchange Online's New-ServicePrincipal: a pointer to the app's Entra service
    principal (AppId, ObjectId) that role assignments name with -App."""

    directory_id: str
    app_id: str
    object_id: str
    display_name: str = ""
    created_at: str = ""
    removed_at: str = ""


@dataclass
class ManagementScope:
    """Exchange Online's New-ManagementScope -Name -RecipientRestrictionFilter: the
    mailboxes an OPATH filter matches (exchange_rbac.parse_filter), read at access time."""

    directory_id: str
    name: str
    recipient_restriction_filter: str
    created_at: str = ""
    removed_at: str = ""


@dataclass
class State:
    directories: list[Directory] = field(default_factory=list)
    apps: list[AppRegistration] = field(default_factory=list)
    service_principals: list[ServicePrincipal] = field(default_factory=list)
    access_policies: list[AccessPolicy] = field(default_factory=list)
    exchange_role_assignments: list[ExchangeRoleAssignment] = field(default_factory=list)
    exchange_service_principals: list[ExchangeServicePrincipal] = field(default_factory=list)
    management_scopes: list[ManagementScope] = field(default_factory=list)
    personal_accounts: list[User] = field(default_factory=list)
    personal_consents: list[PersonalConsent] = field(default_factory=list)
    # Seconds after an admin consent during which new app tokens still lack the roles
    # (tests/recordings/consent_propagation_token_without_roles.json); 0 = at once.
    consent_propagation_seconds: int = 0
    # Seconds after an Exchange service principal, management scope or role assignment is
    # created or removed before Graph sees the change (exchange_rbac.py); 0 = at once.
    exchange_propagation_seconds: int = 0
    # Access token lifetime: 0 is Microsoft's default, random between 60 and 90 minutes
    # (microsoft_emulator.tokens.token_lifetime); a positive value fixes it.
    token_lifetime_seconds: int = 0


def to_plain(value: Any) -> Any:
    """A JSON-ready copy: dataclasses to dicts, datetimes to ISO 8601 with Z."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [to_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, datetime):
        return iso(value)
    return value


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def from_plain(cls: type, data: Any, where: str = "state") -> Any:
    """Build dataclass `cls` from plain data, checking keys and nested types."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    values = {key: _convert(hints[key], item, f"{where}.{key}") for key, item in data.items()}
    try:
        return cls(**values)
    except TypeError as exc:
        raise ValueError(f"{where}: {exc}") from None


def convert_field(cls: type, name: str, value: Any) -> Any:
    """One field's value, checked and converted as `from_plain` would."""
    return _convert(typing.get_type_hints(cls)[name], value, f"{cls.__name__.lower()}.{name}")


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is list:
        (item_type,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected a list")
        return [_convert(item_type, item, f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        _, item_type = typing.get_args(hint)
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected an object")
        return {str(k): _convert(item_type, v, f"{where}.{k}") for k, v in value.items()}
    if origin in (types.UnionType, typing.Union):
        return value
    if dataclasses.is_dataclass(hint):
        return from_plain(hint, value, where)  # type: ignore[arg-type]
    if hint is datetime:
        return parse_time(value)
    if hint in (str, int, bool) and not isinstance(value, hint):
        raise ValueError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value


def load_state(path: Path) -> State:
    """Read a state file; YAML for .yaml/.yml, JSON otherwise."""
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    return state_from_plain(data or {})


def state_from_plain(data: dict[str, Any]) -> State:
    state: State = from_plain(State, _renamed(data))
    ensure_home_service_principals(state)
    return state


def _renamed(data: dict[str, Any]) -> dict[str, Any]:
    """State files from before apps' `certificates` became `key_credentials`."""
    apps = data.get("apps")
    if not isinstance(apps, list):
        return data
    renamed = [
        {
            "key_credentials": app["certificates"],
            **{k: v for k, v in app.items() if k != "certificates"},
        }
        if isinstance(app, dict) and "certificates" in app and "key_credentials" not in app
        else app
        for app in apps
    ]
    return {**data, "apps": renamed}


def save_state(state: State, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(to_plain(state), indent=2), encoding="utf-8")
    temporary.replace(path)


def ensure_home_service_principals(state: State) -> None:
    """Registering an app creates its service principal at home, as Entra does."""
    present = {(sp.directory_id, sp.client_id) for sp in state.service_principals}
    for app in state.apps:
        if (app.directory_id, app.client_id) not in present:
            state.service_principals.append(ServicePrincipal(app.directory_id, app.client_id))
