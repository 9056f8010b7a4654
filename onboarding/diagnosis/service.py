"""Microsoft busy or out of reach (retried by itself)."""

# Catalogue entries, and the Microsoft codes (AADSTS numbers, Graph codes) that mean them.

from __future__ import annotations

from onboarding.diagnosis.entry import entry

ENTRIES = [
    entry(
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
    entry(
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
]

# Microsoft's error codes (AADSTS numbers and Graph codes) -> catalogue keys.
CODES = {
    "ApplicationThrottled": "throttled",
    "TooManyRequests": "throttled",
    "unreachable": "unreachable",
    "http_429": "throttled",
}
