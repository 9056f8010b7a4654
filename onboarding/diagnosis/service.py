"""Microsoft busy or out of reach (retried by itself), and the unexpected."""

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
    # Anything else a check met: a library failing in a way the portal does not know, a
    # bug. The run ends failed (a check never stays running) and says so plainly.
    entry(
        "unexpected",
        "The check stopped on an unexpected error",
        "Something went wrong inside the portal while it ran this check, not in your "
        "settings. The error was logged for support.",
        (
            "Run the check again in a few minutes.",
            "If it fails the same way, contact support with the correlation ID shown.",
        ),
        None,
        transient=True,
    ),
]

# Microsoft's error codes (AADSTS numbers and Graph codes) -> catalogue keys.
CODES = {
    "ApplicationThrottled": "throttled",
    "TooManyRequests": "throttled",
    "unreachable": "unreachable",
    "http_429": "throttled",
    "unexpected": "unexpected",
}
