"""The Python handle on a running emulator: what tests, the demo seed and the control API
use to shape the emulated cloud and to read its counters."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from microsoft_emulator import (
    app_limits,
    certificates,
    exchange_rbac,
    exchange_shell,
    provisioning,
)
from microsoft_emulator.core import Emulator
from microsoft_emulator.faults import Fault, Replay
from microsoft_emulator.state import (
    AccessPolicy,
    AppManagementPolicy,
    AppRegistration,
    Certificate,
    ClientSecret,
    CredentialRestriction,
    Directory,
    ExchangeRoleAssignment,
    ExchangeServicePrincipal,
    MailGroup,
    ManagementScope,
    Message,
    PersonalConsent,
    ServicePrincipal,
    State,
    User,
    iso,
    personal_account_id,
    to_plain,
)


class EmulatorHandle:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.store = emulator.store

    @property
    def state(self) -> State:
        return self.store.state

    def reset(self, state: State | None = None) -> None:
        self.emulator.reset(state)

    def snapshot(self) -> dict[str, Any]:
        with self.store.lock:
            return to_plain(self.store.state)

    # --- directories and users ---------------------------------------------------
    def add_directory(self, name: str, *domains: str, id: str | None = None) -> Directory:
        slug = "".join(ch for ch in name.lower() if ch.isalnum()) or "directory"
        return self.store.add_directory(name, list(domains) or [f"{slug}.onmicrosoft.com"], id=id)

    def set_security_defaults(self, directory: Directory, enabled: bool = True) -> Directory:
        """Entra's security defaults on (or off) for `directory`: its users' password
        sign-ins then get AADSTS530035 (tests/recordings/
        token_password_blocked_by_security_defaults)."""
        with self.store.lock:
            directory.security_defaults = enabled
        self.store.changed()
        return directory

    def set_app_management_policy(
        self, directory: Directory, policy: AppManagementPolicy
    ) -> AppManagementPolicy:
        """The directory's tenant default app management policy, as an admin sets it with
        PATCH /policies/defaultAppManagementPolicy (what GET answers). ValueError for a
        restriction type Graph does not know, or one given twice."""
        provisioning.check_policy(policy)
        with self.store.lock:
            directory.app_management_policy = policy
        self.store.changed()
        return policy

    def block_password_credentials(
        self, directory: Directory, *, created_after: datetime | None = None
    ) -> AppManagementPolicy:
        """The tenant default policy enabled with a passwordAddition restriction: Graph's
        addPassword then refuses apps created on or after `created_after` (every app when
        None) with CredentialTypeNotAllowedAsPerAppPolicy (tests/recordings/
        graph_add_password_blocked_by_policy)."""
        restriction = CredentialRestriction(
            "passwordAddition",
            restrict_for_apps_created_after=iso(created_after) if created_after else "",
        )
        return self.set_app_management_policy(
            directory, AppManagementPolicy(is_enabled=True, password_credentials=[restriction])
        )

    def federate_domain(self, directory: Directory, domain: str) -> Directory:
        """A verified domain of `directory` that signs in at the organisation's AD FS
        (Convert-MsolDomainToFederated): its user realm answers Federated with a MEX URL.
        The emulator runs no AD FS: that URL is the customer's, out of its reach."""
        with self.store.lock:
            if domain.lower() not in (d.lower() for d in directory.domains):
                directory.domains.append(domain)
            if domain.lower() not in (d.lower() for d in directory.federated_domains):
                directory.federated_domains.append(domain)
        self.store.changed()
        return directory

    def add_user(
        self,
        directory: Directory,
        upn: str,
        password: str,
        *,
        admin: bool = False,
        mailbox: bool = True,
        mfa_required: bool = False,
        display_name: str = "",
    ) -> User:
        user = User(
            upn=upn,
            password=password,
            display_name=display_name,
            mailbox=mailbox,
            mfa_required=mfa_required,
            admin_role="Global Administrator" if admin else "",
        )
        return self.store.add_user(directory, user)

    def add_personal_account(self, upn: str, password: str, *, display_name: str = "") -> User:
        """An Outlook.com account, with an object ID shaped as Microsoft's for personal
        accounts (state.personal_account_id) and a mailbox."""
        user = User(
            upn=upn,
            password=password,
            display_name=display_name,
            personal=True,
            id=personal_account_id(),
        )
        return self.store.add_user(None, user)

    def personal_account(self, upn: str) -> User:
        """A personal account by address or object ID (KeyError if there is none)."""
        found = self.store.find_user(upn)
        if found is None or found[0] is not None:
            raise KeyError(f"no personal account {upn}")
        return found[1]

    def update_user(self, user: User, **fields: Any) -> User:
        with self.store.lock:
            for name in fields:
                if not hasattr(user, name) or name in ("id", "messages", "sent"):
                    raise ValueError(f"users have no changeable field {name!r}")
            new_password = "password" in fields and fields["password"] != user.password
            for name, value in fields.items():
                setattr(user, name, value)
        if new_password:  # as in Entra: the user's refresh tokens end (AADSTS50173)
            self.emulator.issuer.revoke_user(user.id, self.store.now())
        self.store.changed()
        return user

    def add_message(self, user: User, subject: str, body: str = "", sender: str = "") -> Message:
        message = Message(
            subject=subject, body=body, sender=sender, to=[user.upn], received=self.store.now()
        )
        with self.store.lock:
            user.messages.append(message)
        self.store.changed()
        return message

    # --- apps, credentials, consent ------------------------------------------------
    def register_app(
        self,
        directory: Directory,
        name: str = "Operations app",
        *,
        redirect_uris: list[str] | None = None,
        permissions: list[str] | None = None,
        delegated: list[str] | None = None,
        public_client: bool = False,
        sign_in_audience: str = "AzureADMyOrg",
    ) -> AppRegistration:
        app = self.store.register_app(
            directory,
            name,
            redirect_uris=list(redirect_uris or []),
            public_client=public_client,
            sign_in_audience=sign_in_audience,
        )
        self.store.add_permissions(app, list(permissions or []), "Application")
        self.store.add_permissions(app, list(delegated or []), "Delegated")
        return app

    def update_app(self, app: AppRegistration, **fields: Any) -> AppRegistration:
        """ValueError for a field apps do not have, or a name or account type that the
        app's account type (or its secrets) does not allow (app_limits)."""
        with self.store.lock:
            for name in fields:
                if not hasattr(app, name) or name in ("client_id", "object_id", "secrets"):
                    raise ValueError(f"apps have no changeable field {name!r}")
            app_limits.check_app(
                str(fields.get("name", app.name)),
                str(fields.get("sign_in_audience", app.sign_in_audience)),
                len(app.secrets),
            )
            for name, value in fields.items():
                setattr(app, name, value)
        self.store.changed()
        return app

    def add_secret(
        self,
        app: AppRegistration,
        *,
        days: float = 180,
        display_name: str = "",
        end: datetime | None = None,
        start: datetime | None = None,
    ) -> ClientSecret:
        """A client secret ending in `days` (negative: already expired), or at `end`.
        Raises app_limits.TooManyAppPasswords past Entra's limit for the account type."""
        when = end or self.store.now() + timedelta(days=days)
        return self.store.add_secret(app, display_name=display_name, end=when, start=start)

    def add_certificate(
        self, app: AppRegistration, certificate: str | bytes, *, display_name: str = ""
    ) -> Certificate:
        """What "Upload certificate" does: a key credential (AsymmetricX509Cert, Verify)
        for a .cer/.pem/.crt in PEM or DER, valid as long as the certificate is; its
        description is the subject unless one is given. ValueError for a file that is
        not a certificate or holds a private key, which Entra refuses."""
        entry = certificates.key_credential(
            certificates.load_certificate(certificate), display_name
        )
        with self.store.lock:
            if any(c.thumbprint == entry.thumbprint for c in app.key_credentials):
                raise ValueError(certificates.ALREADY_ADDED)
            app.key_credentials.append(entry)
        self.store.changed()
        return entry

    def remove_certificate(self, app: AppRegistration, key_id: str) -> bool:
        """Delete the key credential with this Certificate ID; False if there is none."""
        with self.store.lock:
            kept = [c for c in app.key_credentials if c.key_id.lower() != key_id.lower()]
            removed = len(kept) != len(app.key_credentials)
            app.key_credentials = kept
        self.store.changed()
        return removed

    def grant_admin_consent(self, app: AppRegistration, directory: Directory) -> ServicePrincipal:
        """What "Grant admin consent for <org>" does: every configured permission."""
        return self.store.consent(app, directory)

    def set_consent(
        self,
        app: AppRegistration,
        directory: Directory,
        *,
        app_roles: list[str] | None = None,
        delegated_scopes: list[str] | None = None,
    ) -> ServicePrincipal:
        """Exactly these grants in `directory` (the service principal is created if absent)."""
        sp = self.store.consent(app, directory)
        with self.store.lock:
            sp.app_roles = list(app_roles or [])
            sp.delegated_scopes = list(delegated_scopes or [])
        self.store.changed()
        return sp

    def delete_service_principal(self, app: AppRegistration, directory: Directory) -> bool:
        """What deleting the app under Enterprise applications does: the registration
        stays, its service principal in `directory` goes (token requests then fail with
        AADSTS7000229 at home, AADSTS700016 elsewhere). False if there was none."""
        return self.store.delete_service_principal(app, directory)

    def add_access_policy(
        self,
        app: AppRegistration,
        directory: Directory,
        mailboxes: list[str],
        *,
        mode: str = "RestrictAccess",
    ) -> AccessPolicy:
        if mode not in ("RestrictAccess", "DenyAccess"):
            raise ValueError("mode is RestrictAccess or DenyAccess")
        policy = AccessPolicy(directory.id, app.client_id, list(mailboxes), mode)
        with self.store.lock:
            self.store.state.access_policies.append(policy)
        self.store.changed()
        return policy

    def add_exchange_role_assignment(
        self,
        app: AppRegistration,
        directory: Directory,
        role: str,
        mailboxes: list[str] | None = None,
    ) -> ExchangeRoleAssignment:
        """What New-ManagementRoleAssignment -App -Role "Application Mail.Read" does in
        Exchange Online: access to `mailboxes` (addresses; none = every mailbox) without
        any Entra consent, so without roles in the token (exchange_rbac.py)."""
        assignment = ExchangeRoleAssignment(
            directory.id, app.client_id, exchange_rbac.check_role(role), list(mailboxes or [])
        )
        with self.store.lock:
            self.store.state.exchange_role_assignments.append(assignment)
        self.store.changed()
        return assignment

    # --- Exchange Online: RBAC for Applications (exchange_rbac.py) ---------------------
    def add_mail_group(
        self,
        directory: Directory,
        name: str,
        address: str = "",
        members: list[str] | None = None,
        *,
        distinguished_name: str = "",
    ) -> MailGroup:
        """A mail-enabled group (distribution list, mail-enabled security or Microsoft 365
        group) with these direct members (UPNs or addresses), for MemberOfGroup filters."""
        if not name.strip():
            raise ValueError("a group has a name")
        if exchange_rbac.find_group(directory, name) or (
            address and exchange_rbac.find_group(directory, address)
        ):
            raise ValueError(f"the directory already has a group {name or address}")
        group = MailGroup(name, address, list(members or []), distinguished_name)
        with self.store.lock:
            directory.groups.append(group)
        self.store.changed()
        return group

    def set_group_members(self, group: MailGroup, members: list[str]) -> MailGroup:
        """The group's direct members from now on; scopes filtering on it follow at once
        (the filter is read at access time)."""
        with self.store.lock:
            group.members = list(members)
        self.store.changed()
        return group

    def set_exchange_propagation(self, seconds: int) -> None:
        """For `seconds` after an Exchange service principal, management scope or role
        assignment is created or removed, Graph still sees the old state (Microsoft: "30
        minutes and 2 hours"); 0, the default: at once. Test-ServicePrincipalAuthorization
        never waits."""
        if seconds < 0:
            raise ValueError("seconds is 0 or more")
        with self.store.lock:
            self.store.state.exchange_propagation_seconds = int(seconds)
        self.store.changed()

    def new_exchange_service_principal(
        self, directory: Directory, app_id: str, object_id: str, display_name: str = ""
    ) -> ExchangeServicePrincipal:
        """New-ServicePrincipal -AppId -ObjectId -DisplayName: Exchange's pointer to the
        app's Entra service principal in `directory`. ValueError when that service
        principal does not exist with this object ID ("Exchange prevents the creation of
        an invalid pointer", application-rbac.md; the wording here is NOT VERIFIED), or
        Exchange has one for the app already (NOT VERIFIED either)."""
        with self.store.lock:
            entra = self.store.service_principal(directory.id, app_id)
            if entra is None or entra.object_id.lower() != object_id.lower():
                raise ValueError(
                    f"No service principal with AppId '{app_id}' and ObjectId '{object_id}' "
                    "was found in Microsoft Entra ID."
                )
            for key in (app_id, object_id):
                if exchange_rbac.service_principal(self.store.state, directory.id, key):
                    raise ValueError(f"A service principal with AppId '{app_id}' already exists.")
            sp = ExchangeServicePrincipal(
                directory.id,
                entra.client_id,
                entra.object_id,
                display_name,
                created_at=iso(self.store.now()),
            )
            self.store.state.exchange_service_principals.append(sp)
        self.store.changed()
        return sp

    def remove_exchange_service_principal(
        self, directory: Directory, identity: str
    ) -> ExchangeServicePrincipal:
        """Remove-ServicePrincipal -Identity (ObjectId, AppId or DisplayName), with its
        role assignments, as Exchange removes them when Entra's goes (application-rbac.md
        FAQ). Graph sees it after the propagation delay."""
        with self.store.lock:
            state, now = self.store.state, iso(self.store.now())
            sp = exchange_rbac.service_principal(state, directory.id, identity)
            if sp is None:
                raise exchange_rbac.not_found(identity)
            sp.removed_at = now
            for assignment in exchange_rbac.assignments(state, directory.id, sp.app_id):
                if assignment.created_at:  # made with New-ManagementRoleAssignment
                    assignment.removed_at = now
        self.store.changed()
        return sp

    def new_management_scope(
        self, directory: Directory, name: str, recipient_restriction_filter: str
    ) -> ManagementScope:
        """New-ManagementScope -Name -RecipientRestrictionFilter. ValueError for a filter
        the emulator cannot read (exchange_rbac.parse_filter) or a name taken."""
        exchange_rbac.parse_filter(recipient_restriction_filter)
        if not name.strip():
            raise ValueError("a management scope has a name")
        with self.store.lock:
            if exchange_rbac.scope(self.store.state, directory.id, name):
                raise ValueError(f"The management scope '{name}' already exists.")
            created = ManagementScope(
                directory.id, name, recipient_restriction_filter, iso(self.store.now())
            )
            self.store.state.management_scopes.append(created)
        self.store.changed()
        return created

    def remove_management_scope(self, directory: Directory, identity: str) -> ManagementScope:
        """Remove-ManagementScope -Identity. Refused while a role assignment uses it (the
        wording is NOT VERIFIED)."""
        with self.store.lock:
            state = self.store.state
            found = exchange_rbac.scope(state, directory.id, identity)
            if found is None:
                raise exchange_rbac.not_found(identity)
            users = [
                a.name
                for a in state.exchange_role_assignments
                if a.directory_id == directory.id
                and not a.removed_at
                and a.scope.lower() == found.name.lower()
            ]
            if users:
                raise ValueError(
                    f"The management scope '{found.name}' can't be removed because it's "
                    f"used by the role assignment(s) {', '.join(users)}."
                )
            found.removed_at = iso(self.store.now())
        self.store.changed()
        return found

    def new_management_role_assignment(
        self,
        directory: Directory,
        app: str,
        role: str,
        custom_resource_scope: str = "",
        *,
        name: str = "",
    ) -> ExchangeRoleAssignment:
        """New-ManagementRoleAssignment -App (ObjectId, AppId or DisplayName of Exchange's
        service principal) -Role -CustomResourceScope (none: the whole organization).
        ValueError, as Exchange's object-not-found error, when Exchange has no service
        principal for `app` (NOT VERIFIED for -App) or no such scope."""
        exchange_rbac.check_role(role)
        with self.store.lock:
            state = self.store.state
            sp = exchange_rbac.service_principal(state, directory.id, app)
            if sp is None:
                raise exchange_rbac.not_found(app)
            if custom_resource_scope:
                found = exchange_rbac.scope(state, directory.id, custom_resource_scope)
                if found is None:
                    raise exchange_rbac.not_found(custom_resource_scope)
                custom_resource_scope = found.name
            taken = {a.name.lower() for a in state.exchange_role_assignments if not a.removed_at}
            if name and name.lower() in taken:
                raise ValueError(f"The role assignment '{name}' already exists.")
            base = name or f"{role}-{sp.display_name or sp.app_id}"  # NOT VERIFIED
            unique, n = base, 1
            while unique.lower() in taken:
                n += 1
                unique = f"{base}{n}"
            assignment = ExchangeRoleAssignment(
                directory.id,
                sp.app_id,
                role,
                scope=custom_resource_scope,
                name=unique,
                created_at=iso(self.store.now()),
            )
            state.exchange_role_assignments.append(assignment)
        self.store.changed()
        return assignment

    def remove_management_role_assignment(
        self, directory: Directory, identity: str
    ) -> ExchangeRoleAssignment:
        """Remove-ManagementRoleAssignment -Identity (the assignment's name)."""
        wanted = identity.lower()
        with self.store.lock:
            for assignment in self.store.state.exchange_role_assignments:
                if (
                    assignment.directory_id == directory.id
                    and not assignment.removed_at
                    and assignment.name
                    and assignment.name.lower() == wanted
                ):
                    assignment.removed_at = iso(self.store.now())
                    break
            else:
                raise exchange_rbac.not_found(identity)
        self.store.changed()
        return assignment

    def test_service_principal_authorization(
        self, directory: Directory, identity: str, resource: str = ""
    ) -> list[dict[str, str]]:
        """Test-ServicePrincipalAuthorization -Identity [-Resource]: the rows the cmdlet
        shows (exchange_rbac.authorization), without the propagation delay."""
        with self.store.lock:
            user = None
            if resource:
                user = self.store.user_in(directory, resource) or next(
                    (
                        u
                        for u in directory.users
                        if resource.lower() in (*u.addresses, u.display_name.lower())
                    ),
                    None,
                )
                if user is None:
                    raise exchange_rbac.not_found(resource)
            return exchange_rbac.authorization(self.store.state, directory, identity, user)

    def exchange_commands(self, directory: Directory, lines: list[str]) -> exchange_shell.Run:
        """Exchange Online PowerShell lines run in order against `directory`, stopping at
        the first that fails (exchange_shell.run). Removed records Graph no longer sees
        are forgotten first."""
        with self.store.lock:
            exchange_rbac.prune(self.store.state, self.store.now())
        return exchange_shell.run(self, directory, lines)

    def set_consent_propagation(self, seconds: int) -> None:
        """For `seconds` after each admin consent, new app tokens still lack the roles
        (and Graph refuses them), as Microsoft's do for a while; 0, the default: at once."""
        if seconds < 0:
            raise ValueError("seconds is 0 or more")
        with self.store.lock:
            self.store.state.consent_propagation_seconds = int(seconds)
        self.store.changed()

    def grant_personal_consent(
        self, app: AppRegistration, user: User, scopes: list[str]
    ) -> PersonalConsent:
        """What a personal account's Accept on the consent page records: `scopes` (Graph
        delegated permission names) for `app`, so later sign-ins skip the page."""
        return self.store.consent_for_personal_account(app, user, list(scopes))

    def revoke_refresh_tokens(self, user: User) -> None:
        """Every refresh token of the user (work or personal) issued until now ends with
        AADSTS50173, as after a password change or an admin's revocation."""
        self.emulator.issuer.revoke_user(user.id, self.store.now())

    # --- time, faults, counters ----------------------------------------------------
    def advance_clock(self, seconds: float) -> None:
        self.store.advance_clock(seconds)

    def set_fault(self, endpoint: str, **fields: Any) -> Fault:
        fault = Fault(**fields)
        self.emulator.faults.set(endpoint, fault)
        return fault

    def replay(
        self,
        endpoint: str,
        *,
        status: int,
        body: str = "",
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> Replay:
        """Serve a recorded Microsoft response, verbatim, to the next `times` requests."""
        replay = Replay(status=status, body=body, headers=dict(headers or {}), times=times)
        self.emulator.faults.replay(endpoint, replay)
        return replay

    def clear_faults(self) -> None:
        """No injected faults and no queued recordings."""
        self.emulator.faults.clear()

    def set_mailbox_limit(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the limit is at least 1")
        self.emulator.faults.mailbox_limit = limit

    def counters(self) -> dict[str, dict[str, int]]:
        """requests (per endpoint), token_requests (per client ID), grants, injected,
        throttled_mailboxes, peak_concurrency (per mailbox), peak_concurrency_per_app."""
        return self.emulator.faults.snapshot()["counters"]

    def reset_counters(self) -> None:
        self.emulator.faults.reset_counters()
