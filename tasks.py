#!/usr/bin/env python3
"""The project's tasks, set up from nothing: `python3 tasks.py demo`, `python3 tasks.py test`.

Only the Python standard library is used here: this file creates `.venv`, installs the pinned
requirements and the `mrs` package into it (again only when requirements.txt or pyproject.toml
changed), then runs the task inside it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".mrs-installed"


def _run(command: list[str], env: dict[str, str] | None = None) -> int:
    print(f"\n$ {' '.join(command)}", flush=True)
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def setup() -> None:
    # tasks.py runs under whichever python3 the user has, so the check is not dead code.
    if sys.version_info < (3, 11):  # noqa: UP036
        sys.exit(f"Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    digest = hashlib.sha256(
        (ROOT / "requirements.txt").read_bytes() + (ROOT / "pyproject.toml").read_bytes()
    ).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    if not (BIN / "python").exists():
        print("setting up .venv", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-r", str(ROOT / "requirements.txt")], check=True, cwd=ROOT)
    subprocess.run([*pip, "--no-deps", "-e", str(ROOT)], check=True, cwd=ROOT)
    STAMP.write_text(digest)


def demo() -> int:
    return _run([str(BIN / "mrs"), "demo"])


def _run_logged(command: list[str], env: dict[str, str], log: Path) -> int:
    """_run, with the output also written to `log`."""
    print(f"\n$ {' '.join(command)}", flush=True)
    with log.open("w", encoding="utf-8") as handle:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            handle.write(line)
        return process.wait()


def _report(name: str, code: int, started: float, finished: float | None = None) -> None:
    """A step's outcome and time (from `started` to `finished`, or to now)."""
    ended = time.perf_counter() if finished is None else finished
    print(
        f"[{name}] {'ok' if code == 0 else f'FAILED (exit {code})'} in {ended - started:.0f} s",
        flush=True,
    )


def test() -> int:
    target = ROOT / "target"
    target.mkdir(exist_ok=True)
    # No usage events to dbt Labs from CI: each batch of them is an HTTP request made inside
    # the build that fills it, and CI runs some 300 builds.
    env = dict(os.environ, DBT_PROFILES_DIR=str(ROOT), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    ci_database = target / "ci.duckdb"
    demo_output = target / "ci_demo.txt"
    lint_output = target / "ci_sqlfluff.txt"
    for stale in (ci_database, target / "ci.duckdb.wal", demo_output, lint_output):
        stale.unlink(missing_ok=True)
    failed = []

    started = time.perf_counter()
    code = _run([str(BIN / "ruff"), "check", "."], env)
    _report("ruff", code, started)
    failed += ["ruff"] if code else []

    # sqlfluff runs beside the demo build and then beside pytest: it is the longest of the
    # three single steps and leaves cores idle (the templater's compile, dbt's parse, the
    # narrow parts of the DAG), while pytest needs only the demo's database to start. The demo's
    # dbt and pytest's workers write their own target folders, so none shares dbt's artifacts.
    started = time.perf_counter()
    # Two processes: 56 s instead of 70 s on the 2-core machine, same findings.
    lint_command = [
        str(BIN / "sqlfluff"), "lint", "models", "tests/dbt", "analyses", "--processes", "2"
    ]  # fmt: skip
    print(f"\n$ {' '.join(lint_command)}  (output at the end, with its time)", flush=True)
    with lint_output.open("w", encoding="utf-8") as handle:
        lint = subprocess.Popen(
            lint_command,
            cwd=ROOT,
            env=dict(env, MRS_DUCKDB_PATH=str(target / "lint.duckdb")),
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        lint_finished: list[float] = []
        lint_waiter = threading.Thread(
            target=lambda: (lint.wait(), lint_finished.append(time.perf_counter())), daemon=True
        )
        lint_waiter.start()
        # `mrs demo` on a fresh target/ci.duckdb: `dbt build` (models, data tests and unit
        # tests), the review scenarios, and the build of what reads them.
        demo_env = dict(
            env,
            DBT_TARGET_PATH=str(target / "ci_dbt"),
            DBT_LOG_PATH=str(ROOT / "logs" / "ci_dbt"),
        )
        demo_code = _run_logged(
            [str(BIN / "mrs"), "demo", "--database", str(ci_database)], demo_env, demo_output
        )
        _report("dbt build", demo_code, started)
        failed += ["dbt build"] if demo_code else []

        # Two workers, one test module each at a time: the suite is mostly dbt subprocesses.
        # Each worker copies the demo built above instead of building its own (about 40 s).
        pytest_env = dict(env)
        if demo_code == 0:
            pytest_env.update(
                MRS_TEST_DEMO_DATABASE=str(ci_database), MRS_TEST_DEMO_OUTPUT=str(demo_output)
            )
        pytest_started = time.perf_counter()
        # --durations: the slowest tests in every CI log, where the suite's time goes.
        # --no-loadscope-reorder: modules start in the order tests/python/conftest.py puts
        # them, the slowest first (xdist would start the ones with the most tests first).
        pytest_command = [
            str(BIN / "pytest"), "-n", "2", "--dist", "loadfile", "--no-loadscope-reorder",
            "--durations=15",
        ]  # fmt: skip
        code = _run(pytest_command, pytest_env)
        _report("pytest", code, pytest_started)
        failed += ["pytest"] if code else []
        lint_waiter.join()
    print(f"\n$ {' '.join(lint_command)}", flush=True)
    print(lint_output.read_text(encoding="utf-8"), end="")
    lint_code = lint.returncode
    _report("sqlfluff", lint_code, started, lint_finished[0])
    failed += ["sqlfluff"] if lint_code else []

    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    print("\nall checks passed: ruff, sqlfluff, dbt build (models, data and unit tests), pytest")
    return 0


TASKS = {"demo": demo, "test": test}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in TASKS:
        sys.exit(f"usage: python3 tasks.py {{{'|'.join(TASKS)}}}")
    setup()
    sys.exit(TASKS[sys.argv[1]]())
