"""A reference client for the portal's API, as the operations app would use it.

    OPS_API_KEY=mbp_live_... python examples/ops_client.py --portal https://portal.example.com

1. lists the connections that are failing (every page);
2. gets a Microsoft Graph token for one connection (the first healthy one, or --connection);
3. reads the newest message of that mailbox through Graph with it;
and shows how to check a webhook's signature (`verify_webhook`).

The key comes from the environment, never the command line (which other users of the
machine can read). Needs only `requests` (and `standardwebhooks` for webhooks).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import requests


class Portal:
    """The portal's API with one service key."""

    def __init__(self, base_url: str, key: str, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"

    def _get(self, url: str, **params: str) -> dict[str, Any]:
        response = self.session.get(url, params=params or None, timeout=30)
        _raise_for_problem(response)
        return response.json()

    def connections(self, **filters: str) -> list[dict[str, Any]]:
        """Every connection matching the filters (tenant, health, changed_since)."""
        rows: list[dict[str, Any]] = []
        page = self._get(f"{self.base_url}/api/v1/connections/", **filters)
        while True:
            rows += page["results"]
            if not page["next"]:
                return rows
            page = self._get(page["next"])

    def token(self, connection_id: str) -> dict[str, Any]:
        """A Graph token for the connection: access_token, expires_at (at least 5 minutes
        ahead), graph_base_url and user_path (/users/{upn}, or /me for a personal
        mailbox). Ask again when it is near
        expiry; the portal serves it from its cache, so asking often costs nothing."""
        response = self.session.post(
            f"{self.base_url}/api/v1/connections/{connection_id}/token", json={}, timeout=30
        )
        _raise_for_problem(response)
        return response.json()


class ProblemError(RuntimeError):
    """The portal answered with a problem (RFC 9457): status, title, detail, diagnosis."""

    def __init__(self, problem: dict[str, Any]) -> None:
        self.problem = problem
        diagnosis = problem.get("diagnosis") or {}
        suffix = f" [{diagnosis.get('code')}: {diagnosis.get('title')}]" if diagnosis else ""
        super().__init__(
            f"{problem.get('status')} {problem.get('title')}: {problem.get('detail')}{suffix}"
        )


def _raise_for_problem(response: requests.Response) -> None:
    if response.status_code < 400:
        return
    if response.headers.get("Content-Type", "").startswith("application/problem+json"):
        raise ProblemError(response.json())
    response.raise_for_status()


def newest_message(token: dict[str, Any], *, verify: str | bool = True) -> dict[str, Any] | None:
    """The newest message of the token's mailbox, read through Graph with the token."""
    response = requests.get(
        f"{token['graph_base_url']}{token['user_path']}/mailFolders/inbox/messages",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        params={
            "$top": "1",
            "$orderby": "receivedDateTime desc",
            "$select": "subject,from,receivedDateTime",
        },
        verify=verify,
        timeout=30,
    )
    response.raise_for_status()
    messages = response.json().get("value", [])
    return messages[0] if messages else None


def verify_webhook(signing_secret: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """Check a webhook delivery (Standard Webhooks: webhook-id, webhook-timestamp,
    webhook-signature) and return its payload; raises on a bad or stale signature.
    Keep the webhook-id you processed: a retried delivery has the same one."""
    from standardwebhooks.webhooks import Webhook

    return Webhook(signing_secret).verify(body, headers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The portal API's reference client.")
    parser.add_argument("--portal", required=True, help="The portal's address.")
    parser.add_argument("--connection", help="A connection id (default: the first healthy one).")
    parser.add_argument(
        "--graph-ca-bundle", default=None, help="CA file for Graph (the emulator's)."
    )
    args = parser.parse_args(argv)
    key = os.environ.get("OPS_API_KEY", "")
    if not key:
        print("Set OPS_API_KEY to the service key.", file=sys.stderr)
        return 2
    portal = Portal(args.portal, key)
    failing = portal.connections(health="failing")
    print(f"{len(failing)} failing connection(s):")
    for row in failing:
        title = (row["diagnosis"] or {}).get("title", "no diagnosis yet")
        print(f"  {row['tenant']['name']}: {row['mailbox']['address']} ({title})")
    connection = args.connection
    if connection is None:
        healthy = portal.connections(health="healthy")
        if not healthy:
            print("No healthy connection to read from.")
            return 1
        connection = healthy[0]["id"]
    token = portal.token(connection)
    print(f"Token for {token['mailbox']['upn']}, valid until {token['expires_at']}.")
    message = newest_message(token, verify=args.graph_ca_bundle or True)
    print(f"Newest message: {message['subject']!r}" if message else "The inbox is empty.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
