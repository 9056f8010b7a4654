"""The wizard's steps, in the order of the customer setup guide: the one table that
everything else reads (pages, diagnoses, e-mails, support lists and exports).

A bottom module: it imports no model and no workflow, so any module may use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class Step:
    number: int
    url_name: str  # in the "onboarding" URL namespace; takes the tenant id
    title: str


REGISTER, AUTHENTICATION, PERMISSIONS, SECRET, MAILBOX, VERIFY, DONE = range(1, 8)

STEPS = (
    Step(REGISTER, "register", "Register the application"),
    Step(AUTHENTICATION, "authentication", "Authentication settings"),
    Step(PERMISSIONS, "permissions", "API permissions and admin consent"),
    Step(SECRET, "secret", "Client secret"),
    Step(MAILBOX, "mailbox", "Mailbox"),
    Step(VERIFY, "verify", "Verify"),
    Step(DONE, "done", "Done"),
)
STEP_BY_NUMBER = {step.number: step for step in STEPS}
STEP_COUNT = len(STEPS)

# What must be done before a step opens. Consent (3) is not needed to go on to the
# secret and the mailbox: an admin without the right role forwards the consent
# link to a colleague and carries on meanwhile.
PREREQUISITES: dict[int, tuple[int, ...]] = {
    REGISTER: (),
    AUTHENTICATION: (REGISTER,),
    PERMISSIONS: (REGISTER, AUTHENTICATION),
    SECRET: (REGISTER, AUTHENTICATION),
    MAILBOX: (REGISTER, AUTHENTICATION, SECRET),
    VERIFY: (REGISTER, AUTHENTICATION, PERMISSIONS, SECRET, MAILBOX),
    DONE: (REGISTER, AUTHENTICATION, PERMISSIONS, SECRET, MAILBOX, VERIFY),
}

# Pages outside the wizard that fix a problem: a secret that expired is renewed there.
RENEWAL_URL_NAME = "renew-secret"


def step_path(tenant_id: object, number: int) -> str:
    """The path of one wizard step of a tenant."""
    return reverse(f"onboarding:{STEP_BY_NUMBER[number].url_name}", args=[tenant_id])


# A mailbox's own problem is fixed on that mailbox's form, not on the list of step 5.
MAILBOX_EDIT_URL_NAME = "mailbox-edit"


def fix_path(
    tenant_id: object, *, number: int | None, renew: bool = False, mailbox_id: object = None
) -> str:
    """The path of the page that fixes a problem: the renewal page, the mailbox's form,
    or a wizard step up to Verify. "" when there is none (or the wizard's URLs are not
    installed)."""
    args: list[object] = [tenant_id]
    if renew:
        name = RENEWAL_URL_NAME
    elif number == MAILBOX and mailbox_id is not None:
        name, args = MAILBOX_EDIT_URL_NAME, [tenant_id, mailbox_id]
    elif number is not None and number <= VERIFY:
        name = STEP_BY_NUMBER[number].url_name
    else:
        return ""
    try:
        return reverse(f"onboarding:{name}", args=args)
    except NoReverseMatch:
        return ""
