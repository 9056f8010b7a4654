"""The scope proof of a limited tenant's check: what the mailbox's steps and one read of
an address outside the scope, together, say about RBAC for Applications.

Graph refuses a mailbox outside an app's Exchange scope exactly as it refuses an app
without permission: 403 ErrorAccessDenied, "Access is denied. Check credentials and try
again." (tests/recordings/graph_rbac_mailbox_out_of_scope.json). And Exchange's grants
add to Entra's ("a union operation", tests/recordings/exchange_rbac_for_applications.json),
so a scope narrows nothing while Entra's Mail consent stays. Hence:

- the probe read refused: green, the scope holds;
- the probe read answered: a named failure, Entra's consent still granted (the token
  carries Mail roles) or a filter matching more (it does not);
- the probe unknown to Graph (or not a mailbox): the proof proves nothing, a failure;
- the mailbox refused on one of read and send: that role's assignment is missing; on
  both, the scope leaves the mailbox out when the probe was answered, and Exchange grants
  nothing at all (no service principal, no assignment, a filter matching no mailbox)
  when it was refused too.

Pure functions over the run's recorded steps (onboarding.checks.results' dicts).
"""

from __future__ import annotations

from collections.abc import Set
from datetime import timedelta
from typing import Any

from django.utils import timezone

from onboarding.diagnosis import consent
from onboarding.models import MailboxScope

PROBE_STEP = "scope_proof"
MAIL_STEPS = ("read_inbox", "send_test")
# Microsoft: "Changes to app permissions are subject to cache maintenance that varies
# between 30 minutes and 2 hours" (tests/recordings/exchange_rbac_cmdlet_reference.json).
SCOPE_SETTLING = timedelta(hours=2)
# How often a check that waits for Exchange tries again within that time.
SCOPE_RETRY_SECONDS = 600.0

# A refusal as Graph gives it, whatever the token's roles made of it (consent.refused).
_REFUSED = frozenset({"access_denied", "no_consent", "missing_mail_read", "missing_mail_send"})
# The probe's address is no mailbox Graph can read (typo, another directory, no licence).
# The probe refused: plainly, or by a legacy application access policy ([RAOP]).
_PROBE_REFUSED = _REFUSED | {"mailbox_out_of_scope"}
_UNUSABLE = frozenset({"unknown_user", "no_mailbox"})
# The keys this module gives a refusal, which a scope applied moments ago may explain.
SCOPE_REFUSALS = frozenset(
    {"scope_excludes_mailbox", "scope_reaches_nothing", "scope_missing_read", "scope_missing_send"}
)

PROBE_REFUSED = (
    "Refused, as it should be: the app cannot read {address}, which is outside its scope."
)


def conclude(done: list[dict[str, Any]], roles: Set[str], probe_address: str) -> None:
    """Rewrite the recorded steps of a limited tenant's check in place: the probe's
    outcome, then the mailbox's refusals, as the module's docstring says."""
    by_name = {step["name"]: step for step in done}
    probe = by_name.get(PROBE_STEP)
    if probe is None:
        return
    probe_answered = probe["outcome"] == "passed"
    probe_refused = probe["outcome"] == "failed" and probe["diagnosis_key"] in _PROBE_REFUSED
    if probe_answered:
        mail_roles = roles & (consent.READ_ROLES | consent.SEND_ROLES)
        _fail(probe, "scope_entra_consent_granted" if mail_roles else "scope_too_wide")
    elif probe_refused:
        probe.update(
            outcome="passed",
            diagnosis_key="",
            message=PROBE_REFUSED.format(address=probe_address),
        )
    elif probe["outcome"] == "failed" and probe["diagnosis_key"] in _UNUSABLE:
        probe["diagnosis_key"] = "scope_probe_unusable"
    read, send = by_name.get("read_inbox"), by_name.get("send_test")
    read_refused = _refused(read)
    send_refused = _refused(send)
    send_passed = send is not None and send["outcome"] == "passed"
    if read_refused and send_passed and read is not None:
        read["diagnosis_key"] = "scope_missing_read"
    elif send_refused and not read_refused and send is not None:
        send["diagnosis_key"] = "scope_missing_send"
    elif read_refused:
        key = "scope_excludes_mailbox" if probe_answered else "scope_reaches_nothing"
        for step in (read, send):
            if _refused(step) and step is not None:
                step["diagnosis_key"] = key


def settling(scope: MailboxScope, done: list[dict[str, Any]]) -> bool:
    """Whether the run's refusals may be Exchange still applying commands run less than
    SCOPE_SETTLING ago (then they are marked scope_propagating, and the run waits)."""
    refusals = [step for step in done if step["diagnosis_key"] in SCOPE_REFUSALS]
    ran = scope.commands_run_at
    if not refusals or ran is None or timezone.now() - ran > SCOPE_SETTLING:
        return False
    for step in refusals:
        step["diagnosis_key"] = "scope_propagating"
    return True


def _refused(step: dict[str, Any] | None) -> bool:
    return step is not None and step["outcome"] == "failed" and step["diagnosis_key"] in _REFUSED


def _fail(step: dict[str, Any], key: str) -> None:
    step.update(outcome="failed", diagnosis_key=key, code=key, message="")
