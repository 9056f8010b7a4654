"""`python -m microsoft_emulator [--port N] [--state file.json|yaml] [--persist] [--threads N]`"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from microsoft_emulator.server import THREADS, build
from microsoft_emulator.state import load_state


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m microsoft_emulator",
        description="A local HTTPS stand-in for login.microsoftonline.com and Microsoft Graph.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8443, help="port (0: any free port)")
    parser.add_argument("--state", type=Path, help="a JSON or YAML state file to start from")
    parser.add_argument(
        "--persist", action="store_true", help="write every change back to the --state file"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=THREADS,
        help=f"requests served at once (default {THREADS}); each waits out its injected latency",
    )
    parser.add_argument(
        "--var-dir", type=Path, default=Path("var"), help="the CA goes to VAR_DIR/emulator/ca.pem"
    )
    arguments = parser.parse_args(argv)
    if arguments.persist and not arguments.state:
        parser.error("--persist needs --state")
    if arguments.threads < 1:
        parser.error("--threads must be at least 1")
    return arguments


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    state = None
    if arguments.state and arguments.state.exists():
        state = load_state(arguments.state)
    running = build(
        state=state,
        host=arguments.host,
        port=arguments.port,
        ca_dir=arguments.var_dir / "emulator",
        persist_to=arguments.state if arguments.persist else None,
        threads=arguments.threads,
    )
    base = f"https://{arguments.host}:{running.port}"
    print(f"Microsoft emulator on {base}", flush=True)
    print(f"  login URL:    {base}", flush=True)
    print(f"  Graph URL:    {base}/graph", flush=True)
    print(f"  CA file:      {running.ca_path.resolve()}", flush=True)
    print(f"  admin center: {base}/entra/", flush=True)
    print(f"  state page:   {base}/_emulator/", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        running.serve_forever()


if __name__ == "__main__":
    main()
