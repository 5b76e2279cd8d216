"""Shared helpers: run the real command line and dbt against throw-away databases."""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import os
import shutil
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from mrs.cli.main import main
from mrs.dev.demo_scenarios import DEMO_REVIEWERS
from mrs.dev.world import WorldOptions
from mrs.pipeline.database_copy import copy_database
from mrs.pipeline.database_lock import open_database
from mrs.pipeline.project import release_database
from mrs.review.reviewers import os_login, write_registry

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Every append-only log the pipeline writes so far.
LOGS = (
    "minority_reports_detected_log",
    "minority_event_ended_log",
    "baseline_sales_model_prediction_log",
    "anomaly_classifier_model_prediction_log",
    "minority_reports_clustered_log",
    "cluster_comparison_model_prediction_log",
    "minority_reports_proposed_attribution_log",
    "attribution_model_prediction_log",
    "minority_reports_cohorted_log",
    "minority_event_log",
    "minority_reports_finalised_log",
    "model_monitoring_log",
    "model_retrain_event_log",
)
BIN = Path(sys.executable).parent

# Under pytest-xdist every worker gets its own dbt target and log folders: two dbt processes
# sharing target/ would overwrite each other's manifest, partial parse and run results.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _WORKER:
    os.environ["DBT_TARGET_PATH"] = str(PROJECT_ROOT / "target" / f"pytest-{_WORKER}")
    os.environ["DBT_LOG_PATH"] = str(PROJECT_ROOT / "logs" / f"pytest-{_WORKER}")
DBT_TARGET = Path(os.environ.get("DBT_TARGET_PATH", PROJECT_ROOT / "target"))
# No test reads dbt's manifest.json or run_results.json (the benchmarks, which do, ask for
# them with --write-json); writing them costs about 1.6 s of each of the suite's builds.
os.environ.setdefault("DBT_WRITE_JSON", "false")
# Nor dbt's debug log file: about 0.6 s of each build (an unchanged demo build, three in a
# row each way, 2026-12-04: 11.4 s against 10.8 s); set DBT_LOG_LEVEL_FILE=debug to read it.
os.environ.setdefault("DBT_LOG_LEVEL_FILE", "none")


# The modules that build the most, the longest first: pytest-xdist's loadfile scheduling
# hands modules to its two workers in collection order (`--no-loadscope-reorder`, as the
# README test command runs it; by default xdist starts the modules with the most tests
# first, which put these last), and a long one started last keeps one worker busy alone at
# the end. Seconds of each in the suite, about, 2026-12-06.
SLOWEST_MODULES = (
    "test_shards.py",  # 280 s: the demo built as shards in two steps, reviewed, built again
    "test_fault_matrix.py",  # 260 s
    "test_evaluation.py",  # 220 s
    "test_kept_predictions.py",  # 150 s
    "test_review_flows.py",  # 140 s
    "test_log_properties.py",  # 130 s
    "test_audit_and_reset.py",  # 110 s
    "test_review_app.py",  # 110 s
    "test_model_lifecycle.py",  # 80 s
    "test_bench.py",  # 70 s
    "test_monitoring.py",  # 60 s
    "test_demo.py",  # 45 s
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: place for place, name in enumerate(SLOWEST_MODULES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


# `mrs build` options that reach dbt as --vars (the other settings go as environment variables).
_VARS_OPTIONS = ("--route", "--store-timezone")


def _target_by_database_name(args: tuple[str, ...]) -> dict[str, str]:
    """dbt's target folder for a command on `--database`: one per database file name and
    options that become dbt vars. A build whose profile (it names the file, see
    mrs.pipeline.project) or vars differ from the last ones parsed in its target folder parses
    the whole project again (about 4 s), and each worker builds databases of a few names, with
    and without such options, in turn."""
    # `--route=MODEL=VERSION` is `--route MODEL=VERSION` to argparse (`--database=PATH` too):
    # split it alike.
    tokens = [part for arg in args for part in (arg.split("=", 1) if arg[:2] == "--" else [arg])]
    if "--database" not in tokens[:-1]:
        return {}
    name = Path(tokens[tokens.index("--database") + 1]).name
    vars_options = [
        f"{flag}={value}" for flag, value in itertools.pairwise(tokens) if flag in _VARS_OPTIONS
    ]
    if vars_options:
        name += "-" + hashlib.md5(repr(sorted(vars_options)).encode()).hexdigest()[:8]
    return {"DBT_TARGET_PATH": str(DBT_TARGET / "by-database-name" / name)}


def run_mrs(
    *args: str,
    check: bool = True,
    env: dict[str, str] | None = None,
    new_process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `mrs ...` as a user would; return its exit code and output. By default in this
    worker's process (the command line's main; a build runs dbt in process, as `mrs build`
    does): each build then skips starting Python and importing mrs and dbt, about 3 s of the
    suite's ~300 builds. `new_process` runs the installed `mrs` as a process of its own, for
    what one process cannot show (determinism across processes, the entry point)."""
    environment = {**_target_by_database_name(args), **(env or {})}
    if new_process:
        result = subprocess.run(
            [str(BIN / "mrs"), *args],
            cwd=PROJECT_ROOT,
            env={**os.environ, **environment},
            capture_output=True,
            text=True,
            check=False,
        )
    else:
        result = _run_in_this_process(args, environment)
    if check and result.returncode != 0:
        raise AssertionError(
            f"mrs {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


def start_mrs(*args: str) -> subprocess.Popen[str]:
    """`mrs ...` started as a process of its own (and process group: what it starts ends with
    it), its output and errors readable line by line from `stdout` as they come."""
    return subprocess.Popen(
        [str(BIN / "mrs"), *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **_target_by_database_name(args)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


@contextlib.contextmanager
def _as_a_process(environment: dict[str, str]) -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """What a command run in this process sees as a process of its own would: `environment`
    added to this process's for the command only, the project folder as the working folder,
    and its output and errors captured (dbt's too: its console logger writes to sys.stdout
    as it is at each invocation)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    os.environ.update(environment)
    try:
        with (
            contextlib.chdir(PROJECT_ROOT),
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
        ):
            yield stdout, stderr
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _run_in_this_process(
    args: tuple[str, ...], environment: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`mrs ...` through its main in this process (_as_a_process). What would end a process
    of its own (an exit, an error nobody caught) becomes its exit code, with the traceback
    in its stderr."""
    with _as_a_process(environment) as (stdout, stderr):
        try:
            code = main(list(args))
        except SystemExit as stop:  # argparse's usage errors, --help
            code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
        except Exception:  # a process of its own would have died of it
            traceback.print_exc()
            code = 1
    return subprocess.CompletedProcess(["mrs", *args], code, stdout.getvalue(), stderr.getvalue())


def run_dbt(database: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`dbt ...` as a user runs it in the project folder, the profile pointed at `database`
    by MRS_DUCKDB_PATH; return its exit code (dbt's: 0, 1 failed, 2 stopped) and output.
    Through dbt's programmatic runner in this process (_as_a_process), as run_mrs runs
    `mrs`: a dbt process of its own costs a Python start and a dbt import, about 4 s a
    command."""
    from dbt.cli.main import dbtRunner

    environment = {"MRS_DUCKDB_PATH": str(database), "DBT_PROFILES_DIR": str(PROJECT_ROOT)}
    with _as_a_process(environment) as (stdout, stderr):
        try:
            result = dbtRunner().invoke(list(arguments))
        finally:
            release_database()
    code = 0 if result.success else 2 if result.exception is not None else 1
    return subprocess.CompletedProcess(
        ["dbt", *arguments], code, stdout.getvalue(), stderr.getvalue()
    )


def world_build_arguments(
    world: Path, database: Path, options: WorldOptions, *extra: str
) -> list[str]:
    """`mrs build --no-tests` of a generated world's inputs, with the world's own training and
    detection start."""
    return [
        "build",
        "--input-dir", str(world),
        "--database", str(database),
        "--training-start", f"{options.training_start:%Y-%m-%d}",
        "--detection-start", f"{options.detection_start:%Y-%m-%d}",
        "--no-tests",
        *extra,
    ]  # fmt: skip


def build_world(world: Path, database: Path, options: WorldOptions, *extra: str) -> str:
    """Build a generated world (see world_build_arguments); return the build's output."""
    return run_mrs(*world_build_arguments(world, database, options, *extra)).stdout


def query(database: Path, sql: str) -> list[tuple]:
    """Rows of `sql` on a working file (staged inputs found by name, as MRS reads them)."""
    with open_database(database) as con:
        return con.execute(sql).fetchall()


def log_rows(database: Path) -> dict[str, list[tuple]]:
    """Every row of every log, in a comparable form (lists as tuples, rows sorted)."""
    return {
        log: sorted(
            (
                tuple(tuple(value) if isinstance(value, list) else value for value in row)
                for row in query(database, f"select * from {log}")
            ),
            key=repr,
        )
        for log in LOGS
    }


def _same_path_folder(factory: pytest.TempPathFactory, name: str) -> Path:
    """An empty folder at the same path in every test of this worker (pytest's own is new for
    every test and kept, and the suite's databases are large)."""
    folder = factory.getbasetemp() / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


@pytest.fixture
def workbench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second such folder beside tmp_path, for one database per test."""
    return _same_path_folder(tmp_path_factory, "workbench")


@pytest.fixture
def tmp_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This worker's scratch folder, emptied before each test (pytest's own is a new folder
    for every test): see _same_path_folder."""
    return _same_path_folder(tmp_path_factory, "scratch")


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The README demo command, run once for the session: (database, printed output).
    `python3 tasks.py test` runs it once before pytest (its dbt build step) and names the
    database and output in MRS_TEST_DEMO_DATABASE and MRS_TEST_DEMO_OUTPUT: each worker
    then works on a copy, files beside it included, instead of building its own."""
    folder = tmp_path_factory.mktemp("demo")
    built = os.environ.get("MRS_TEST_DEMO_DATABASE")
    if built:
        database = copy_database(Path(built), folder)
        return database, Path(os.environ["MRS_TEST_DEMO_OUTPUT"]).read_text(encoding="utf-8")
    database = folder / "demo.duckdb"
    result = run_mrs("demo", "--database", str(database))
    return database, result.stdout


def as_reviewer(database: Path, role: str) -> str:
    """Make the OS user running the tests a reviewer of `database` with `role` (beside the
    demo's scripted reviewers), as an admin would; return their login."""
    login = os_login()
    write_registry(database, {**DEMO_REVIEWERS, login: role})
    return login
