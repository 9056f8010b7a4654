"""Catalogue: a Microsoft error -> a plain explanation and the wizard step that fixes it.

Data rather than branches: each entry says what went wrong in an admin's words,
how to fix it as numbered steps, and which wizard step holds the fix. `diagnose()`
maps what a check saw (an error code, Microsoft's message, the check step) to an
entry; anything unknown becomes a diagnosis that repeats Microsoft's own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from onboarding.steps import AUTHENTICATION, MAILBOX, PERMISSIONS, REGISTER, SECRET
from onboarding.steps import fix_path as step_fix_path


@dataclass(frozen=True)
class Diagnosis:
    key: str
    title: str
    explanation: str
    fix: tuple[str, ...]
    wizard_step: int | None
    transient: bool = False
    # Filled in for errors the catalogue does not know: Microsoft's words, verbatim.
    microsoft_code: str = ""
    microsoft_message: str = ""
    correlation_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _entry(
    key: str,
    title: str,
    explanation: str,
    fix: tuple[str, ...],
    step: int | None,
    *,
    transient: bool = False,
) -> Diagnosis:
    return Diagnosis(key, title, explanation, fix, step, transient)


_ENTRIES = [
    _entry(
        "directory_not_found",
        "Directory not found",
        "Microsoft does not know the Directory (tenant) ID that was entered, or it belongs "
        "to another Microsoft cloud.",
        (
            "In the Entra admin center, open App registrations and your application.",
            "On its Overview page, copy the Directory (tenant) ID.",
            "Paste it in step 1 of this wizard and save.",
        ),
        REGISTER,
    ),
    _entry(
        "directory_malformed",
        "Directory ID is not valid",
        "The Directory (tenant) ID is neither a GUID nor a domain name Microsoft accepts.",
        (
            "Copy the Directory (tenant) ID from your application's Overview page: it looks "
            "like 0a1b2c3d-…; a verified domain such as contoso.onmicrosoft.com also works.",
            "Paste it in step 1 and save.",
        ),
        REGISTER,
    ),
    _entry(
        "app_not_found",
        "Application not found in your directory",
        "The Application (client) ID is not registered in the directory that was entered, "
        "or the two IDs come from different registrations.",
        (
            "Open your application's Overview page in the Entra admin center.",
            "Copy both the Application (client) ID and the Directory (tenant) ID from that page.",
            "Enter both in step 1, then grant admin consent again in step 3.",
        ),
        REGISTER,
    ),
    _entry(
        "wrong_secret",
        "The client secret is wrong",
        "Microsoft rejected the client secret. Most often the Secret ID was pasted instead "
        "of the secret's Value.",
        (
            "In Certificates & secrets, create a new client secret (the Value of an existing "
            "one cannot be shown again).",
            "Copy the Value column right away, not the Secret ID.",
            "Enter the new Value, Secret ID and expiry in step 4.",
        ),
        SECRET,
    ),
    _entry(
        "secret_id_pasted",
        "The Secret ID was entered instead of the secret's Value",
        "Microsoft rejected the client secret, and what was saved looks like a Secret ID "
        "(a GUID). The Value is the other column, shown only once when the secret is created.",
        (
            "In Certificates & secrets, create a new client secret.",
            "Copy the Value column right away (not the Secret ID next to it).",
            "Enter the new Value, Secret ID and expiry in step 4.",
        ),
        SECRET,
    ),
    _entry(
        "secret_missing",
        "No usable client secret is saved",
        "The portal has no active client secret for this application, or the saved one "
        "can no longer be read.",
        (
            "In Certificates & secrets, create a new client secret.",
            "Enter its Value, Secret ID and expiry in step 4.",
        ),
        SECRET,
    ),
    _entry(
        "no_credential_in_entra",
        "The application has no client secret in Entra",
        "Microsoft found no client secret or certificate on the application: the secret "
        "was deleted in Certificates & secrets, or none was ever created. With public "
        "client flows on, Microsoft then treats the app as a public client and refuses "
        "any secret.",
        (
            "In Certificates & secrets, create a new client secret.",
            "Copy its Value right away, and its Secret ID.",
            "Enter the new Value, Secret ID and expiry in step 4.",
        ),
        SECRET,
    ),
    _entry(
        "app_missing",
        "The application is not registered in the portal yet",
        "The portal does not know the Application (client) ID and Directory (tenant) ID yet.",
        ("Enter both IDs from your application's Overview page in step 1.",),
        REGISTER,
    ),
    _entry(
        "secret_expired",
        "The client secret has expired",
        "The secret's expiry date has passed, so Microsoft no longer accepts it and the "
        "operations app can no longer read or send mail.",
        (
            "In Certificates & secrets, create a new client secret.",
            "Renew the secret in this portal with the new Value, Secret ID and expiry.",
            "Once the portal has verified it, delete the expired secret in Entra.",
        ),
        SECRET,
    ),
    _entry(
        "no_consent",
        "Admin consent has not been granted",
        "Microsoft issued a token without any application permissions: Mail.Read and "
        "Mail.Send were added but an administrator has not consented to them.",
        (
            "Open step 3 and press Grant admin consent, signed in as a Global Administrator "
            "or Privileged Role Administrator.",
            "Or, in API permissions, press Grant admin consent for your organisation.",
        ),
        PERMISSIONS,
    ),
    _entry(
        "missing_mail_read",
        "Mail.Read is not consented",
        "The application may send mail but not read it: the Mail.Read application "
        "permission is missing or was not consented.",
        (
            "In API permissions, add Microsoft Graph > Application permissions > Mail.Read.",
            "Grant admin consent again in step 3.",
        ),
        PERMISSIONS,
    ),
    _entry(
        "missing_mail_send",
        "Mail.Send is not consented",
        "The application may read mail but not send it: the Mail.Send application "
        "permission is missing or was not consented.",
        (
            "In API permissions, add Microsoft Graph > Application permissions > Mail.Send.",
            "Grant admin consent again in step 3.",
        ),
        PERMISSIONS,
    ),
    _entry(
        "access_denied",
        "Microsoft denied access to the mailbox",
        "The token was accepted but Graph refused the request. This happens when Mail.Read "
        "or Mail.Send were added as Delegated instead of Application permissions.",
        (
            "In API permissions, check that Mail.Read and Mail.Send are listed with type "
            "Application (remove Delegated duplicates).",
            "Grant admin consent again in step 3.",
        ),
        PERMISSIONS,
    ),
    _entry(
        "mailbox_out_of_scope",
        "The mailbox is outside the application's allowed scope",
        "Your Exchange administrator limits which mailboxes this application may reach "
        "(an application access policy or RBAC for Applications), and this mailbox is not "
        "among them.",
        (
            "Ask your Exchange administrator to add this mailbox to the application's access "
            "policy or management scope.",
            "Check with Test-ServicePrincipalAuthorization in Exchange Online PowerShell.",
            "Changes can take up to an hour to apply; then run the check again.",
        ),
        MAILBOX,
    ),
    _entry(
        "unknown_user",
        "No such user",
        "Microsoft has no user with this address in your directory.",
        (
            "Check the mailbox address for typos.",
            "Use the address of a user or shared mailbox in this directory, then save step 5.",
        ),
        MAILBOX,
    ),
    _entry(
        "no_mailbox",
        "The user has no Exchange Online mailbox",
        "The address exists but has no mailbox in Exchange Online: it is unlicensed, "
        "soft-deleted, or still hosted on-premises.",
        (
            "In the Microsoft 365 admin center, give the user an Exchange Online licence, "
            "or use a shared mailbox.",
            "Wait for the mailbox to be provisioned, then run the check again.",
        ),
        MAILBOX,
    ),
    _entry(
        "token_rejected",
        "Microsoft Graph rejected the token",
        "Graph did not accept the access token: it expired in transit or was issued for "
        "another Microsoft cloud.",
        (
            "Run the check again.",
            "If it persists, check that your tenant is in the cloud this portal uses and "
            "contact support with the correlation ID.",
        ),
        REGISTER,
    ),
    _entry(
        "throttled",
        "Microsoft asked us to slow down",
        "Microsoft is throttling requests for this mailbox. The portal retries on its own; "
        "this is a failure only if it persists.",
        (
            "Nothing to do now: the portal retries automatically.",
            "If it persists, other applications may be using this mailbox heavily.",
        ),
        None,
        transient=True,
    ),
    _entry(
        "unreachable",
        "Microsoft could not be reached",
        "The portal could not get an answer from Microsoft (a timeout, a network or TLS "
        "error, or an error on Microsoft's side). This is usually temporary.",
        (
            "Nothing to do now: the portal retries automatically.",
            "If it persists for hours, check Microsoft 365 service health.",
        ),
        None,
        transient=True,
    ),
    # The optional delegated sign-in with the mailbox password.
    _entry(
        "wrong_password",
        "The mailbox password was refused",
        "Microsoft rejected the user name or password.",
        (
            "Check that the account can sign in at https://outlook.office.com.",
            "Enter the current password in step 5.",
        ),
        MAILBOX,
    ),
    _entry(
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
    _entry(
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
    _entry(
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
    _entry(
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
    _entry(
        "public_client_disabled",
        "Public client flows are turned off",
        'The password sign-in needs "Allow public client flows" on the application.',
        (
            "In Authentication, set Allow public client flows to Yes and save.",
            "Run the check again.",
        ),
        AUTHENTICATION,
    ),
    _entry(
        "delegated_consent_missing",
        "Consent for the password sign-in is missing",
        "Nobody has consented to the delegated Mail permissions the password sign-in uses.",
        (
            "In API permissions, add Microsoft Graph delegated permissions Mail.Read and "
            "Mail.Send and grant admin consent.",
        ),
        PERMISSIONS,
    ),
    _entry(
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
]

CATALOGUE: dict[str, Diagnosis] = {entry.key: entry for entry in _ENTRIES}

# Microsoft's error codes (AADSTS numbers and Graph codes) -> catalogue keys.
_BY_CODE = {
    "AADSTS90002": "directory_not_found",
    "AADSTS900023": "directory_malformed",
    "AADSTS700016": "app_not_found",
    "AADSTS7000215": "wrong_secret",
    "AADSTS7000222": "secret_expired",
    "AADSTS700025": "no_credential_in_entra",
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
    "AADSTS65001": "delegated_consent_missing",
    "AADSTS9001023": "personal_account",
    "personal_account": "personal_account",
    "ErrorInvalidUser": "unknown_user",
    "MailboxNotEnabledForRESTAPI": "no_mailbox",
    "ResourceNotFound": "no_mailbox",
    "InvalidAuthenticationToken": "token_rejected",
    "ApplicationThrottled": "throttled",
    "TooManyRequests": "throttled",
    "unreachable": "unreachable",
    "http_401": "token_rejected",
    "http_429": "throttled",
}

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


def diagnose_roles(roles: frozenset[str] | set[str]) -> Diagnosis | None:
    """A diagnosis when the token lacks Mail.Read or Mail.Send, or None when both are there."""
    has_read, has_send = "Mail.Read" in roles or "Mail.ReadWrite" in roles, "Mail.Send" in roles
    if has_read and has_send:
        return None
    if not has_read and not has_send:
        return CATALOGUE["no_consent"]
    return CATALOGUE["missing_mail_send" if has_read else "missing_mail_read"]


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


def fix_path(*, tenant_id: object, diagnosis: Diagnosis | None) -> str:
    """The path of the page that fixes a diagnosis ("" if none): the renewal page for an
    expired secret, else the wizard step the catalogue names."""
    if diagnosis is None:
        return ""
    renew = diagnosis.key == "secret_expired"
    return step_fix_path(tenant_id, number=diagnosis.wizard_step, renew=renew)
