"""CSV export of the filtered tenant list. Cells that a spreadsheet would run as a
formula (text starting with = + - @, or a tab or carriage return) get a leading quote;
numbers stay numbers (-3 days is not a formula). UTF-8 with a byte order mark, which
is how Excel knows the file is not in the Windows code page (Zoë, Müller, 北京)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal

from onboarding.models import Tenant
from onboarding.status import tenant_state
from support.blockers import blocker
from support.tenant_list import days_until

HEADER = [
    "Tenant",
    "State",
    "Onboarding step",
    "Last activity",
    "Consent granted",
    "Consent confirmed",
    "Health",
    "Mailbox",
    "Mailbox health",
    "Last successful check",
    "Secret expires on",
    "Days until expiry",
    "Diagnosis",
    "Directory",
    "Client ID",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
CONTENT_TYPE = "text/csv; charset=utf-8"


def safe_cell(value: object) -> str:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)  # a number the portal computed, never text someone typed
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _row(tenant: Tenant, today: date) -> list[object]:
    app = getattr(tenant, "app_registration", None)
    consent = app.consent_granted_at if app is not None else None
    confirmed = app.consent_confirmed_at if app is not None else None
    return [
        tenant.name,
        tenant_state(tenant).label,
        tenant.setup_progress,
        tenant.last_activity_at.isoformat(),  # type: ignore[attr-defined]
        consent.isoformat() if consent else "",
        confirmed.isoformat() if confirmed else "",
        tenant.get_health_display(),
        tenant.mailbox_address,  # type: ignore[attr-defined]
        tenant.mailbox_health,  # type: ignore[attr-defined]
        tenant.last_success_at.isoformat() if tenant.last_success_at else "",  # type: ignore[attr-defined]
        tenant.secret_expires_on or "",  # type: ignore[attr-defined]
        days_until(tenant.secret_expires_on, today),  # type: ignore[attr-defined]
        blocker(tenant),  # the list's diagnosis column: a failed check or what the setup waits on
        app.directory if app else "",
        app.client_id if app else "",
    ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(tenants: Iterable[Tenant], today: date) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(HEADER)
    for tenant in tenants:
        yield writer.writerow([safe_cell(cell) for cell in _row(tenant, today)])
