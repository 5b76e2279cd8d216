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


def test() -> int:
    target = ROOT / "target"
    target.mkdir(exist_ok=True)
    env = dict(os.environ, DBT_PROFILES_DIR=str(ROOT))
    pytest_env = dict(env)
    ci_database = target / "ci.duckdb"
    demo_output = target / "ci_demo.txt"
    for stale in (ci_database, target / "ci.duckdb.wal", demo_output):
        stale.unlink(missing_ok=True)
    steps = [
        ("ruff", [str(BIN / "ruff"), "check", "."], env),
        (
            "sqlfluff",
            # Two processes: 56 s instead of 70 s on the 2-core machine, same findings.
            [str(BIN / "sqlfluff"), "lint", "models", "tests/dbt", "analyses", "--processes", "2"],
            dict(env, MRS_DUCKDB_PATH=str(target / "lint.duckdb")),
        ),
        # `mrs demo` on a fresh target/ci.duckdb: `dbt build` (models, data tests and unit
        # tests), the review scenarios, and the build of what reads them.
        ("dbt build", [str(BIN / "mrs"), "demo", "--database", str(ci_database)], env),
        # Two workers, one test module each at a time: the suite is mostly dbt subprocesses.
        # Each worker copies the demo built above instead of building its own (about 40 s).
        ("pytest", [str(BIN / "pytest"), "-n", "2", "--dist", "loadfile"], pytest_env),
    ]
    failed = []
    for name, command, step_env in steps:
        started = time.perf_counter()
        if name == "dbt build":
            code = _run_logged(command, step_env, demo_output)
            if code == 0:
                pytest_env.update(
                    MRS_TEST_DEMO_DATABASE=str(ci_database), MRS_TEST_DEMO_OUTPUT=str(demo_output)
                )
        else:
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
