"""Entra's two-secret limit, as the renewal pages see it from the portal's own records.

For the account type the guide prescribes (work and personal Microsoft accounts), Entra
keeps "Maximum of two client secrets" (entra-docs supported-accounts-validation.md) and
refuses a third: "Not allowed to add 3 passwords. You can only add a maximum of 2
passwords." (Graph, Azure/azure-cli#12946; "Same error also when adding Secret via
Portal"). Renewal adds a secret while the old one still works and keeps every secret
(a rejected one too), so after one failed renewal the next would be refused. The portal
cannot list the secrets in Entra, so it counts the ones it saved and nobody has said were
deleted in Entra; the admin is told which one to delete before creating a new one.

The portal does not know an app's account type; it assumes the guide's, so for an app
registered otherwise (no limit in Entra) the advice is only cautious, never harmful.
"""

from __future__ import annotations

from dataclasses import dataclass

from onboarding.client_secrets import DELETABLE_STATUSES
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
    limit: int = ENTRA_SECRET_LIMIT

    @property
    def count(self) -> int:
        return len(self.in_entra)

    @property
    def at_limit(self) -> bool:
        return self.count >= self.limit


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
    )
