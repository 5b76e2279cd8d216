"""Screenshots of the review app for docs/review_app.md (a documentation tool, not a test).

Starts the app (`mrs app`'s command) on a free port against a built database, waits until it
serves, saves a headless-browser screenshot of each page (all reports, one report, one event)
into docs/screenshots/, then stops the app.

Needs, besides requirements.txt: Debian's chromium and Python playwright (not pinned in
requirements.txt on purpose; the browser playwright downloads is not needed):

    apt-get install -y chromium
    .venv/bin/pip install playwright
    .venv/bin/mrs demo --database /tmp/appwork/mrs.duckdb
    .venv/bin/python scripts/screenshot_app.py --database /tmp/appwork/mrs.duckdb

Since the app asks reviewers to sign in (mrs.app.login), each page first shows the sign-in
form: this script does not sign in yet (it was not updated, as no browser was available to
test it), so the current screenshots predate the sign-in.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from mrs.app.data import ReviewData, load
from mrs.cli.app import app_command
from mrs.pipeline.project import Project

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTH = 1400
MAX_HEIGHT = 7000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="built DuckDB file (default: the project's)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--report", help="report id to show (default: an approved one)")
    parser.add_argument("--event", help="event id to show (default: the report's event)")
    args = parser.parse_args(argv)
    database = Project.locate(args.database).database
    data = load(database)
    report_id, event_id = _choose(data, args.report, args.event)
    args.out.mkdir(parents=True, exist_ok=True)
    pages = {
        "all_reports.png": "?page=All+reports",
        "report.png": f"?page=Report&report={report_id}",
        "event.png": f"?page=Event&event={event_id}",
    }
    with _serving(database) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, query in pages.items():
                page = browser.new_page(viewport={"width": WIDTH, "height": 1000})
                _capture(page, url + "/" + query, args.out / name)
                page.close()
                print(f"wrote {args.out / name}")
        finally:
            browser.close()
    return 0


def _choose(data: ReviewData, report: str | None, event: str | None) -> tuple[str, str]:
    """The given ids, else an approved report with a cluster and its event."""
    reports = data.reports
    if report is None:
        approved = reports[(reports["final_decision"] == "approved") & reports["tsne_x"].notna()]
        report = str((approved if not approved.empty else reports).iloc[0]["report_id"])
    if event is None:
        row = data.report(report) or {}
        event = str(row.get("report_group_id") or data.events.iloc[0]["report_group_id"])
    return report, event


def _free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _serving(database: Path, timeout: float = 90.0) -> Iterator[str]:
    port = _free_port()
    command, env = app_command(database, port)
    command += ["--server.address", "127.0.0.1", "--server.fileWatcherType", "none"]
    process = subprocess.Popen(command, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the app exited with {process.returncode} before serving")
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the app did not serve {url} within {timeout:g} s")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _capture(page: Page, url: str, path: Path) -> None:
    """Load the page, wait until the script has run and its charts are drawn, then grow the
    window to the content's height (Streamlit scrolls inside its main block, not the page) and
    take the screenshot."""
    page.goto(url, wait_until="load", timeout=90_000)
    page.wait_for_selector("[data-testid='stMainBlockContainer'] h1", timeout=60_000)
    _settle(page)
    height = page.evaluate(
        "() => document.querySelector(\"[data-testid='stMainBlockContainer']\").scrollHeight"
    )
    page.set_viewport_size({"width": WIDTH, "height": min(int(height) + 120, MAX_HEIGHT)})
    _settle(page)
    page.screenshot(path=str(path), full_page=True)


def _settle(page: Page) -> None:
    """Wait until Streamlit is not running the script and charts had time to draw."""
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid='stStatusWidget']\")", timeout=60_000
    )
    for selector in ("[data-testid='stVegaLiteChart']", "[data-testid='stDeckGlJsonChart']"):
        for chart in page.query_selector_all(selector):
            chart.scroll_into_view_if_needed()
    page.wait_for_timeout(2500)
    page.evaluate("() => window.scrollTo(0, 0)")


if __name__ == "__main__":
    sys.exit(main())
