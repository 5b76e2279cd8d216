"""Issue 5's governance paths on copies of the demo database: the audit analyses, a reset to
a new run, and hydration with each preferred upstream log removed in turn."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import (
    as_reviewer,
    copy_database,
    log_rows,
    query,
    run_dbt,
    run_mrs,
)

from mrs.pipeline.database_lock import open_database
from mrs.pipeline.project import WITHOUT_TESTS
from mrs.review.journal import JOURNAL_MARKER, journal_dir


def _analysis(database: Path, name: str, variable: str, value: str, target: Path) -> list[tuple]:
    compiled = run_dbt(
        database,
        "compile",
        "--select",
        name,
        "--vars",
        f"{{{variable}: '{value}'}}",
        "--target-path",
        str(target),
    )
    assert compiled.returncode == 0, compiled.stdout
    sql = (target / "compiled" / "mrs" / "analyses" / f"{name}.sql").read_text()
    return query(database, sql)


@pytest.fixture(scope="module")
def audited(demo_database: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_database(demo_database[0], tmp_path_factory.mktemp("audit") / "audited")


def test_the_audit_analyses_trace_a_report_an_edit_and_an_event(
    audited: Path, tmp_path: Path
) -> None:
    report_id, event_id, annotation_id = query(
        audited,
        "select report_id, report_group_id, annotation_id from minority_reports "
        "where final_decision = 'approved' and window_end is not null and report_group_id in "
        "(select report_group_id from user_minority_events_edits_log) order by report_id limit 1",
    )[0]
    history = _analysis(audited, "audit_report_history", "audit_report_id", report_id, tmp_path)
    logs = [row[3] for row in history]
    assert {"MRDL", "MEEL", "MRCL", "MRPAL", "MRCH", "MRFL"} <= set(logs)
    assert "user_minority_events_edits_log" in logs
    times = [row[1] for row in history]
    assert times == sorted(times)
    assert history[-1][3] == "MRFL" and history[-1][5].startswith("approved")

    trace = _analysis(audited, "audit_edit_trace", "audit_annotation_id", annotation_id, tmp_path)
    assert trace, "the approving edit should be traced to the MRFL rows it produced"
    assert {(row[0], row[1], row[5], row[18]) for row in trace} == {
        ("event", event_id, "approve", "approved")
    }

    events = _analysis(audited, "audit_event_history", "audit_report_group_id", event_id, tmp_path)
    entries = [row[3] for row in events]
    assert {"MELOG", "MRCH", "user_minority_events_edits_log"} <= set(entries)


def test_a_reset_starts_a_new_run_and_keeps_the_old_one_queryable(
    audited: Path, workbench: Path, tmp_path: Path
) -> None:
    database = copy_database(audited, workbench)
    old_rows = query(database, "select count(*) from minority_reports_detected_log")[0][0]
    reused = run_mrs("reset", "--run-id", "demo-run-001", "--database", str(database), check=False)
    assert reused.returncode == 2 and "already exists" in reused.stderr
    run_mrs("reset", "--run-id", "audit-rerun", "--database", str(database))
    # Issue 16: a plain `dbt build` (no --vars) after the reset builds what mrs build does.
    plain = copy_database(database, tmp_path / "plain")
    built = run_dbt(plain, "build", *WITHOUT_TESTS, "--target-path", str(tmp_path / "target"))
    assert built.returncode == 0, built.stdout
    run_mrs("build", "--database", str(database), "--no-tests")
    assert log_rows(plain) == log_rows(database)
    for table in ("minority_reports", "minority_events"):
        assert sorted(query(plain, f"select * from {table}"), key=repr) == sorted(
            query(database, f"select * from {table}"), key=repr
        ), table
    assert query(database, "select distinct run_id from minority_reports") == [("audit-rerun",)]
    assert query(database, "select distinct run_id from minority_events") == [("audit-rerun",)]
    # The new run replays the same detections, without the old run's analyst decisions.
    old_reports = query(
        database,
        "select count(distinct report_id) from minority_reports_detected_log "
        "where run_id = 'demo-run-001'",
    )[0][0]
    assert old_reports == 27  # the demo's reports (test_detection_demo.py)
    assert query(database, "select count(*) from minority_reports")[0][0] == old_reports
    assert query(database, "select distinct final_decision from minority_reports") == [("pending",)]
    by_run = dict(
        query(database, "select run_id, count(*) from minority_reports_detected_log group by 1")
    )
    assert by_run["demo-run-001"] == old_rows
    assert by_run["audit-rerun"] == old_rows


@pytest.mark.parametrize(
    "log, reason",
    [
        ("minority_reports_clustered_log", "MRCL_down"),
        ("minority_reports_proposed_attribution_log", "MRPAL_down"),
        ("minority_event_ended_log", "MEEL_down"),
        ("minority_reports_cohorted_log", "MRCH_down"),
        ("minority_reports_finalised_log", "MRFL_down"),
    ],
)
def test_hydration_survives_a_missing_upstream_log_and_says_why(
    audited: Path, workbench: Path, log: str, reason: str
) -> None:
    database = copy_database(audited, workbench)
    with open_database(database, read_only=False) as con:
        con.execute(f"drop table {log}")
    # Hydration reads each log's current state (models/current), which says the log is missing.
    result = run_dbt(
        database, "run", "--select", "path:models/current", "minority_reports", "minority_events"
    )
    assert result.returncode == 0, result.stdout
    assert f"mrs: {log} is missing" in result.stdout
    rows = query(database, "select is_degraded, degraded_reasons, window_end from minority_reports")
    assert len(rows) == 27  # the demo's reports (test_detection_demo.py)
    # Only a closed report needs MEEL; every report needs the other logs.
    affected = [row for row in rows if reason != "MEEL_down" or row[2] is not None]
    assert len(affected) >= 20
    assert all(degraded and reason in reasons for degraded, reasons, _ in affected)


def test_an_unreachable_edit_journal_degrades_finalisation(audited: Path, workbench: Path) -> None:
    database = copy_database(audited, workbench)
    (journal_dir(database) / JOURNAL_MARKER).unlink()
    result = run_dbt(database, "run", "--select", "report_final_states+")
    assert result.returncode == 0, result.stdout
    rows = query(database, "select degraded_reasons from minority_reports")
    assert all("edits_down" in reasons for (reasons,) in rows)
    # The decisions already logged are kept: nothing analysts did is lost.
    approved = query(database, "select count(*) from user_edits_log")[0][0]
    assert approved > 0


def test_auto_approval_is_off_by_default_and_never_overrides_an_analyst(
    audited: Path, workbench: Path
) -> None:
    assert query(audited, "select count(*) from user_edits_log where user_role = 'system'") == [
        (0,)
    ]
    database = copy_database(audited, workbench)
    # An analyst rejects a report whose proposal is confident enough to be auto-approved.
    rejected = query(
        database,
        "select report_id from minority_reports where final_decision = 'pending' "
        "and confidence_score >= 0.7 order by report_id limit 1",
    )[0][0]
    as_reviewer(database, "marketer")
    run_mrs("review", "reject", rejected, "--database", str(database))
    decided_by_analysts = dict(
        query(database, "select report_id, final_decision from minority_reports "
              "where final_decision != 'pending'")
    )  # fmt: skip
    result = run_dbt(
        database,
        "build",
        "--select",
        "stg_user_edits_checked+",
        "--vars",
        "{auto_approval_enabled: true, auto_approval_min_confidence: 0.7}",
    )
    assert result.returncode == 0, result.stdout
    system = query(
        database,
        "select report_id, action, actor from user_edits_log where user_role = 'system'",
    )
    above = {
        row[0]
        for row in query(
            database,
            "select distinct report_id from minority_reports_proposed_attribution_log "
            "where confidence_score >= 0.7",
        )
    }
    assert system and {row[0] for row in system} == above
    assert {row[1:] for row in system} == {("approve", "mrs-auto-approval")}
    states = dict(query(database, "select report_id, final_decision from minority_reports"))
    for report_id in above - set(decided_by_analysts) - {rejected}:
        assert states[report_id] == "approved"
    for report_id, decision in decided_by_analysts.items():
        assert states[report_id] == decision
    assert states[rejected] == "rejected"
    below = query(
        database,
        "select count(*) from minority_reports where final_decision = 'approved' "
        "and source_used_final = 'minority_reports_finalised_log' and report_id not in "
        f"({', '.join(repr(r) for r in above | set(decided_by_analysts) | {rejected})})",
    )
    assert below == [(0,)]


def test_a_file_built_before_the_layer_schemas_keeps_its_logs_and_no_stale_copy(
    audited: Path, workbench: Path
) -> None:
    # Files built before 2026-12-01 had every staged input in main, and before 2026-12-02
    # every log: MRS's readers look in main first, so a staged copy left there would shadow
    # the fresh one, and a log is history no build can write again, so it must move whole.
    database = copy_database(audited, workbench)
    logs = [
        name
        for (name,) in query(
            database,
            "select table_name from information_schema.tables where table_schema = 'logs'",
        )
    ]
    assert len(logs) == 20

    def logged() -> dict[str, list[tuple]]:
        return {log: sorted(query(database, f"from {log}"), key=repr) for log in logs}

    before = logged()
    with duckdb.connect(str(database)) as con:
        con.execute("create table main.stg_stores as select * from staging.stg_stores limit 1")
        for log in logs:
            con.execute(f"create table main.{log} as from logs.{log}")
        con.execute("drop schema logs cascade")
    result = run_dbt(database, "run", "--select", "stg_stores")
    assert result.returncode == 0, result.stdout
    assert "mrs: dropped" in result.stdout and "moved to schema staging" in result.stdout
    assert result.stdout.count("mrs: moved") == len(logs)
    schemas = query(
        database,
        "select table_name, table_schema from information_schema.tables "
        f"where table_name in ('stg_stores', {', '.join(repr(log) for log in logs)})",
    )
    assert sorted(schemas) == sorted([("stg_stores", "staging"), *((log, "logs") for log in logs)])
    assert query(database, "select count(*) from stg_stores")[0][0] > 1
    assert logged() == before
    # dbt knows where they went: the next run appends to them (nothing new here).
    result = run_dbt(
        database, "run", "--select", "minority_event_ended_log", "ui_notifications_log"
    )
    assert result.returncode == 0, result.stdout
    assert logged() == before
