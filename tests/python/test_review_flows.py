"""Issue 5's review flows end to end: the demo's three scenarios (run by `mrs demo` through
`mrs review`), reopening, replayed and invalid edits, idempotence with edits present."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import LOGS, PROJECT_ROOT, copy_database, query, run_mrs, start_mrs

from mrs.dev.demo_scenarios import EDITED_CAUSE, EVIDENCE_LINK
from mrs.review.journal import journal_dir
from mrs.review.reviewers import os_login, read_registry, registry_file, write_registry

REVIEW_LOGS = (
    *LOGS,
    "user_edits_log",
    "user_minority_events_edits_log",
    "ui_notifications_log",
    "minority_reports_rereview_worklist",
    "minority_reports_clustered_rereview_log",
    "minority_reports_proposed_attribution_rereview_log",
)
NARRATIVE_REPORTS = """
select distinct r.report_id, r.report_group_id, r.final_decision, r.review_status,
       r.final_cause, r.final_cause_category, r.added_evidence, r.annotation_id
from minority_reports as r
inner join stg_master_narratives as n
    on n.store_id = r.store_id and n.sku = r.sku
    and r.window_start < n.end_ts and coalesce(r.window_end, r.window_start) >= n.start_ts
where n.narrative_id = '{narrative}'
order by r.report_id
"""
REOPEN_NOTES = "The competitor restocked earlier than reported; the uplift needs a second look."


def _reports(database: Path, narrative: str) -> list[tuple]:
    return query(database, NARRATIVE_REPORTS.format(narrative=narrative))


def _rows(database: Path, logs: tuple[str, ...]) -> dict[str, set[tuple]]:
    return {
        log: {tuple(map(repr, row)) for row in query(database, f"select * from {log}")}
        for log in logs
    }


def test_mrs_001_reports_are_approved(demo_database: tuple[Path, str]) -> None:
    reports = _reports(demo_database[0], "MRS-001")
    assert len(reports) >= 3
    assert {(row[2], row[3]) for row in reports} == {("approved", "approved")}


def test_mrs_002_event_is_approved_with_its_evidence_link(demo_database: tuple[Path, str]) -> None:
    database, _ = demo_database
    reports = _reports(database, "MRS-002")
    assert len(reports) == 4
    [event] = {row[1] for row in reports}
    assert {row[2] for row in reports} == {"approved"}
    assert all(EVIDENCE_LINK in row[6] for row in reports)
    decision, evidence = query(
        database,
        f"select final_decision, added_evidence from minority_events "
        f"where report_group_id = '{event}'",
    )[0]
    assert decision == "approved"
    assert evidence == [EVIDENCE_LINK]
    # Traced from the final record to the event edit that approved it: who and what.
    traced = query(
        database,
        f"""
        select e.action, e.actor, e.user_role
        from minority_reports as r
        inner join user_minority_events_edits_log as e on r.annotation_id = e.annotation_id
        where r.report_group_id = '{event}'
        """,
    )
    assert set(traced) == {("approve", "demo.marketer", "marketer")}


def test_mrs_003_review_requested_then_cause_edited_and_approved(
    demo_database: tuple[Path, str],
) -> None:
    database, _ = demo_database
    reports = _reports(database, "MRS-003")
    assert len(reports) == 3
    assert {row[2:6] for row in reports} == {("approved", "approved", EDITED_CAUSE, "weather")}
    [event] = {row[1] for row in reports}
    actions = query(
        database,
        f"select action from user_minority_events_edits_log where report_group_id = '{event}' "
        "order by edited_at, source_file",
    )
    assert [row[0] for row in actions] == ["request_review", "edit", "approve"]
    # Before the edits took effect the same reports were pending with the proposed cause.
    history = query(
        database,
        f"""
        select distinct final_decision, final_cause from minority_reports_finalised_log
        where report_group_id = '{event}' and final_decision = 'pending'
        """,
    )
    assert history and all(cause != EDITED_CAUSE for _, cause in history)


def test_alerts_go_once_to_each_subscriber_scope_that_covers_the_event(
    demo_database: tuple[Path, str],
) -> None:
    database, _ = demo_database
    rows = query(
        database,
        "select report_group_id, subscriber, scope_type, proposed_cause_category, severity, "
        "abs(impact_units) from ui_notifications_log",
    )
    assert rows
    assert len({row[:3] for row in rows}) == len(rows)
    assert all(row[4] >= 0.6 and row[5] >= 50 for row in rows)
    national = {row[0] for row in rows if row[1] == "analytics-team"}
    assert {row[0] for row in rows} == national  # the national subscriber hears of every alert
    operations = {row[3] for row in rows if row[1] == "store-operations"}
    assert operations == {"operational"}
    regional = {row[0] for row in rows if row[1] == "north-west-trading"}
    north_west = query(
        database,
        """
        select distinct c.report_group_id from minority_reports_cohorted_log as c
        inner join stg_stores as s on c.store_id = s.store_id and s.region = 'North West'
        """,
    )
    assert regional and regional <= {row[0] for row in north_west}


def test_unreviewed_reports_stay_pending_with_their_proposal(
    demo_database: tuple[Path, str],
) -> None:
    rows = query(
        demo_database[0],
        "select final_decision, source_used_final, final_cause = proposed_cause "
        "from minority_reports where annotation_id is null",
    )
    assert rows
    assert set(rows) == {("pending", "minority_reports_finalised_log", True)}


@pytest.fixture(scope="module")
def reviewed(demo_database: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo database on which further edits are made."""
    return copy_database(demo_database[0], tmp_path_factory.mktemp("reviewed"))


def test_a_second_build_with_edits_present_appends_nothing(reviewed: Path) -> None:
    before = _rows(reviewed, REVIEW_LOGS)
    run_mrs("build", "--database", str(reviewed), "--no-tests")
    assert _rows(reviewed, REVIEW_LOGS) == before


def test_invalid_edits_on_a_real_database_write_nothing(reviewed: Path) -> None:
    report_id = _reports(reviewed, "MRS-005")[0][0]
    approved_id = _reports(reviewed, "MRS-001")[0][0]
    journal = sorted(journal_dir(reviewed).rglob("*.json"))
    cases = [
        ["edit", report_id, "--category", "aliens"],
        ["approve", "MR-000000000000"],
        ["edit", report_id, "--confidence", "1.2"],
        ["reopen", approved_id, "--reason", "new_evidence", "--notes", "too short"],
        ["reopen", report_id, "--reason", "new_evidence", "--notes", REOPEN_NOTES],
        ["approve", approved_id],
        ["defer", report_id, "--notes", "x" * 2001],
    ]
    for case in cases:
        result = run_mrs("review", *case, "--database", str(reviewed), check=False)
        assert result.returncode == 2, case
        assert result.stderr.startswith("mrs: "), case
    assert sorted(journal_dir(reviewed).rglob("*.json")) == journal


def test_reopen_and_replayed_edits(reviewed: Path) -> None:
    report_id = _reports(reviewed, "MRS-001")[0][0]
    before = _rows(reviewed, REVIEW_LOGS)
    reopen = ["reopen", report_id, "--reason", "new_evidence", "--notes", REOPEN_NOTES]
    for _ in range(2):  # the same reopen typed twice: two edits (issue 15)
        run_mrs("review", *reopen, "--database", str(reviewed))
    run_mrs("build", "--database", str(reviewed), "--no-tests")
    after = _rows(reviewed, REVIEW_LOGS)
    # Append-only: every earlier row is still there, unchanged.
    for log in REVIEW_LOGS:
        assert before[log] <= after[log], log
    reopened = query(
        reviewed,
        f"select action, reopen_reason, notes from user_edits_log where report_id = '{report_id}' "
        "and action = 'reopen'",
    )
    assert reopened == [("reopen", "new_evidence", REOPEN_NOTES)] * 2
    state = query(
        reviewed,
        "select final_decision, review_status from minority_reports "
        f"where report_id = '{report_id}'",
    )
    assert state == [("pending", "reopened")]
    decisions = query(
        reviewed,
        f"select final_decision from minority_reports_finalised_log where report_id = "
        f"'{report_id}' order by version",
    )
    assert ("approved",) in decisions and decisions[-1] == ("pending",)


def test_approve_reject_approve_ends_approved(
    demo_database: tuple[Path, str], workbench: Path
) -> None:
    # Issue 15: every edit is stamped with the newest tick, so the three decisions share
    # their time; each is its own edit (its journal file names it), and the last one wins.
    database = copy_database(demo_database[0], workbench)
    report_id = _reports(database, "MRS-005")[0][0]
    for action in ("approve", "reject", "approve"):
        run_mrs("review", action, report_id, "--database", str(database))
    # A journal file cut short (a disk that filled up, a copy interrupted) is one rejected
    # edit, not a build that stops.
    journal = database.parent / f"{database.stem}_edits" / "user_edits_log"
    (journal / "zz-truncated.json").write_text(f'{{"report_id": "{report_id}", "acti')
    # Hand-written files acting for someone they are not are refused too: the system role
    # (auto-approval's), a login not in the reviewers registry, a reviewer claiming a role
    # the registry does not give them, and a role beyond its rights (review_permissions).
    genuine = json.loads(sorted(journal.glob("*.json"))[0].read_text())
    forgeries = {
        "zz-forged-system.json": {"user_role": "system", "actor": "mrs-auto-approval"},
        "zz-forged-stranger.json": {"actor": "mallory", "user_role": "admin"},
        "zz-forged-role.json": {"actor": "demo.marketer", "user_role": "admin"},
        # A reviewer's own file, with a reopen note padded with spaces (issue 15: only
        # written characters count, as in `mrs review`).
        "zz-forged-notes.json": {
            "actor": os_login(), "user_role": "admin", "action": "reopen",
            "reopen_reason": "new_evidence", "notes": "x" + " " * 60 + "y",
        },
        "zz-forged-right.json": {
            "actor": "demo.marketer", "user_role": "marketer", "action": "reopen",
            "reopen_reason": "new_evidence", "notes": REOPEN_NOTES,
        },
    }  # fmt: skip
    for name, fields in forgeries.items():
        (journal / name).write_text(json.dumps({**genuine, "action": "reject", **fields}))
    # A reviewer limited to another region: `mrs review` refuses them the report, and their
    # hand-written files on the report and on its event are refused by the build.
    [(store_region, event_id)] = query(
        database,
        "select s.region, r.report_group_id from minority_reports as r "
        f"inner join stg_stores as s using (store_id) where r.report_id = '{report_id}'",
    )
    other = query(database, f"select min(region) from stg_stores where region != '{store_region}'")
    registry = read_registry(database, PROJECT_ROOT)
    write_registry(database, registry, {os_login(): (f"region:{other[0][0]}",)})
    refused = run_mrs("review", "reject", report_id, "--database", str(database), check=False)
    assert refused.returncode == 2 and "outside your scope" in refused.stderr
    write_registry(database, registry, {"demo.scientist": (f"region:{other[0][0]}",)})
    scoped = {**genuine, "actor": "demo.scientist", "user_role": "data_scientist"}
    (journal / "zz-forged-scope.json").write_text(json.dumps({**scoped, "action": "reject"}))
    event_journal = journal.parent / "user_minority_events_edits_log"
    del scoped["report_id"]
    (event_journal / "zz-forged-scope.json").write_text(
        json.dumps({**scoped, "report_group_id": event_id, "action": "reject"})
    )
    # Lines of the registry that grant nothing: an unknown role, no login, a login again
    # (its first line holds: demo.marketer stays a marketer), a scope of no known kind.
    with registry_file(database).open("a", encoding="utf-8") as lines:
        lines.write("mallory,boss\n,admin\ndemo.marketer,admin\neve,marketer,country:UK\n")
    run_mrs("build", "--database", str(database), "--no-tests")
    logged = query(
        database,
        f"select action from user_edits_log where report_id = '{report_id}' order by source_file",
    )
    assert logged == [("approve",), ("reject",), ("approve",)]
    state = query(
        database, f"select final_decision from minority_reports where report_id = '{report_id}'"
    )
    assert state == [("approved",)]
    assert query(
        database, "select source_file, error_reason from user_edits_errors order by 1"
    ) == [
        ("zz-forged-notes.json", "reopen notes shorter than 50 characters"),
        ("zz-forged-right.json",
         "the role of the actor may not take this action (review_permissions)"),
        ("zz-forged-role.json", "user_role is not the role of the actor in the reviewers registry"),
        ("zz-forged-scope.json",
         "a store of the report is outside the scope of the actor in the reviewers registry"),
        ("zz-forged-stranger.json", "actor is not in the reviewers registry"),
        ("zz-forged-system.json", "role system is reserved for auto-approval in the build"),
        ("zz-truncated.json", "malformed JSON (a truncated file?): fix or remove the file"),
    ]  # fmt: skip
    assert query(
        database,
        "select source_row_number, raw_reviewer, error_reason from reviewers_errors order by 1",
    ) == [
        (4, "mallory", "unknown user_role"),
        (5, None, "missing reviewer"),
        (6, "demo.marketer", "duplicate key (reviewer)"),
        (7, "eve", "scope entries must read store:, region:, city: or retailer: and a value"),
    ]
    assert query(
        database, "select source_file, error_reason from user_minority_events_edits_errors"
    ) == [
        ("zz-forged-scope.json",
         "a store of the event is outside the scope of the actor in the reviewers registry"),
    ]  # fmt: skip
    assert {actor for (actor,) in query(database, "select distinct actor from user_edits_log")} <= {
        os_login(),
        "demo.marketer",
        "demo.scientist",
    }


def test_low_confidence_finalised_reports_are_listed_for_rereview(
    demo_database: tuple[Path, str],
) -> None:
    database, _ = demo_database
    listed = query(
        database,
        "select reasons, final_confidence from minority_reports_rereview_worklist",
    )
    finalised_low = query(
        database,
        "select count(*) from minority_reports where final_decision != 'pending' "
        "and final_confidence < 0.5",
    )[0][0]
    assert len(listed) == finalised_low > 0
    assert all(reasons == ["low_confidence"] and confidence < 0.5 for reasons, confidence in listed)


def test_a_changed_model_version_sends_finalised_reports_to_rereview(
    demo_database: tuple[Path, str], workbench: Path
) -> None:
    database = copy_database(demo_database[0], workbench)
    before = _rows(database, REVIEW_LOGS)
    finalised = query(
        database, "select count(*) from minority_reports where final_decision != 'pending'"
    )[0][0]
    mock = "--route=attribution_model=mock"
    for _ in range(2):  # the second build lists nothing new
        run_mrs("build", "--database", str(database), "--no-tests", mock)
    after = _rows(database, REVIEW_LOGS)
    for log in REVIEW_LOGS:
        assert before[log] <= after[log], log  # originals untouched
    assert (
        after["minority_reports_proposed_attribution_log"]
        == (before["minority_reports_proposed_attribution_log"])
    )
    rounds = query(
        database,
        "select report_id, rereview_round, reasons from minority_reports_rereview_worklist "
        "where list_contains(reasons, 'attribution_model_changed')",
    )
    assert len(rounds) == finalised
    reruns = query(
        database,
        "select distinct model_version from minority_reports_proposed_attribution_rereview_log "
        "where rereview_round = 2 or report_id in (select report_id from "
        "minority_reports_rereview_worklist where list_contains(reasons, "
        "'attribution_model_changed'))",
    )
    assert ("mock-narratives-1.0",) in reruns
    hydrated = query(
        database,
        "select distinct source_used_attribution, attribution_model_version "
        "from minority_reports where final_decision != 'pending'",
    )
    assert hydrated == [
        ("minority_reports_proposed_attribution_rereview_log", "mock-narratives-1.0")
    ]


def test_an_edit_made_while_a_build_runs_is_kept_and_the_build_succeeds(reviewed: Path) -> None:
    report_id = _reports(reviewed, "MRS-006")[0][0]
    build = start_mrs("build", "--database", str(reviewed), "--no-tests")
    try:
        running = _wait_for_models(build)
        edit = run_mrs(
            "review", "defer", report_id, "--database", str(reviewed), "--wait", "0",
        )  # fmt: skip
        assert "busy" not in edit.stderr  # validated against the review index, not the file
        still_running = build.poll() is None
    finally:
        output, _ = build.communicate(timeout=600)
    assert running and still_running, "the edit should have been made while the build ran"
    assert build.returncode == 0, output
    run_mrs("build", "--database", str(reviewed), "--no-tests")
    assert query(
        reviewed,
        f"select review_status from minority_reports where report_id = '{report_id}'",
    ) == [("deferred",)]


def _wait_for_models(build: subprocess.Popen[str]) -> bool:
    """True once the build is running its models (dbt printed a START line) and still runs.
    The database itself is not touched: a reader could take the lock the build needs."""
    assert build.stdout is not None
    for line in build.stdout:
        if " START " in line:
            return build.poll() is None
    return False
