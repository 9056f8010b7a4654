"""One POST of a webhook, to the very address that was checked.

urllib3 connects to the checked IP address while TLS still checks the certificate
against the host name (server_hostname / assert_hostname) and the Host header names
it: so a DNS answer that changes after the check cannot send the request elsewhere.
No proxy (it would hide where the request goes), no redirects, a short timeout, and at
most a few kilobytes of the answer are read (nothing of it is kept).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import certifi
import urllib3
from django.conf import settings

from webhooks.addresses import Target, UnsafeURL, check_url

USER_AGENT = "MailboxPortal-Webhooks/1"
MAX_ANSWER_BYTES = 4096


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None
    # What went wrong, in words for support: never a header, a secret or the body.
    error: str = ""


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Outcome:
    try:
        target = check_url(url)
    except UnsafeURL as refused:
        return Outcome(False, None, f"Refused: {refused.message}")
    timeout = float(settings.WEBHOOK_TIMEOUT_SECONDS)
    last = Outcome(False, None, "No address to connect to.")
    for address in target.addresses:
        last = _post_to(target, address, body, headers, timeout)
        # Another address of the host is worth a try only when this one was unreachable.
        if last.ok or last.status is not None or last.error.startswith("Timed out"):
            return last
    return last


def _pool(target: Target, address: str, timeout: float) -> urllib3.HTTPConnectionPool:
    limits = urllib3.Timeout(connect=timeout, read=timeout)
    if target.scheme == "https":
        context = ssl.create_default_context(cafile=certifi.where())
        return urllib3.HTTPSConnectionPool(
            address,
            target.port,
            timeout=limits,
            retries=False,
            maxsize=1,
            ssl_context=context,
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(
        address, target.port, timeout=limits, retries=False, maxsize=1
    )


def _post_to(
    target: Target, address: str, body: bytes, headers: dict[str, str], timeout: float
) -> Outcome:
    request_headers = {
        **headers,
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    pool = _pool(target, address, timeout)
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers=request_headers,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            response.read(MAX_ANSWER_BYTES)
        finally:
            response.release_conn()
    except (urllib3.exceptions.TimeoutError, TimeoutError):
        return Outcome(False, None, f"Timed out after {timeout:g} seconds.")
    except urllib3.exceptions.SSLError:
        return Outcome(False, None, "The TLS handshake failed (certificate not valid?).")
    except (urllib3.exceptions.HTTPError, OSError) as error:
        return Outcome(False, None, f"Could not connect ({type(error).__name__}).")
    finally:
        pool.close()
    status = response.status
    if 200 <= status < 300:
        return Outcome(True, status)
    if 300 <= status < 400:
        return Outcome(False, status, f"HTTP {status}: redirects are not followed.")
    return Outcome(False, status, f"HTTP {status}.")
