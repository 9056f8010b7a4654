"""A tenant's history in one list, newest first, one entry per event, each a sentence:
audit events, notes, checks with their diagnoses and the expiry reminders sent.

One entry per event: the audit log already records consent (granted, confirmed), so it
is not drawn again from the app registration; a check is one entry (who asked, its
result, the health it moved the mailbox to), not three (requested, run, health changed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onboarding.diagnosis import CATALOGUE
from onboarding.models import AppRegistration, AuditEvent, CheckRun, ReminderDispatch, Tenant
from support.blockers import CONSENT_FAILURES, consent_failure_kind

LIMIT = 100

# What the kinds are called in the filter, in its order.
KINDS = {
    "setup": "Setup",
    "consent": "Consent",
    "check": "Checks",
    "secret": "Secrets",
    "reminder": "Reminders",
    "note": "Notes",
    "support": "Support",
    "sign_in": "Sign-ins",
}

HEALTH = dict(Tenant.Health.choices)


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # a key of KINDS
    title: str  # a sentence
    actor: str = ""
    detail: str = ""


Details = dict[str, Any]


def _consent_failed(d: Details) -> str:
    kind = consent_failure_kind(d)
    return CONSENT_FAILURES.get(kind, f"Admin consent failed ({d.get('code') or 'no code'})")


def _health(d: Details) -> str:
    return HEALTH.get(str(d.get("new", "")), str(d.get("new", "")))


# action -> (kind, sentence from the event's details). Unknown actions keep their code.
SENTENCES: dict[str, tuple[str, Callable[[Details], str]]] = {
    "tenant.created": ("support", lambda d: "Tenant created"),
    "tenant.expired": ("secret", lambda d: "The client secret in use expired: mail stopped"),
    "invitation.sent": ("support", lambda d: f"Invitation sent to {d.get('email', 'an admin')}"),
    "invitation.resent": (
        "support",
        lambda d: f"Invitation sent again to {d.get('email', 'an admin')}",
    ),
    "invitation.email_failed": ("support", lambda d: "The invitation e-mail could not be sent"),
    "invitation.accepted": ("setup", lambda d: "Invitation accepted: the admin's account exists"),
    "invitation.accepted_notified": (
        "support",
        lambda d: f"{d.get('notified', 'The inviter')} was told the invitation was accepted",
    ),
    "app_registration.saved": (
        "setup",
        lambda d: (
            "Step 1: app registration saved"
            + (" (the earlier consent no longer applies)" if d.get("consent_cleared") else "")
        ),
    ),
    "app_registration.authentication_confirmed": (
        "setup",
        lambda d: "Step 2: authentication settings confirmed",
    ),
    "consent.granted": (
        "consent",
        lambda d: (
            "Admin consent reported by Microsoft's consent page"
            + (" (forwarded link)" if d.get("via") == "forwarded link" else "")
            if d.get("via") != "PowerShell script"
            else "Admin consent granted by the PowerShell script (pasted output)"
        ),
    ),
    "consent.failed": ("consent", _consent_failed),
    "setup_mode.chosen": (
        "setup",
        lambda d: (
            "Way to connect chosen: "
            + ("the vendor's app" if d.get("mode") == "vendor" else "their own app")
        ),
    ),
    "vendor_consent.granted": (
        "consent",
        lambda d: (
            "Admin consent to the vendor's app, proved by an administrator's sign-in "
            f"in directory {d.get('directory_id', '?')}"
        ),
    ),
    "vendor_consent.failed": ("consent", _consent_failed),
    "scope.chosen": ("setup", lambda d: "Chose to limit the app to its mailboxes (Exchange RBAC)"),
    "scope.saved": (
        "setup",
        lambda d: (
            "Saved the mailbox scope (address outside it: "
            f"{d.get('probe_address', '?')}{'; a group' if d.get('group') else ''})"
        ),
    ),
    "scope.commands_run": ("setup", lambda d: "Ran the Exchange commands that limit the app"),
    "scope.removed": ("setup", lambda d: "Went back to tenant-wide access"),
    "provisioning.started": (
        "setup",
        lambda d: (
            f"The portal started registering the app (credential: {d.get('credential', '?')})"
        ),
    ),
    "provisioning.registered": (
        "setup",
        lambda d: f"The portal registered the app {d.get('client_id', '?')}: steps 1 to 4 done",
    ),
    "provisioning.failed": (
        "setup",
        lambda d: (
            f"The app's registration stopped at {d.get('step', '?')} ({d.get('code', '?')})"
            + (": items left in the directory" if d.get("left_over") else ": nothing left")
        ),
    ),
    "provisioning.cleaned": (
        "setup",
        lambda d: "Items an earlier registration left in the directory removed",
    ),
    "consent.confirmed": ("consent", lambda d: "Admin consent confirmed by a passing check"),
    "client_secret.saved": ("secret", lambda d: "Step 4: client secret saved"),
    "client_secret.active": ("secret", lambda d: "Client secret proved by a check: now in use"),
    "client_secret.retired": ("secret", lambda d: "Client secret retired"),
    "client_secret.rejected": ("secret", lambda d: "Client secret failed its check"),
    "client_secret.renewal_started": ("secret", lambda d: "Secret renewal started"),
    "client_secret.renewed": ("secret", lambda d: "Secret renewed: the new secret is in use"),
    "client_secret.renewal_failed": ("secret", lambda d: "Secret renewal failed its check"),
    "client_secret.limit_reported": (
        "secret",
        lambda d: "Entra's limit of two secrets reached during a renewal",
    ),
    "client_secret.deleted_in_entra": ("secret", lambda d: "Old secret deleted in Entra"),
    "app_registration.object_id_saved": (
        "setup",
        lambda d: "Step 4: the app's Object ID saved (the certificate renews itself)",
    ),
    "certificate.saved": ("secret", lambda d: "Step 4: certificate saved"),
    "certificate.expiry_moved": (
        "support",
        lambda d: f"Demo: the certificate's expiry moved to {d.get('expires_on', '?')}",
    ),
    "certificate.renewal_started": (
        "secret",
        lambda d: "A certificate saved to replace the credential in use: being checked",
    ),
    "certificate.rollover_started": (
        "secret",
        lambda d: "Certificate renewal started by the portal (expiry inside the lead time)",
    ),
    "certificate.rollover_key_made": ("secret", lambda d: "Renewal: the next key pair made"),
    "certificate.rollover_key_added": (
        "secret",
        lambda d: "Renewal: the next certificate added to the app in Entra (addKey)",
    ),
    "certificate.rollover_proving": ("secret", lambda d: "Renewal: checking the new certificate"),
    "certificate.rollover_switched": (
        "secret",
        lambda d: "Renewal: the new certificate passed its check and is in use",
    ),
    "certificate.rollover_retrying": (
        "secret",
        lambda d: f"Renewal: Microsoft answered {d.get('error_code', 'an error')}, trying again",
    ),
    "certificate.rollover_done": (
        "secret",
        lambda d: "Renewal finished: the old certificate removed from the app (removeKey)",
    ),
    "certificate.rollover_failed": (
        "secret",
        lambda d: (
            "Certificate renewal stopped: "
            + (CATALOGUE[d["diagnosis"]].title if d.get("diagnosis") in CATALOGUE else "error")
            + " (the certificate in use keeps working)"
        ),
    ),
    "mailbox.added": ("setup", lambda d: f"Step 5: mailbox {d.get('address', '')} added"),
    "mailbox.changed": ("setup", lambda d: f"Mailbox {d.get('address', '')} changed"),
    "mailbox.removed": ("setup", lambda d: f"Mailbox {d.get('address', '')} removed"),
    "mailbox.health_changed": (
        "check",
        lambda d: f"{d.get('mailbox') or 'A mailbox'} is now: {_health(d)}",
    ),
    "vault.undecryptable": (
        "secret",
        lambda d: "A stored secret can no longer be decrypted: it must be entered again",
    ),
    "notification_address.added": (
        "support",
        lambda d: f"{d.get('email', 'An address')} now receives the reminders",
    ),
    "reminder.sent": ("reminder", lambda d: "Expiry reminder sent"),
    "support.customer_reference_set": (
        "support",
        lambda d: (
            f"Customer reference set to {d['after']}"
            if d.get("after")
            else "Customer reference removed"
        ),
    ),
    "api.credentials_exported": (
        "secret",
        lambda d: f"Credentials exported to {d.get('service_account') or 'a service account'}",
    ),
    "login": ("sign_in", lambda d: "Signed in"),
    "logout": ("sign_in", lambda d: "Signed out"),
    "login.failed": ("sign_in", lambda d: "A sign-in failed"),
    "login.locked_out": ("sign_in", lambda d: "Sign-in locked after repeated failures"),
}

# Drawn as part of their check's entry instead (one entry per event).
FOLDED_INTO_CHECK = ("check.requested", "mailbox.health_changed")

# Facts worth showing under a sentence; the rest stay in the audit log.
DETAIL_KEYS = {
    "client_id": "client ID",
    "directory": "directory",
    "secret_id": "Secret ID",
    "expires_on": "expires",
    "code": "Microsoft's code",
    "upn": "signs in as",
}


def _audit_entry(event: AuditEvent) -> Entry:
    if event.action == "support.note":
        return Entry(event.at, "note", "Internal note", event.actor_label, event.details["text"])
    known = SENTENCES.get(event.action)
    if known is None:
        facts = ", ".join(f"{key}: {value}" for key, value in sorted(event.details.items()))
        return Entry(event.at, "support", event.action, event.actor_label, facts)
    kind, sentence = known
    facts = ", ".join(
        f"{label} {event.details[key]}"
        for key, label in DETAIL_KEYS.items()
        if event.details.get(key)
    )
    return Entry(event.at, kind, sentence(event.details), event.actor_label, facts)


def _consent_entries(tenant: Tenant, audited: set[str]) -> list[Entry]:
    """Consent the audit log does not record (set before it did, or by the demo data):
    drawn from the app registration, never twice."""
    app = AppRegistration.objects.filter(tenant=tenant, consent_granted_at__isnull=False).first()
    if app is None or app.consent_granted_at is None:
        return []
    entries = []
    if "consent.granted" not in audited:
        by = str(app.consent_granted_by) if app.consent_granted_by_id else ""
        entries.append(
            Entry(app.consent_granted_at, "consent", SENTENCES["consent.granted"][1]({}), by)
        )
    if app.consent_confirmed_at is not None and "consent.confirmed" not in audited:
        entries.append(
            Entry(app.consent_confirmed_at, "consent", SENTENCES["consent.confirmed"][1]({}))
        )
    return entries


def _check_entries(tenant: Tenant, moved: dict[str, str]) -> list[Entry]:
    runs = (
        CheckRun.objects.filter(mailbox__tenant=tenant)
        .select_related("mailbox", "requested_by")
        .order_by("-created_at")[:LIMIT]
    )
    entries = []
    for run in runs:
        result = {
            CheckRun.Status.PASSED: "passed",
            CheckRun.Status.FAILED: "failed",
        }.get(run.status, "not finished yet")  # type: ignore[call-overload]
        title = f"Check of {run.mailbox.address} {result}"
        details = [_diagnosis_title(run.diagnosis_key, run.error_code)]
        if str(run.pk) in moved:
            details.append(f"Mailbox health now: {moved[str(run.pk)]}")
        who = str(run.requested_by) if run.requested_by else run.get_trigger_display()
        entries.append(
            Entry(
                run.finished_at or run.created_at,
                "check",
                title,
                who,
                ". ".join(filter(None, details)),
            )
        )
    return entries


def _diagnosis_title(key: str, error_code: str) -> str:
    diagnosis = CATALOGUE.get(key)
    return diagnosis.title if diagnosis else error_code


def _reminder_entries(tenant: Tenant) -> list[Entry]:
    sent = (
        ReminderDispatch.objects.filter(
            secret__app__tenant=tenant, status=ReminderDispatch.Status.SENT
        )
        .select_related("secret")
        .order_by("-sent_at")[:LIMIT]
    )
    return [
        Entry(
            reminder.sent_at or reminder.claimed_at,
            "reminder",
            f"Expiry reminder sent for secret {reminder.secret.hint}•••",
            "",
            f"Expires {reminder.expires_on:%d %b %Y}; {reminder.recipients} recipient(s)",
        )
        for reminder in sent
    ]


def tenant_timeline(tenant: Tenant, kind: str = "") -> list[Entry]:
    """The tenant's events, newest first; only those of `kind` when it is one of KINDS."""
    events = list(AuditEvent.objects.filter(tenant=tenant).order_by("-at")[:LIMIT])
    runs = CheckRun.objects.filter(mailbox__tenant=tenant).values_list("pk", flat=True)
    check_ids = {str(pk) for pk in runs[: LIMIT * 2]}
    moved = {
        str(event.details.get("check_run")): _health(event.details)
        for event in events
        if event.action == "mailbox.health_changed"
    }
    entries = []
    for event in events:
        run_id = str(event.details.get("check_run") or event.object_id)
        if event.action in FOLDED_INTO_CHECK and run_id in check_ids:
            continue  # its check's entry says it
        # reminder.sent is also drawn from the dispatch, with its facts.
        if event.action == "reminder.sent":
            continue
        entries.append(_audit_entry(event))
    entries += _consent_entries(tenant, {event.action for event in events})
    entries += _check_entries(tenant, moved) + _reminder_entries(tenant)
    if kind in KINDS:
        entries = [entry for entry in entries if entry.kind == kind]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:LIMIT]
