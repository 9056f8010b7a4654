"""Entra's two-secret limit, as the renewal pages see it from the portal's own records.

The limit belongs to the account type. Microsoft's table of validation differences by
signInAudience (entra-docs identity-platform/supported-accounts-validation.md, recorded
in tests/recordings/supported_accounts_two_secrets) gives client secrets "No limit" for
AzureADMyOrg (single tenant) and AzureADMultipleOrgs (work accounts only), and "Maximum of
two client secrets" for AzureADandPersonalMicrosoftAccount and PersonalMicrosoftAccount;
MicrosoftDocs/azure-docs#115848 (merged 2023-10-16) adds that such apps have "a hardcoded
limit of 2 client secrets". Entra refuses the third: "Not allowed to add 3 passwords. You
can only add a maximum of 2 passwords." (Graph, Azure/azure-cli#12946; "Same error also
when adding Secret via Portal"; microsoft/coe-starter-kit#3695 fixed it "by changing
signInAudience in manifest").

The portal cannot read an app's account type: it applies the limit when it asked for one
with personal accounts, that is when the operations app's interactive sign-in is used
(onboarding.microsoft.admin_center.asks(); the guide's default). A single-tenant app then
has no limit, so renewal never asks to delete a secret first; should Entra refuse all the
same (an app registered otherwise), the refusal page still names the one to delete.

Renewal adds a secret while the old one still works and keeps every secret (a rejected
one too), so under the limit, after one failed renewal, the next would be refused. The
portal cannot list the secrets in Entra, so it counts the ones it saved and nobody has
said were deleted in Entra; the admin is told which one to delete before creating a new
one.
"""

from __future__ import annotations

from dataclasses import dataclass

from onboarding.client_secrets import DELETABLE_STATUSES
from onboarding.microsoft import admin_center
from onboarding.models import AppRegistration, ClientSecret

Status = ClientSecret.Status
ENTRA_SECRET_LIMIT = 2
# Entra's words, to recognise (tests/recordings/add_password_too_many_app_passwords.json).
ENTRA_REFUSAL = "Not allowed to add 3 passwords. You can only add a maximum of 2 passwords."


@dataclass(frozen=True)
class SecretRoom:
    """The secrets the portal believes are in Entra, and which one to delete first."""

    in_entra: list[ClientSecret]
    active: ClientSecret | None
    pending: ClientSecret | None
    to_delete: ClientSecret | None
    # None: no limit for the account type the wizard asked for (see secret_limit).
    limit: int | None = ENTRA_SECRET_LIMIT

    @property
    def count(self) -> int:
        return len(self.in_entra)

    @property
    def at_limit(self) -> bool:
        return self.limit is not None and self.count >= self.limit


def secret_limit() -> int | None:
    """Entra's limit on client secrets for the account type the wizard asks for: two when
    it includes personal Microsoft accounts (the operations app's interactive sign-in),
    none for a single-tenant app (Microsoft's "No limit*", a global limit of about 1000
    items on the app object aside)."""
    return ENTRA_SECRET_LIMIT if admin_center.asks().interactive else None


def _deletion_order(secret: ClientSecret) -> tuple[int, object]:
    # A rejected secret never worked; then the retired one replaced longest ago.
    return (0 if secret.status == Status.REJECTED else 1, secret.retired_at or secret.created_at)


def secret_room(app: AppRegistration) -> SecretRoom:
    in_entra = list(app.secrets.filter(deleted_in_entra_at__isnull=True).order_by("created_at"))
    deletable = sorted((s for s in in_entra if s.status in DELETABLE_STATUSES), key=_deletion_order)
    return SecretRoom(
        in_entra=in_entra,
        active=next((s for s in reversed(in_entra) if s.status == Status.ACTIVE), None),
        pending=next((s for s in reversed(in_entra) if s.status == Status.PENDING), None),
        to_delete=deletable[0] if deletable else None,
        limit=secret_limit(),
    )
