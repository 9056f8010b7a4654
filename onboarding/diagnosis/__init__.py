"""Catalogue: a Microsoft error -> a plain explanation and the wizard step that fixes it.

Data rather than branches: each entry says what went wrong in an admin's words,
how to fix it as numbered steps, and which wizard step holds the fix. The entries
live by area, one module each (app, secret, consent, mailbox, password, service,
sign_in), with the Microsoft codes that mean them (sign_in's only for its own steps).
`diagnose()` maps what a check saw (an error code, Microsoft's message, the check
step) to an entry; anything unknown becomes a diagnosis that repeats Microsoft's words.
"""

from __future__ import annotations

import re

from onboarding.diagnosis import (
    app,
    consent,
    mailbox,
    password,
    scope,
    secret,
    service,
    sign_in,
    vendor,
)
from onboarding.diagnosis.entry import Diagnosis
from onboarding.steps import fix_path as step_fix_path

_AREAS = (app, secret, consent, mailbox, password, scope, service, sign_in, vendor)

CATALOGUE: dict[str, Diagnosis] = {e.key: e for area in _AREAS for e in area.ENTRIES}
_BY_CODE: dict[str, str] = {code: key for area in _AREAS for code, key in area.CODES.items()}


# Exchange's messages for a mailbox outside the app's scope, as opposed to a plain
# permission problem: both come as 403 ErrorAccessDenied.
_SCOPE_MESSAGE = re.compile(r"AccessPolicy|RAOP|Access to OData is disabled", re.IGNORECASE)


def diagnose(
    code: str, message: str = "", *, status: int | None = None, correlation_id: str = ""
) -> Diagnosis:
    """The catalogue entry for an error seen by a check, or Microsoft's words verbatim."""
    key = _BY_CODE.get(code)
    if code == "ErrorAccessDenied":
        key = "mailbox_out_of_scope" if _SCOPE_MESSAGE.search(message) else "access_denied"
    elif key is None and (status == 429):
        key = "throttled"
    elif key is None and (code.startswith("http_5") or (status is not None and status >= 500)):
        key = "unreachable"
    if key is not None:
        return _with_context(CATALOGUE[key], code, message, correlation_id)
    return Diagnosis(
        key="unknown",
        title=f"Microsoft reported {code or 'an unexpected error'}",
        explanation="The portal does not recognise this error. Microsoft's own message is "
        "below; give support the correlation ID.",
        fix=(
            "Read Microsoft's message below.",
            f"Contact support with the correlation ID {correlation_id or '(none given)'}.",
        ),
        wizard_step=None,
        microsoft_code=code,
        microsoft_message=message,
        correlation_id=correlation_id,
    )


def for_vendor_app(found: Diagnosis) -> Diagnosis:
    """A diagnosis as it reads for a tenant on the vendor's app (onboarding.diagnosis.vendor)."""
    return vendor.for_vendor_app(found, CATALOGUE)


def sign_in_diagnosis(code: str, message: str = "", *, correlation_id: str = "") -> Diagnosis:
    """What a refused refresh of the owner's sign-in means: the sign-in's own entry for
    the codes it knows, else what `diagnose` makes of it."""
    key = sign_in.SIGN_IN_CODES.get(code)
    if key is None:
        return diagnose(code, message, correlation_id=correlation_id)
    return _with_context(CATALOGUE[key], code, message, correlation_id)


def _with_context(entry: Diagnosis, code: str, message: str, correlation_id: str) -> Diagnosis:
    return Diagnosis(
        entry.key,
        entry.title,
        entry.explanation,
        entry.fix,
        entry.wizard_step,
        entry.transient,
        microsoft_code=code,
        microsoft_message=message,
        correlation_id=correlation_id,
    )


def fix_path(*, tenant_id: object, diagnosis: Diagnosis | None, mailbox_id: object = None) -> str:
    """The path of the page that fixes a diagnosis ("" if none): the renewal page for an
    expired secret, the mailbox's form for its own problems (when named), else the wizard
    step the catalogue names."""
    if diagnosis is None:
        return ""
    renew = diagnosis.key == "secret_expired"
    return step_fix_path(
        tenant_id, number=diagnosis.wizard_step, renew=renew, mailbox_id=mailbox_id
    )


def failing_at_step(codes: list[str], number: int) -> Diagnosis | None:
    """Of the mailboxes' current diagnosis codes, the first whose fix is wizard step
    `number`: that step then says its saved answer stopped working instead of "nothing
    more is needed"."""
    return next(
        (CATALOGUE[c] for c in codes if c in CATALOGUE and CATALOGUE[c].wizard_step == number),
        None,
    )
