"""The mailbox password sign-in (legacy, step 5)."""

# Catalogue entries, and the Microsoft codes (AADSTS numbers, Graph codes) that mean them.

from __future__ import annotations

from onboarding.diagnosis.entry import entry
from onboarding.steps import AUTHENTICATION, MAILBOX

ENTRIES = [
    entry(
        "wrong_password",
        "The mailbox password was refused",
        "Microsoft rejected the user name or password.",
        (
            "Check that the account can sign in at https://outlook.office.com.",
            "Enter the current password in step 5.",
        ),
        MAILBOX,
    ),
    entry(
        "password_unreadable",
        "The portal can no longer read this stored password",
        "The mailbox password saved in the portal cannot be decrypted (the key it was "
        "stored under is no longer available, for example after a restore under other "
        "keys), so the password sign-in could not be tried. Support has been told.",
        ("Re-enter the mailbox's current password in step 5.",),
        MAILBOX,
    ),
    entry(
        "account_disabled",
        "The mailbox account is disabled",
        "Microsoft refuses every sign-in to this account because it is disabled (sign-in "
        "blocked). The password is not the problem.",
        (
            "In the Microsoft 365 admin center, open Users > Active users, select the "
            "mailbox's user and choose Unblock sign-in (in Entra: Account enabled = Yes).",
            "Run the check again; the password in step 5 can stay as it is.",
        ),
        MAILBOX,
    ),
    entry(
        "account_locked",
        "The mailbox account is locked",
        "Microsoft has locked this account after too many failed sign-ins. The lock lifts "
        "on its own after a while.",
        (
            "Wait a few minutes, then run the check again.",
            "If other software keeps signing in with an old password, update it there too.",
            "If it stays locked, check the password in step 5.",
        ),
        MAILBOX,
    ),
    entry(
        "password_expired",
        "The mailbox password has expired",
        "The password is right but has expired, so Microsoft asks for a new one before it "
        "allows a sign-in.",
        (
            "Sign in once as the mailbox at https://outlook.office.com and set a new password.",
            "Enter the new password in step 5.",
        ),
        MAILBOX,
    ),
    entry(
        "mfa_required",
        "Multi-factor authentication blocks the password sign-in",
        "Multi-factor authentication, security defaults or a Conditional Access policy "
        "require more than a password for this account, so a password sign-in cannot work.",
        (
            "Prefer the application permissions the portal has verified: the password is not "
            "needed for them.",
            "Or ask your administrator to exclude this account from the MFA policy.",
        ),
        MAILBOX,
    ),
    entry(
        "public_client_disabled",
        "Public client flows are turned off",
        'The password sign-in needs "Allow public client flows" on the application.',
        (
            "In Authentication, set Allow public client flows to Yes and save.",
            "Run the check again.",
        ),
        AUTHENTICATION,
    ),
    entry(
        "personal_account",
        "Personal Microsoft accounts cannot sign in this way",
        "Outlook.com and other personal accounts support neither application permissions "
        "nor password sign-in; they need an interactive sign-in.",
        (
            "Use a work mailbox in your Microsoft 365 directory.",
            "Contact support if the operations app must use a personal mailbox.",
        ),
        MAILBOX,
    ),
    entry(
        "federated_domain",
        "Federated domain: password sign-in is not supported",
        "The mailbox's domain is federated: its sign-ins go to your organisation's own "
        "identity provider (such as AD FS), and Microsoft does not support a password "
        "sign-in (ROPC) there. The portal did not send the password. Reading and sending "
        "mail with the application permissions does not need it.",
        (
            "Rely on the application permissions the check verifies: in step 5, tick "
            '"Remove the stored password for this mailbox" and save.',
            "Or, if the operations app needs a password sign-in, use a cloud-only account "
            "(user@yourtenant.onmicrosoft.com) for this mailbox.",
        ),
        MAILBOX,
    ),
]

# Microsoft's error codes (AADSTS numbers and Graph codes) -> catalogue keys.
CODES = {
    "AADSTS50126": "wrong_password",
    "AADSTS50034": "wrong_password",
    "AADSTS50053": "account_locked",
    "AADSTS50057": "account_disabled",
    "AADSTS50055": "password_expired",
    "AADSTS50076": "mfa_required",
    "AADSTS50079": "mfa_required",
    "AADSTS53003": "mfa_required",
    "AADSTS530035": "mfa_required",
    "AADSTS7000218": "public_client_disabled",
    "AADSTS9001023": "personal_account",
    "personal_account": "personal_account",
    "federated_domain": "federated_domain",
}
