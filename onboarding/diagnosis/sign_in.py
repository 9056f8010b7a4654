"""The mailbox owner's own Microsoft sign-in (delegated access, step 5).

These entries explain a refresh that Microsoft refused: the fix is always the owner
signing in again ("Connect again"), which the alert e-mails to the owner and the
tenant's admins as a one-click link. The codes here are read only for the sign-in's
steps (`SIGN_IN_CODES`): the same AADSTS number means another fix for the legacy
password sign-in, so they are not in the catalogue's global `CODES`.
"""

from __future__ import annotations

from onboarding.diagnosis.entry import entry
from onboarding.steps import MAILBOX

_AGAIN = (
    "Choose “Connect again” in the e-mail the portal sent, or in step 5 beside the "
    "mailbox, and sign in as the mailbox with Microsoft."
)

ENTRIES = [
    entry(
        "sign_in_missing",
        "The mailbox owner has not connected this mailbox yet",
        "This is a personal Microsoft account (Outlook.com, Hotmail, Live): Microsoft lets "
        "an app reach it only when its owner signs in once and allows it. An app "
        "registration's own permissions never reach a personal account.",
        (
            "In step 5, choose “Connect with Microsoft” beside the mailbox and sign in as it, "
            "or send its owner the link the page offers.",
        ),
        MAILBOX,
    ),
    # AADSTS50173: tests/recordings/token_refresh_revoked_password_change.json.
    entry(
        "sign_in_revoked",
        "The mailbox's sign-in was ended: its password changed, or it was signed out",
        "Microsoft no longer accepts the sign-in the mailbox's owner gave the portal. That "
        "happens when the account's password is changed or reset, or when the owner or an "
        "administrator signs the account out of every session (revokes its sessions); "
        "rarely, Microsoft refuses a stored sign-in as invalid.",
        (_AGAIN, "Run the check again afterwards; nothing else needs changing."),
        MAILBOX,
    ),
    # AADSTS700082: tests/recordings/token_refresh_inactive.json.
    entry(
        "sign_in_expired",
        "The mailbox's sign-in expired after 90 days without use",
        "Microsoft ends a sign-in that has not been used for 90 days. The portal's scheduled "
        "checks use it every day; they could not run for this mailbox for that long.",
        (_AGAIN, "Check that the portal's scheduled checks run (support can tell)."),
        MAILBOX,
    ),
    # AADSTS65001 at a refresh: tests/recordings/token_password_no_delegated_consent.json
    # (the same answer for any delegated token without consent).
    entry(
        "sign_in_consent_withdrawn",
        "Permission for the portal's app to use this mailbox was withdrawn",
        "The mailbox's owner or an administrator removed the app's permission to read and "
        "send this mailbox's mail (at https://account.live.com/consent/Manage for a "
        "personal account, or under Enterprise applications > Permissions).",
        (_AGAIN + " Microsoft then asks for the permission again: allow it.",),
        MAILBOX,
    ),
    # AADSTS50076 / 50079 / 53003: tests/recordings/token_refresh_mfa_required.json,
    # token_password_mfa_registration_required.json,
    # token_password_blocked_by_conditional_access.json.
    entry(
        "sign_in_interaction",
        "Microsoft now wants the mailbox's owner to sign in again themselves",
        "A sign-in policy changed since the owner connected the mailbox (multi-factor "
        "authentication, or a Conditional Access policy), and Microsoft asks the owner to "
        "prove it is them before it lets the portal use the mailbox again.",
        (
            _AGAIN + " Complete the extra verification Microsoft asks for.",
            "If Conditional Access blocks it, an administrator must allow this app under "
            "Protection > Conditional Access.",
        ),
        MAILBOX,
    ),
    # AADSTS50057 / 50053: tests/recordings/token_password_account_disabled.json,
    # token_password_account_locked.json.
    entry(
        "sign_in_blocked",
        "The mailbox's account is blocked from signing in",
        "Microsoft refuses every sign-in to this account: it is disabled, or locked after "
        "too many failed sign-ins.",
        (
            "An administrator unblocks the account (Microsoft 365 admin center > Users > "
            "Unblock sign-in); a locked account unlocks itself after a while.",
            "Run the check again; connect the mailbox again only if it still fails.",
        ),
        MAILBOX,
    ),
    # Graph's MailboxNotEnabledForRESTAPI (tests/recordings/graph_messages_mailbox_not_enabled)
    # for the owner's own token: the account signed in, but has no Outlook.com mailbox.
    entry(
        "personal_not_a_mailbox",
        "This Microsoft account has no Outlook.com mailbox",
        "The owner signed in, but Microsoft finds no mailbox for the account: a Microsoft "
        "account made with another provider's address (Gmail, say) has none, or the "
        "Outlook.com mailbox was closed.",
        (
            "Check the address in step 5: it must be an Outlook.com, Hotmail or Live mailbox.",
            "Open https://outlook.live.com once as the account, then run the check again.",
        ),
        MAILBOX,
    ),
    entry(
        "sign_in_unreadable",
        "The portal can no longer read this mailbox's stored sign-in",
        "The sign-in saved for this mailbox cannot be decrypted (the key it was stored "
        "under is no longer available), so it could not be used. Support has been told.",
        (_AGAIN,),
        MAILBOX,
    ),
]

CODES: dict[str, str] = {}

# Microsoft's answers to a refresh, read only for the sign-in's own steps.
SIGN_IN_CODES = {
    "AADSTS50173": "sign_in_revoked",
    # A refresh token Microsoft does not accept (tests/recordings/token_refresh_malformed).
    "AADSTS70000": "sign_in_revoked",
    "AADSTS700082": "sign_in_expired",
    "AADSTS65001": "sign_in_consent_withdrawn",
    "AADSTS50076": "sign_in_interaction",
    "AADSTS50079": "sign_in_interaction",
    "AADSTS53003": "sign_in_interaction",
    "AADSTS50057": "sign_in_blocked",
    "AADSTS50053": "sign_in_blocked",
}

# Diagnoses whose fix is the owner signing in again: their alert carries the link.
# (Not sign_in_missing: a mailbox never connected has had no break to tell its owner of.)
RECONNECT = frozenset(
    {
        "sign_in_revoked",
        "sign_in_expired",
        "sign_in_consent_withdrawn",
        "sign_in_interaction",
        "sign_in_unreadable",
    }
)
