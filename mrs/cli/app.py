"""`mrs app`: start the analyst review app (Streamlit) on a database's published copy."""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import FrameType

from mrs.cli.options import add_database_option
from mrs.pipeline.project import MrsError, Project
from mrs.pipeline.publication import published_database

APP_SCRIPT = Path("app") / "review_app.py"
DEFAULT_PORT = 8501
# Only this machine can reach the app unless told otherwise: it has no login yet (issue 15).
DEFAULT_ADDRESS = "127.0.0.1"
STOP_GRACE_SECONDS = 10


def add_app_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `app` to the `mrs` sub-command set; return its parser."""
    app = commands.add_parser(
        "app",
        help="start the analyst review app in the browser (Streamlit)",
        description="Serve the review app: all reports, report and event pages, and the "
        "review actions (written through the same validated edit journal as `mrs review`). "
        "It reads the published copy each build writes beside the database, never the database "
        "itself, so it can stay open while `mrs build` runs. Stop it with Ctrl+C (or SIGTERM).",
    )
    add_database_option(app)
    app.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})"
    )
    app.add_argument(
        "--address",
        default=DEFAULT_ADDRESS,
        help=f"interface to listen on (default {DEFAULT_ADDRESS}: this machine only; the app "
        "has no login, so serve it wider only behind one)",
    )
    app.set_defaults(handler=_serve)
    return app


def app_command(
    database: Path, port: int, address: str = DEFAULT_ADDRESS
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that serve the app for `database` on `address`:`port`."""
    if not 0 < port < 65536:
        raise MrsError(f"--port must be from 1 to 65535; got {port}")
    if importlib.util.find_spec("streamlit") is None:
        raise MrsError(
            "streamlit is not installed; run `.venv/bin/pip install -r requirements.txt` "
            "(or `python3 tasks.py demo`, which sets everything up)"
        )
    script = Project.locate(database).root / APP_SCRIPT
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]
    return command, dict(os.environ, MRS_DUCKDB_PATH=str(database))


def _serve(args: argparse.Namespace) -> int:
    database = Project.locate(args.database).database
    command, env = app_command(database, args.port, args.address)
    if not published_database(database).exists():
        print(
            f"mrs: {database} has no published copy yet; the app will say so until you run "
            "`mrs build` (or `python3 tasks.py demo`)",
            file=sys.stderr,
        )
    _check_port_free(args.address, args.port)
    print(
        f"mrs: serving the review app for {database} on http://{args.address}:{args.port}",
        flush=True,
    )
    return _run_until_stopped(command, env)


def _check_port_free(address: str, port: int) -> None:
    """Refuse a port another server holds before announcing anything (Streamlit would
    otherwise fail after `mrs app` had said it was serving)."""
    try:
        with socket.create_server((address, port)):
            pass
    except OSError as error:
        raise MrsError(
            f"cannot serve on {address}:{port}: {error.strerror or error}; "
            "pick another port with --port N"
        ) from error


def _run_until_stopped(command: list[str], env: dict[str, str]) -> int:
    """Run the server; on Ctrl+C, SIGTERM or SIGHUP stop it too, so no server outlives `mrs`."""
    server = subprocess.Popen(command, env=env)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        try:
            server.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        return 0
