"""DESIGN.md section 2 properties of the detection logs, on a small generated world:
determinism, tick equivalence and append-only, also across a build killed mid-run (issue 7's
fault matrix; idempotence is test_fault_matrix.py's missing-stage-log test, a second build
with unchanged inputs)."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest
from conftest import (
    LOGS,
    build_world,
    copy_database,
    log_rows,
    query,
    run_mrs,
    start_mrs,
    world_build_arguments,
)

import mrs.pipeline.project as project_module
from mrs.dev.world import WorldOptions, write_world
from mrs.pipeline.database_lock import open_database

SMALL_WORLD = WorldOptions(stores=14, products=7, days=26)
# The small world's detection window starts 2025-07-23; T1 falls inside several reports.
EARLY_TICK = "2025-07-24 15:00"
LATE_TICK = "2025-07-27 12:00"
LEFTOVER = "main.anomaly_classifier_model_real__dbt_tmp20250724150000123456"
STAGING_TABLES = (
    "select schema_name, table_name from duckdb_tables() where table_name like '%dbt_tmp%'"
)


MOCK_ROUTES = tuple(
    f"--route={model}=mock"
    for model in (
        "baseline_sales_model",
        "anomaly_classifier_model",
        "cluster_comparison_model",
        "attribution_model",
    )
)


def _build(world: Path, database: Path, as_of: str, *extra: str) -> None:
    build_world(world, database, SMALL_WORLD, "--as-of", as_of, *extra)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("small_world")
    write_world(SMALL_WORLD, folder)
    return folder


@pytest.fixture(scope="module")
def fresh(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("fresh") / "mrs.duckdb"
    _build(world, database, LATE_TICK)
    return database


@pytest.fixture(scope="module")
def early(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The world built to EARLY_TICK: where the two-step build and the killed build start."""
    database = tmp_path_factory.mktemp("early") / "mrs.duckdb"
    _build(world, database, EARLY_TICK)
    return database


def test_the_small_world_has_reports_to_check(fresh: Path) -> None:
    reports = query(fresh, "select count(distinct report_id) from minority_reports_detected_log")
    assert reports[0][0] >= 5
    # A build of an input folder does not load the demo world's input seeds it never reads.
    assert query(
        fresh, "select count(*) from information_schema.tables where table_name = 'stores'"
    ) == [(0,)]


def test_a_build_loop_writes_what_one_build_writes_and_frees_the_file_between_builds(
    world: Path, fresh: Path, workbench: Path
) -> None:
    # Issue 18: `mrs build --every` builds in one long-lived process through dbt's
    # programmatic runner, and its first build's logs are those of one `mrs build`.
    # Determinism too: two fresh builds of the same world, in two processes, give the same
    # rows (`fresh` was built in the suite's, the loop in its own).
    database = workbench / "mrs.duckdb"
    arguments = world_build_arguments(world, database, SMALL_WORLD, "--as-of", LATE_TICK)
    loop = start_mrs(*arguments, "--every", "120", "--builds", "2")
    output, between = [], None
    assert loop.stdout is not None
    for line in loop.stdout:
        output.append(line)
        if line.startswith("mrs: build 1 done in "):
            # While the loop waits for its next build, the file is free: a BI client in
            # another process opens it (dbt-duckdb kept its connection after a programmatic
            # run, which locked the file until the loop ended). Then Ctrl-C stops the loop.
            between = query(database, "select count(*) from minority_reports_detected_log")
            loop.send_signal(signal.SIGINT)
    assert loop.wait() == 0, "".join(output)
    assert between is not None and between[0][0] > 0, "".join(output)
    assert "; the next starts in " in "".join(output)
    assert output[-1] == "mrs: stopped after 1 build(s)\n"
    assert log_rows(database) == log_rows(fresh)
    refused = run_mrs(*arguments, "--builds", "2", check=False)
    assert refused.returncode == 2 and "give --every SECONDS too" in refused.stderr


def test_building_in_two_steps_equals_one_fresh_build_and_keeps_earlier_rows(
    world: Path, fresh: Path, early: Path, workbench: Path
) -> None:
    database = copy_database(early, workbench)
    early_logs = log_rows(database)
    assert early_logs["minority_reports_detected_log"], "T1 should already hold live reports"
    # What an earlier version's incremental builds left: the staging table of the real
    # classifier's new decisions, one per build (dbt-duckdb never dropped it).
    with open_database(database, read_only=False) as con:
        con.execute(f"create table {LEFTOVER} as select 1 as decision")
    # The next tick's build re-parses nothing (the tick reaches dbt as an environment
    # variable, not --vars), and a stale MRS_BUILD_AS_OF in the caller's environment is not
    # passed on to dbt.
    arguments = world_build_arguments(world, database, SMALL_WORLD, "--as-of", LATE_TICK)
    parses = project_module._PARSED_PROJECTS.parses
    output = run_mrs(*arguments, env={"MRS_BUILD_AS_OF": EARLY_TICK}).stdout
    assert "Unable to do partial parsing" not in output
    # Nor does it parse at all: it builds from the manifest this process parsed for the
    # early build (mrs.pipeline.parsed_project), so the tick equivalence below holds for a
    # kept manifest too.
    assert project_module._PARSED_PROJECTS.parses == parses
    late = log_rows(database)
    # Tick equivalence.
    assert late == log_rows(fresh)
    # The events' shapes: those whose members' hours changed matched again, the others kept
    # (mrs.models.kept_event_matches), the same rows as a fresh build's.
    assert re.search(r"event shapes kept, \d+ of \d+ event\(s\) matched again", output), output
    events = "select * from event_cluster_matches order by report_group_id"
    assert query(database, events) == query(fresh, events)
    # The incremental build left no staging table of its own, and dropped the earlier one.
    assert query(database, STAGING_TABLES) == []
    # Append-only: every row of the first build is still there, unchanged.
    for log in LOGS:
        assert set(early_logs[log]) <= set(late[log]), log
        assert len(late[log]) >= len(early_logs[log])


def test_a_build_killed_mid_run_leaves_nothing_the_next_build_trips_on(
    world: Path, fresh: Path, early: Path, workbench: Path
) -> None:
    # Issue 7's fault matrix (test_fault_matrix.py), here for the two builds it shares: the
    # two-step test's first and the fresh build the finished build must equal.
    database = copy_database(early, workbench)
    before = log_rows(database)
    build = start_mrs(*world_build_arguments(world, database, SMALL_WORLD, "--as-of", LATE_TICK))
    killed_during = None
    assert build.stdout is not None
    for line in build.stdout:
        # Kill once detection has appended and clustering is being written.
        if "START" in line and "minority_reports_clustered_log" in line:
            killed_during = line.strip()
            os.killpg(build.pid, signal.SIGKILL)
            break
    build.wait(timeout=600)
    _wait_until_gone(build.pid)
    assert killed_during, "the build ended before it reached clustering"
    assert build.returncode != 0
    # Whatever the kill left, no earlier row was changed...
    after_kill = log_rows(database)
    for log, rows in before.items():
        assert set(rows) <= set(after_kill[log]), log
    # ...and the next build completes to the same logs as one undisturbed build.
    _build(world, database, LATE_TICK)
    assert log_rows(database) == log_rows(fresh)


def _wait_until_gone(group: int) -> None:
    """Wait until every process of the killed group (dbt as well as mrs) has exited, so the
    database lock the build held is released."""
    for _ in range(600):
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError("the killed build's processes did not exit within 60 s")


def test_the_mock_versions_are_deterministic(world: Path, tmp_path: Path) -> None:
    # Idempotence is the logs' (route-independent, test above); determinism is each model's.
    first, second = tmp_path / "a" / "mrs.duckdb", tmp_path / "b" / "mrs.duckdb"
    _build(world, first, LATE_TICK, *MOCK_ROUTES)
    logs = log_rows(first)
    assert logs["minority_reports_detected_log"], "the mock should report the narratives"
    # The second in a process of its own: Python's hashes and dbt's state are not shared.
    run_mrs(
        *world_build_arguments(world, second, SMALL_WORLD, "--as-of", LATE_TICK, *MOCK_ROUTES),
        new_process=True,
    )
    assert log_rows(second) == logs
