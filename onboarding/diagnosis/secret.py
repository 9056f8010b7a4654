"""The client secret (step 4, or renewal)."""

# Catalogue entries, and the Microsoft codes (AADSTS numbers, Graph codes) that mean them.

from __future__ import annotations

from onboarding.diagnosis.entry import entry
from onboarding.steps import SECRET

ENTRIES = [
    entry(
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
    entry(
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
    entry(
        "secret_missing",
        "No usable client secret is saved",
        "The portal has no active client secret for this application.",
        (
            "In Certificates & secrets, create a new client secret.",
            "Enter its Value, Secret ID and expiry in step 4.",
        ),
        SECRET,
    ),
    entry(
        "secret_unreadable",
        "The portal can no longer read this stored secret",
        "The client secret saved in the portal cannot be decrypted (the key it was stored "
        "under is no longer available, for example after a restore under other keys), so "
        "the portal cannot sign in as the application. Support has been told.",
        (
            "In Certificates & secrets, create a new client secret (or use one you still "
            "have the Value of).",
            "Re-enter its Value, Secret ID and expiry in step 4.",
        ),
        SECRET,
    ),
    entry(
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
    entry(
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
    entry(
        "secret_limit_reached",
        "Entra allows this app two client secrets only",
        # Only apps whose account types include personal Microsoft accounts have the limit
        # (onboarding.renewal.limits): a refusal means the app is registered so.
        "For an app that accepts personal Microsoft accounts (as in the setup guide's account "
        "type), Entra keeps at most two client secrets and refuses a third: “Not allowed to "
        "add 3 passwords. You can only add a maximum of 2 passwords.” Renewal keeps the old "
        "secret working until the new one is proved, and a secret that failed verification "
        "stays in Entra too, so one of them has to be deleted first.",
        (
            "In Certificates & secrets, delete the secret the renewal page names: one that "
            "failed verification or is no longer used, never the one in use.",
            "Tell the portal you deleted it (“I deleted it”).",
            "Then create the new client secret and enter it on the renewal page.",
        ),
        SECRET,
    ),
]

# Microsoft's error codes (AADSTS numbers and Graph codes) -> catalogue keys.
ENTRIES += [
    # AADSTS700027: tests/recordings/token_assertion_key_not_found(_thumbprint).json.
    entry(
        "certificate_not_uploaded",
        "Entra does not know the portal's certificate",
        "The app signed in with the certificate the portal made, but Entra has no "
        "certificate with its thumbprint on this app: it was not uploaded (yet), was "
        "uploaded to another app, or was deleted.",
        (
            "Open Certificates & secrets for this app, Certificates, and compare the "
            "thumbprints with the one step 4 shows.",
            "If it is missing, download the certificate in step 4 and choose Upload "
            "certificate; then run the check again.",
        ),
        SECRET,
    ),
    # AADSTS700024: tests/recordings/token_assertion_expired.json.
    entry(
        "assertion_time",
        "Microsoft found the portal's sign-in outside its valid time",
        "The signed sign-in (client assertion) the portal sends with its certificate was "
        "not within its valid time when Microsoft checked it: the portal's server clock "
        "is probably wrong by several minutes.",
        (
            "Support: check that the portal's servers keep their time (NTP).",
            "Run the check again once the clock is right.",
        ),
        None,
        # Retried like an outage: a clock that was stepped right again passes.
        transient=True,
    ),
]

# A rollover of the portal's certificate that stopped (onboarding.renewal.rollover): the
# certificate in use was never touched and keeps working until its expiry.
ENTRIES += [
    # Graph's 401 Authentication_MissingOrMalformed to addKey/removeKey
    # (tests/recordings/graph_addkey_proof_malformed.json).
    entry(
        "rollover_proof_refused",
        "Entra refused the portal's proof for renewing the certificate",
        "To add its next certificate, the app proves it holds the current one with a "
        "signed token naming the app's Object ID. Entra refused it: the Object ID given "
        "to the portal is most likely not this app's (it is the second ID under "
        "Essentials on the app's Overview page), the certificate in use was removed, or "
        "the portal's clock is off by several minutes (Graph says no more).",
        (
            "Compare the Object ID in step 4 with the one on the app's Overview page in "
            "Entra, and correct it.",
            "Support: if the Object ID is right, check that the portal's servers keep "
            "their time (NTP).",
            "The certificate in use keeps working until it expires; the portal tries the "
            "renewal again once the Object ID is corrected.",
        ),
        SECRET,
    ),
    entry(
        "rollover_key_refused",
        "Entra refused the portal's new certificate",
        "Graph's addKey did not take the next certificate the portal made. It may be on "
        "the app already (a renewal that was interrupted just after adding it), or an app "
        "management policy of the directory limits certificates.",
        (
            "Open Certificates & secrets > Certificates for this app and look for a "
            "certificate whose description starts with 'Mailbox portal'.",
            "Create a new certificate in step 4 and upload it, or ask support to try the "
            "renewal again.",
        ),
        SECRET,
    ),
    entry(
        "rollover_gave_up",
        "Microsoft did not answer the certificate renewal",
        "The portal tried to renew the certificate several times, but Microsoft was "
        "unreachable or kept answering that it was busy.",
        (
            "Nothing to change in Entra: the certificate in use keeps working.",
            "Support: ask for the renewal again once Microsoft answers, or create a new "
            "certificate in step 4 before the current one expires.",
        ),
        SECRET,
    ),
    entry(
        "rollover_check_failed",
        "The renewed certificate did not pass its check",
        "The portal added its next certificate to the app, but the check made with it "
        "failed, so the certificate in use stays in use.",
        (
            "Open the tenant's check history for the failed check's own diagnosis.",
            "Create a new certificate in step 4 before the current one expires.",
        ),
        SECRET,
    ),
    entry(
        "rollover_no_mailbox",
        "No mailbox to prove the renewed certificate with",
        "A renewed certificate is proved by a check of the tenant's first mailbox, and the "
        "tenant has none.",
        ("Add a mailbox in step 5.",),
        SECRET,
    ),
    entry(
        "rollover_superseded",
        "The certificate was replaced before the portal renewed it",
        "An admin saved another credential meanwhile; there is nothing left to renew.",
        ("Nothing to do: step 4 shows the credential in use.",),
        SECRET,
    ),
]

CODES = {
    "AADSTS700027": "certificate_not_uploaded",
    "AADSTS700024": "assertion_time",
    "AADSTS7000215": "wrong_secret",
    "AADSTS7000222": "secret_expired",
    "AADSTS700025": "no_credential_in_entra",
    # Graph's refusal of a third secret (tests/recordings/add_password_too_many_app_passwords).
    "TooManyAppPasswords": "secret_limit_reached",
}
