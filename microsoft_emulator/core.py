"""The emulator's parts in one object, and the helpers every endpoint shares:
base URLs from the request, Microsoft-shaped error responses, injected faults."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from flask import Response, jsonify, request

from microsoft_emulator.errors import AadError, GraphError, token_rejected, too_many_requests
from microsoft_emulator.faults import Faults
from microsoft_emulator.state import State
from microsoft_emulator.store import Store
from microsoft_emulator.tokens import TokenIssuer

GRAPH_PREFIX = "/graph"
_GRAPH_5XX = {
    500: ("generalException", "General exception while processing."),
    502: ("BadGateway", "The server received an invalid response from an upstream server."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable."),
    504: ("GatewayTimeout", "The server did not receive a timely response."),
}


class Emulator:
    """State, signing key and faults of one running emulator."""

    def __init__(self, state: State | None = None, persist_to: Path | None = None) -> None:
        self.store = Store(state, persist_to)
        self.issuer = TokenIssuer()
        self.faults = Faults()

    def reset(self, state: State | None = None) -> None:
        """Back to `state` (empty by default), no faults, zero counters, clock at now."""
        self.store.replace(state or State())
        self.faults.clear()
        self.faults.reset_counters()
        with self.issuer.lock:
            self.issuer.codes.clear()
            self.issuer.refresh_tokens.clear()


def login_base() -> str:
    return request.host_url.rstrip("/")


def own_graph_urls() -> frozenset[str]:
    """The Graph base URL under every name this server answers to."""
    port = request.host.rpartition(":")[2] if ":" in request.host else "443"
    return frozenset(
        {
            f"{login_base()}{GRAPH_PREFIX}",
            f"https://127.0.0.1:{port}{GRAPH_PREFIX}",
            f"https://localhost:{port}{GRAPH_PREFIX}",
        }
    )


def client_request_id() -> str:
    return request.headers.get("client-request-id") or str(uuid.uuid4())


def aad_response(error: AadError, emulator: Emulator) -> Response:
    body = error.body(
        login_base=login_base(),
        correlation_id=client_request_id(),
        now=emulator.store.now(),
    )
    response = jsonify(body)
    response.status_code = error.status
    return response


def graph_response(error: GraphError, emulator: Emulator) -> Response:
    request_id = str(uuid.uuid4())
    client_id = client_request_id()
    response = jsonify(
        error.body(request_id=request_id, client_request_id=client_id, now=emulator.store.now())
    )
    response.status_code = error.status
    response.headers["request-id"] = request_id
    response.headers["client-request-id"] = client_id
    if error.retry_after:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def injected(endpoint: str, emulator: Emulator, *, graph: bool = False) -> Response | None:
    """Count the request; answer a recorded response queued for it, or wait its injected
    latency and answer an injected fault if due."""
    outcome = emulator.faults.decide(endpoint)
    if outcome.replay is not None:
        recorded = outcome.replay
        return Response(recorded.body, status=recorded.status, headers=recorded.headers)
    if outcome.latency:
        time.sleep(outcome.latency)
    if outcome.status is None:
        return None
    return fault_response(outcome.status, outcome.retry_after, emulator, graph=graph)


def fault_response(status: int, retry_after: int, emulator: Emulator, *, graph: bool) -> Response:
    """An injected 429, 5xx or (Graph) 401 in the shape of the service that "failed"."""
    if not graph:
        return _identity_fault(status, retry_after, emulator)
    if status == 429:
        return graph_response(too_many_requests(retry_after), emulator)
    if status == 401:  # Graph's answer to a token it does not accept
        return graph_response(token_rejected("Access token validation failure."), emulator)
    code, message = _GRAPH_5XX.get(status, _GRAPH_5XX[500])
    return graph_response(GraphError(status, code, message), emulator)


def _identity_fault(status: int, retry_after: int, emulator: Emulator) -> Response:
    if status == 429:
        # Microsoft throttles the identity platform in plain text, not OAuth JSON
        # (tests/recordings/token_throttled_plain_text.json); msal then fails decoding it.
        return Response(
            "Too Many Requests",
            status=429,
            headers={"Retry-After": str(retry_after)},
            mimetype="text/plain",
        )
    correlation_id = client_request_id()
    trace_id = str(uuid.uuid4())
    response = jsonify(
        {
            "error": "server_error",
            "error_description": (
                "The service is temporarily unavailable; retry later."
                f"\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}"
            ),
            "error_codes": [],
            "trace_id": trace_id,
            "correlation_id": correlation_id,
        }
    )
    response.status_code = status
    return response
