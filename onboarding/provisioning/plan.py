"""What the portal will do in the admin's directory when it registers their app: each
change in plain words and as its Graph call, shown before the admin signs in, and the
settings the workflow then uses (onboarding.provisioning.workflow)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from onboarding.microsoft import admin_center
from onboarding.models import Tenant
from onboarding.provisioning.script import DELEGATED_SCOPES


@dataclass(frozen=True)
class Change:
    words: str
    call: str  # the Graph request, as a line of text


@dataclass(frozen=True)
class Plan:
    display_name: str
    redirect_uris: list[str]
    credential_kind: str  # "certificate" or "secret"
    delegated_scope_ids: tuple[str, ...]
    changes: tuple[Change, ...]


def plan_for(
    tenant: Tenant, *, display_name: str, redirect_uris: list[str], credential_kind: str
) -> Plan:
    asks = admin_center.asks()
    graph = str(settings.MICROSOFT_GRAPH_URL).rstrip("/") + "/v1.0"
    account = (
        "work and personal Microsoft accounts" if asks.interactive else "your organisation only"
    )
    delegated = tuple(DELEGATED_SCOPES[name] for name in asks.delegated_permissions)
    secret = credential_kind == "secret"
    changes = [
        Change(
            "Read your own directory roles, to stop before anything is made if you cannot "
            "grant admin consent.",
            f"GET {graph}/me/transitiveMemberOf",
        ),
        Change(
            "Read your directory's app management policies: whether client secrets are "
            "allowed, and for how long.",
            f"GET {graph}/policies/defaultAppManagementPolicy",
        ),
        Change(
            f"Look for an app named “{display_name}” already in your directory.",
            f"GET {graph}/applications?$filter=displayName eq '…'",
        ),
        Change(
            f"Register the application “{display_name}” for {account}, with the redirect "
            f"URIs {', '.join(redirect_uris)}, asking for Microsoft Graph's Mail.Read and "
            "Mail.Send application permissions"
            + (" and the delegated Mail.Read" if delegated else "")
            + (
                ""
                if secret
                else ", with the portal's certificate (its private key stays in the portal)"
            )
            + ".",
            f"POST {graph}/applications",
        ),
        Change(
            "Create its enterprise application (service principal).",
            f"POST {graph}/servicePrincipals",
        ),
        Change(
            "Grant it Mail.Read and Mail.Send: this is the admin consent, for the whole "
            "directory (every mailbox, unless you limit it in Exchange Online).",
            f"POST {graph}/servicePrincipals/{{Microsoft Graph}}/appRoleAssignedTo (twice)",
        ),
    ]
    if secret:
        changes.append(
            Change(
                "Add a client secret, which goes straight into the portal's vault and is "
                "shown to nobody (a certificate instead if your policy blocks secrets).",
                f"POST {graph}/applications/{{id}}/addPassword",
            )
        )
    changes.append(
        Change(
            "If a step fails, remove what this attempt made (deleting the application "
            "removes its enterprise application and grants).",
            f"DELETE {graph}/applications/{{id}}",
        )
    )
    return Plan(display_name, redirect_uris, credential_kind, delegated, tuple(changes))
