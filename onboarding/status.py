"""The one rule for the state a tenant is shown in: the start page, the wizard's Done
page, support's list, tenant page, charts and export all read it from here.

Read-only: it derives the state from the two stored facts that have one writer each,
Tenant.onboarding_step (onboarding.progress) and Tenant.health (onboarding.checks.health).

- While a wizard step is left (onboarding_step below Done), the tenant is "in setup",
  whatever its checks said so far: a check that fails during the setup is a step to
  finish, not a connection that broke, and "Continue the setup" is offered.
- Once the wizard is finished, the health of its checks decides: "Connected" when every
  mailbox passed its last check, otherwise what broke, with no "Continue the setup".

`state_of` is the rule; `STATE_FILTERS` is the same rule as database conditions for the
lists that filter and count in SQL (tests/portal/test_status.py keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Max, Q
from django.utils.formats import date_format

from onboarding.client_secrets import secrets_in_use
from onboarding.diagnosis import CATALOGUE
from onboarding.models import CertificateRollover, ClientSecret, Mailbox, Tenant
from onboarding.steps import DONE, STEP_BY_NUMBER, STEP_COUNT

Health = Tenant.Health

SETUP = "setup"
CONNECTED = "connected"
CHECKING = "checking"
PARTLY = "partly"
FAILING = "failing"
EXPIRED = "expired"


@dataclass(frozen=True)
class State:
    key: str
    label: str  # what every page calls it
    tone: str  # a Bootstrap colour name
    sentence: str  # one plain sentence that says what it means
    setup_left: bool  # "Continue the setup" is offered only then


# Once the wizard is finished, the tenant's health decides.
_FINISHED: dict[str, State] = {
    Health.HEALTHY.value: State(
        CONNECTED, "Connected", "success", "The operations app can read and send mail.", False
    ),
    Health.UNKNOWN.value: State(
        CHECKING,
        "Waiting for a check",
        "secondary",
        "The setup is finished; the next check confirms the connection.",
        False,
    ),
    Health.DEGRADED.value: State(
        PARTLY,
        "Partly working",
        "warning",
        "Mail is read and sent, but part of the last check failed.",
        False,
    ),
    Health.FAILING.value: State(
        FAILING, "Not working", "danger", "The last checks failed: mail has stopped.", False
    ),
    Health.EXPIRED.value: State(
        EXPIRED,
        "Secret expired",
        "danger",
        "The client secret has expired: mail has stopped until it is renewed.",
        False,
    ),
}

# Every state, in the order the lists and charts show them.
STATES: tuple[State, ...] = (
    _FINISHED[Health.HEALTHY.value],
    State(SETUP, "Setup in progress", "primary", "", True),
    _FINISHED[Health.UNKNOWN.value],
    _FINISHED[Health.DEGRADED.value],
    _FINISHED[Health.FAILING.value],
    _FINISHED[Health.EXPIRED.value],
)
STATE_BY_KEY = {state.key: state for state in STATES}
# Finished tenants whose mail needs someone's attention.
NEEDS_ATTENTION = (PARTLY, FAILING, EXPIRED)


def state_of(*, onboarding_step: int, health: str) -> State:
    """THE rule: the state a tenant is shown in, from its setup step and its health."""
    if onboarding_step < DONE:
        step = STEP_BY_NUMBER.get(onboarding_step, STEP_BY_NUMBER[1])
        return State(
            SETUP,
            "Setup in progress",
            "primary",
            f"Step {step.number} of {STEP_COUNT} is next: {step.title}.",
            True,
        )
    return _FINISHED.get(str(health), _FINISHED[Health.UNKNOWN.value])


def tenant_state(tenant: Tenant) -> State:
    return state_of(onboarding_step=tenant.onboarding_step, health=tenant.health)


def _finished_with(*healths: str) -> Q:
    return Q(onboarding_step__gte=DONE, health__in=healths)


# The same rule as conditions on Tenant, for filters and counts in the database.
STATE_FILTERS: dict[str, Q] = {
    CONNECTED: _finished_with(Health.HEALTHY),
    SETUP: Q(onboarding_step__lt=DONE),
    CHECKING: _finished_with(Health.UNKNOWN),
    PARTLY: _finished_with(Health.DEGRADED),
    FAILING: _finished_with(Health.FAILING),
    EXPIRED: _finished_with(Health.EXPIRED),
}


@dataclass(frozen=True)
class Summary:
    """What the start page, the Done page and support's tenant page say about a tenant."""

    state: State
    step: int
    mailboxes: list[Mailbox]
    last_good_check: datetime | None  # the latest check that passed, of any mailbox
    secret_expires_on: date | None  # the secret in use
    credential: ClientSecret | None = None  # the client secret or certificate in use
    # For a certificate: how it will be renewed (by the portal itself, or why not).
    renewal: str = ""
    # The vendor app's name when the tenant connects through it (nothing of theirs expires).
    vendor_app: str = ""

    @property
    def step_title(self) -> str:
        return STEP_BY_NUMBER[self.step].title if self.step in STEP_BY_NUMBER else ""


def tenant_summary(tenant: Tenant) -> Summary:
    """The state with the facts that back it: three small queries."""
    mailboxes = list(Mailbox.objects.filter(tenant=tenant).order_by("address"))
    last_good = Mailbox.objects.filter(tenant=tenant).aggregate(at=Max("last_success_at"))["at"]
    in_use = (
        secrets_in_use()
        .filter(app__tenant=tenant)
        .select_related("app")
        .order_by("-expires_on")
        .first()
    )
    return Summary(
        state=tenant_state(tenant),
        step=tenant.onboarding_step,
        mailboxes=mailboxes,
        last_good_check=last_good,
        secret_expires_on=in_use.expires_on if in_use else None,
        credential=in_use,
        renewal=renewal_sentence(in_use) if in_use is not None else "",
        vendor_app=str(settings.PORTAL_VENDOR_APP_NAME) if tenant.uses_vendor_app else "",
    )


def renewal_sentence(credential: ClientSecret) -> str:
    """How a certificate in use will be renewed: by the portal itself (when, or where it
    stands), or why not; "" for a client secret (its admins are reminded)."""
    if not credential.is_certificate:
        return ""
    lead = settings.PORTAL_CERTIFICATE_ROLLOVER_DAYS
    reminded = "you will be reminded before it expires."
    if lead <= 0:
        return f"Automatic renewal is turned off: {reminded}"
    if credential.app.object_id is None:
        return (
            "Automatic renewal needs the app's Object ID (step 4, beside the Certificate "
            f"ID); until it is given, {reminded}"
        )
    rollover = CertificateRollover.objects.filter(old=credential).first()
    if rollover is None:
        starts = date_format(credential.expires_on - timedelta(days=lead), "j M Y")
        return f"The portal renews it by itself from {starts}: nothing to do."
    if rollover.stage == CertificateRollover.Stage.FAILED:
        found = CATALOGUE.get(rollover.diagnosis_key)
        why = found.title if found else "it stopped"
        return f"Automatic renewal stopped ({why}): {reminded}"
    return f"The portal is renewing it now: {rollover.get_stage_display().lower()}."
