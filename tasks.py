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


def test() -> int:
    target = ROOT / "target"
    target.mkdir(exist_ok=True)
    env = dict(os.environ, DBT_PROFILES_DIR=str(ROOT))
    ci_database = target / "ci.duckdb"
    for stale in (ci_database, target / "ci.duckdb.wal"):
        stale.unlink(missing_ok=True)
    steps = [
        ("ruff", [str(BIN / "ruff"), "check", "."], env),
        (
            "sqlfluff",
            # Two processes: 56 s instead of 70 s on the 2-core machine, same findings.
            [str(BIN / "sqlfluff"), "lint", "models", "tests/dbt", "analyses", "--processes", "2"],
            dict(env, MRS_DUCKDB_PATH=str(target / "lint.duckdb")),
        ),
        ("dbt build", [str(BIN / "dbt"), "build"], dict(env, MRS_DUCKDB_PATH=str(ci_database))),
        # Two workers, one test module each at a time: the suite is mostly dbt subprocesses.
        ("pytest", [str(BIN / "pytest"), "-n", "2", "--dist", "loadfile"], env),
    ]
    failed = []
    for name, command, step_env in steps:
        started = time.perf_counter()
        code = _run(command, step_env)
        print(
            f"[{name}] {'ok' if code == 0 else f'FAILED (exit {code})'} "
            f"in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        if code != 0:
            failed.append(name)
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
