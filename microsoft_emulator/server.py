"""The HTTPS server: one Flask app for the login host and Graph (under /graph), served by
werkzeug's threaded server with HTTP/1.1 keep-alive, behind a CA made at start by trustme.
"""

from __future__ import annotations

import secrets
import ssl
import threading
from pathlib import Path

import trustme
from flask import Flask, redirect, render_template
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Response

from microsoft_emulator.control import control_blueprint
from microsoft_emulator.core import GRAPH_PREFIX, Emulator
from microsoft_emulator.entra_pages import entra_blueprint
from microsoft_emulator.graph import graph_blueprint
from microsoft_emulator.handle import EmulatorHandle
from microsoft_emulator.identity import identity_blueprint
from microsoft_emulator.interactive import interactive_blueprint
from microsoft_emulator.signin import csrf_token, signin_blueprint
from microsoft_emulator.state import State

MAX_BODY = 4 * 1024 * 1024


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


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class RunningEmulator(EmulatorHandle):
    """A started emulator: its URLs, its CA file, and stop()."""

    def __init__(self, emulator: Emulator, server: BaseWSGIServer, ca_path: Path) -> None:
        super().__init__(emulator)
        self.server = server
        self.ca_path = ca_path
        self.port = server.port
        self.base_url = f"https://127.0.0.1:{self.port}"
        self.login_url = self.base_url
        self.graph_url = f"{self.base_url}{GRAPH_PREFIX}"
        self._thread: threading.Thread | None = None

    def serve_in_thread(self) -> RunningEmulator:
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name=f"microsoft-emulator-{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def build(
    *,
    state: State | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    ca_dir: Path,
    persist_to: Path | None = None,
    quiet: bool = True,
) -> RunningEmulator:
    """Make the CA and certificate, write the CA to ca_dir/ca.pem, bind the port."""
    ca = trustme.CA(organization_name="Local Microsoft emulator")
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    ca_dir.mkdir(parents=True, exist_ok=True)
    ca_path = ca_dir / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    emulator = Emulator(state, persist_to)
    handle = EmulatorHandle(emulator)
    server = make_server(
        host,
        port,
        create_app(handle),
        threaded=True,
        ssl_context=context,
        request_handler=_QuietHandler if quiet else WSGIRequestHandler,
    )
    return RunningEmulator(emulator, server, ca_path)


def start(**options: object) -> RunningEmulator:
    """build() and serve from a daemon thread: what the pytest fixture and the bench use."""
    return build(**options).serve_in_thread()  # type: ignore[arg-type]
