"""A tenant's history in one list: audit events, notes, consent, checks with their
diagnoses and the expiry reminders sent, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from onboarding.diagnosis import CATALOGUE
from onboarding.models import AppRegistration, AuditEvent, CheckRun, ReminderDispatch, Tenant

LIMIT = 100


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # audit, note, consent, check, reminder
    title: str
    actor: str = ""
    detail: str = ""


def _audit_entry(event: AuditEvent) -> Entry:
    if event.action == "support.note":
        return Entry(event.at, "note", "Internal note", event.actor_label, event.details["text"])
    facts = ", ".join(f"{key}: {value}" for key, value in sorted(event.details.items()))
    return Entry(event.at, "audit", event.action, event.actor_label, facts)


def _consent_entries(tenant: Tenant) -> list[Entry]:
    app = AppRegistration.objects.filter(tenant=tenant, consent_granted_at__isnull=False).first()
    if app is None or app.consent_granted_at is None:
        return []
    by = str(app.consent_granted_by) if app.consent_granted_by_id else ""
    entries = [Entry(app.consent_granted_at, "consent", "Admin consent reported", by)]
    if app.consent_confirmed_at is not None:
        entries.append(
            Entry(app.consent_confirmed_at, "consent", "Admin consent confirmed by a check", "")
        )
    return entries


def _check_entries(tenant: Tenant) -> list[Entry]:
    runs = (
        CheckRun.objects.filter(mailbox__tenant=tenant)
        .select_related("mailbox", "requested_by")
        .order_by("-created_at")[:LIMIT]
    )
    return [
        Entry(
            run.finished_at or run.created_at,
            "check",
            f"Check of {run.mailbox.address}: {run.get_status_display().lower()}",
            str(run.requested_by) if run.requested_by else run.get_trigger_display(),
            _diagnosis_title(run.diagnosis_key, run.error_code),
        )
        for run in runs
    ]


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


def tenant_timeline(tenant: Tenant) -> list[Entry]:
    events = AuditEvent.objects.filter(tenant=tenant).order_by("-at")[:LIMIT]
    entries = [_audit_entry(event) for event in events]
    entries += _consent_entries(tenant) + _check_entries(tenant) + _reminder_entries(tenant)
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:LIMIT]
