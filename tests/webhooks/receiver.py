"""A real HTTP server in a thread on 127.0.0.1 that takes webhooks like a receiver would.

Each request takes the next planned answer (a status, or a delay longer than the
portal's timeout); once the plan is used up it answers 204. It verifies nothing itself:
tests verify what it recorded with standardwebhooks, as the operations app would, and
`unique()` drops repeated webhook-ids the way a receiver that deduplicates does.
"""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.canary import WATCH


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    # An int answers with that status; ("slow", seconds) sleeps first, then answers 200.
    plan: list[object] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        port = self.server.server_address[1]
        return f"http://127.0.0.1:{port}/hooks/portal?source=test"

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def answer(self, *planned: object) -> None:
        with self.lock:
            self.plan.extend(planned)

    def unique(self) -> list[Received]:
        """What a receiver that drops repeated webhook-ids would have processed."""
        seen: set[str] = set()
        kept = []
        for request in self.received:
            if request.webhook_id not in seen:
                seen.add(request.webhook_id)
                kept.append(request)
        return kept


def start(tls: ssl.SSLContext | None = None) -> Receiver:
    """A receiver on a free port of 127.0.0.1; with `tls`, an https one."""
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            # The canary plugin reads webhook bodies too: no secret may ride in one.
            WATCH.capture(f"webhook body to {self.path}", body.decode(errors="replace"))
            with receiver.lock:
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                planned = receiver.plan.pop(0) if receiver.plan else 204
            if isinstance(planned, tuple):
                time.sleep(planned[1])
                planned = 200
            assert isinstance(planned, int)
            self.send_response(planned)
            if 300 <= planned < 400:
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: tests read what was received instead

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    receiver = Receiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver
