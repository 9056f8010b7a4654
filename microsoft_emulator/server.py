"""The HTTPS server: one Flask app for the login host and Graph (under /graph), served by
cheroot's thread pool with HTTP/1.1 keep-alive, behind a CA made at start by trustme.
"""

from __future__ import annotations

import secrets
import tempfile
import threading
from pathlib import Path

import trustme
from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from flask import Flask, redirect, render_template
from werkzeug.wrappers import Response

from microsoft_emulator.control import control_blueprint
from microsoft_emulator.core import GRAPH_PREFIX, Emulator
from microsoft_emulator.entra_pages import entra_blueprint
from microsoft_emulator.graph import graph_blueprint
from microsoft_emulator.handle import EmulatorHandle
from microsoft_emulator.identity import identity_blueprint
from microsoft_emulator.interactive import interactive_blueprint
from microsoft_emulator.provisioning import provisioning_blueprint
from microsoft_emulator.signin import csrf_token, signin_blueprint
from microsoft_emulator.state import State

MAX_BODY = 4 * 1024 * 1024
# Worker threads; idle keep-alive connections wait in cheroot's selector, not here.
THREADS = 16
# Microsoft keeps its clients' connections open; cheroot keeps only 10 idle ones by
# default and closes the rest, which would cost every busy client a new TLS handshake.
KEEP_ALIVE_CONNECTIONS = 1024


def create_app(handle: EmulatorHandle) -> Flask:
    app = Flask(__name__, static_url_path="/_static")
    app.secret_key = secrets.token_bytes(32)
    app.config.update(
        SESSION_COOKIE_NAME="emulator_session",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=MAX_BODY,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.jinja_env.globals["csrf_token"] = csrf_token
    emulator = handle.emulator
    for blueprint in (
        identity_blueprint(emulator),
        interactive_blueprint(emulator),
        signin_blueprint(emulator),
        graph_blueprint(emulator),
        provisioning_blueprint(emulator),
        entra_blueprint(handle),
        control_blueprint(handle),
    ):
        app.register_blueprint(blueprint)

    @app.get("/")
    def index() -> str:
        return render_template("index.html", graph_prefix=GRAPH_PREFIX)

    @app.get("/entra")
    def entra_root() -> Response:
        return redirect("/entra/")

    @app.after_request
    def headers(response: Response) -> Response:
        if response.mimetype == "text/html":
            response.headers["Content-Security-Policy"] = (
                "default-src 'self'; form-action *; frame-ancestors 'none'"
            )
            response.headers["X-Frame-Options"] = "DENY"
        return response

    return app


class RunningEmulator(EmulatorHandle):
    """A bound emulator: its URLs, its CA file, and stop()."""

    def __init__(self, emulator: Emulator, server: wsgi.Server, ca_path: Path) -> None:
        super().__init__(emulator)
        self.server = server
        self.ca_path = ca_path
        self.port = int(server.bind_addr[1])
        self.base_url = f"https://127.0.0.1:{self.port}"
        self.login_url = self.base_url
        self.graph_url = f"{self.base_url}{GRAPH_PREFIX}"
        self._thread: threading.Thread | None = None

    def serve_forever(self) -> None:
        """Serve in this thread until stop() (or Ctrl-C)."""
        try:
            self.server.serve()
        finally:
            self.server.stop()

    def serve_in_thread(self) -> RunningEmulator:
        self._thread = threading.Thread(
            target=self.server.serve, daemon=True, name=f"microsoft-emulator-{self.port}"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _tls_adapter(ca: trustme.CA, ca_dir: Path) -> BuiltinSSLAdapter:
    """cheroot loads the server certificate from a file: write it, load it, delete it."""
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    with tempfile.NamedTemporaryFile(dir=ca_dir, suffix=".pem") as pem:
        certificate.private_key_and_cert_chain_pem.write_to_path(pem.name)
        return BuiltinSSLAdapter(pem.name, pem.name)


def build(
    *,
    state: State | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    ca_dir: Path,
    persist_to: Path | None = None,
    threads: int = THREADS,
) -> RunningEmulator:
    """Make the CA and certificate, write the CA to ca_dir/ca.pem, bind the port.

    cheroot (not werkzeug, whose server closes every connection) keeps connections alive
    and serves from a thread pool.
    """
    ca = trustme.CA(organization_name="Local Microsoft emulator")
    ca_dir.mkdir(parents=True, exist_ok=True)
    ca_path = ca_dir / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    emulator = Emulator(state, persist_to)
    server = wsgi.Server((host, port), create_app(EmulatorHandle(emulator)), numthreads=threads)
    server.keep_alive_conn_limit = KEEP_ALIVE_CONNECTIONS
    server.ssl_adapter = _tls_adapter(ca, ca_dir)
    server.prepare()
    return RunningEmulator(emulator, server, ca_path)


def start(**options: object) -> RunningEmulator:
    """build() and serve from a daemon thread: what the pytest fixture and the bench use."""
    return build(**options).serve_in_thread()  # type: ignore[arg-type]
