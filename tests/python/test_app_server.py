"""`mrs app` as a server (issue 15): it listens on 127.0.0.1 unless told otherwise, and a
SIGTERM to `mrs` stops the Streamlit server too."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

from conftest import start_mrs

STARTUP_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp writes them) of sockets listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, local_port = local.split(":")
            if state == "0A" and int(local_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def _accepts(port: int) -> bool:
    with socket.socket() as client:
        client.settimeout(1)
        return client.connect_ex(("127.0.0.1", port)) == 0


def test_the_app_listens_on_localhost_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    server = start_mrs("app", "--database", str(tmp_path / "mrs.duckdb"), "--port", str(port))
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _accepts(port):
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "the app did not start listening"
            time.sleep(0.5)
        # 127.0.0.1 only: not 0.0.0.0, not every IPv6 interface.
        assert _listening_addresses(port) == {"0100007F"}
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        # The Streamlit child is gone with it: nothing serves the port any more.
        deadline = time.monotonic() + 15
        while _accepts(port):
            assert time.monotonic() < deadline, "the Streamlit server outlived mrs app"
            time.sleep(0.5)
    finally:
        if server.poll() is None:
            server.kill()
