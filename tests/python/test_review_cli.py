"""`mrs review ...`: validation before writing, the edit journal, queue, show, waiting on a lock.

Fast: a tiny hand-made DuckDB file stands in for a build; dbt is never run.
"""

from __future__ import annotations

import argparse
import errno
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from mrs.cli.review import add_review_parser
from mrs.review.journal import EVENT_EDITS, REPORT_EDITS, journal_dir
from mrs.review.reviewers import os_login, write_registry

RUN = "run-a"
NEWEST_TICK = "2025-08-12 23:00:00"
APPROVED = "MR-aaaaaaaaaaaa"  # finalised: approved in its latest MRFL version
PENDING = "MR-bbbbbbbbbbbb"  # approved at version 1, pending again at version 2
UNFINALISED = "MR-cccccccccccc"  # no MRFL row
OTHER_RUN = "MR-dddddddddddd"  # only in an older run
EVENT_WITH_FINAL = "ME-111111111111"  # APPROVED and PENDING
EVENT_PENDING = "ME-222222222222"  # UNFINALISED only
GOOD_NOTES = "The store manager confirmed a local festival drove the uplift that week."

SCHEMA = f"""
create table run_settings (run_id varchar, as_of timestamp);
insert into run_settings values ('{RUN}', '2025-08-13 00:00:00');

create table minority_reports_detected_log (
    report_id varchar, version integer, run_id varchar, written_at timestamp);
insert into minority_reports_detected_log values
    ('{APPROVED}', 1, '{RUN}', '2025-08-12 21:00:00'),
    ('{APPROVED}', 2, '{RUN}', '{NEWEST_TICK}'),
    ('{PENDING}', 1, '{RUN}', '2025-08-12 22:00:00'),
    ('{UNFINALISED}', 1, '{RUN}', '2025-08-12 20:00:00'),
    ('{OTHER_RUN}', 1, 'run-old', '2025-09-01 00:00:00');

create table minority_event_log (report_group_id varchar, run_id varchar, written_at timestamp);
insert into minority_event_log values
    ('{EVENT_WITH_FINAL}', '{RUN}', '{NEWEST_TICK}'),
    ('{EVENT_PENDING}', '{RUN}', '{NEWEST_TICK}'),
    ('ME-333333333333', 'run-old', '2025-09-01 00:00:00');

create table stg_cause_taxonomy (cause_category varchar, label varchar, description varchar);
insert into stg_cause_taxonomy values
    ('weather', 'Weather', ''), ('social_viral', 'Social', ''), ('paid_media', 'Paid', '');

-- The current state (minority_reports_finalised_log_current): the active run's latest row
-- per report.
create table minority_reports_finalised_log_current (
    report_id varchar, report_group_id varchar, final_decision varchar,
    version integer, run_id varchar);
insert into minority_reports_finalised_log_current values
    ('{APPROVED}', '{EVENT_WITH_FINAL}', 'approved', 2, '{RUN}'),
    ('{PENDING}', '{EVENT_WITH_FINAL}', 'pending', 2, '{RUN}'),
    ('{UNFINALISED}', '{EVENT_PENDING}', 'pending', 1, '{RUN}');

create table minority_reports (
    report_id varchar, report_group_id varchar, store_id varchar, sku varchar,
    window_start timestamp, window_end timestamp, severity_score double,
    final_cause_category varchar, final_confidence double, review_status varchar,
    final_decision varchar, run_id varchar);
insert into minority_reports values
    ('{APPROVED}', '{EVENT_WITH_FINAL}', 'ST-001', 'SKU-001', '2025-08-12 10:00:00', null,
     0.95, 'weather', 0.9, 'approved', 'approved', '{RUN}'),
    ('{PENDING}', '{EVENT_WITH_FINAL}', 'ST-002', 'SKU-002', '2025-08-12 11:00:00', null,
     0.40, 'social_viral', 0.6, 'pending', 'pending', '{RUN}'),
    ('{UNFINALISED}', '{EVENT_PENDING}', 'ST-003', 'SKU-003', '2025-08-12 09:00:00',
     '2025-08-12 15:00:00', 0.70, 'paid_media', 0.3, 'pending', 'pending', '{RUN}'),
    ('{OTHER_RUN}', 'ME-333333333333', 'ST-009', 'SKU-009', '2025-09-01 00:00:00', null,
     0.99, 'weather', 0.5, 'pending', 'pending', 'run-old');

create table user_edits_log (
    annotation_id varchar, report_id varchar, action varchar, cause varchar,
    cause_category varchar, confidence double, evidence varchar, reopen_reason varchar,
    notes varchar, actor varchar, user_role varchar, edited_at timestamp, run_id varchar,
    source_file varchar);
insert into user_edits_log values
    ('a2', '{APPROVED}', 'approve', null, null, null, null, null, 'looks right', 'bo',
     'admin', '2025-08-12 22:00:00', '{RUN}', '20250812T220000-00000002.json'),
    ('a1', '{APPROVED}', 'edit', 'heatwave', 'weather', 0.9, null, null, null, 'ana',
     'marketer', '2025-08-12 21:00:00', '{RUN}', '20250812T210000-00000001.json');
"""
KEYS_OF_REPORT_EDIT = [
    "report_id",
    "action",
    "cause",
    "cause_category",
    "confidence",
    "evidence",
    "reopen_reason",
    "notes",
    "actor",
    "user_role",
    "edited_at",
    "run_id",
]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "mrs.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(SCHEMA)
    # The OS user running the tests is an admin of this database (every action allowed).
    write_registry(path, {os_login(): "admin", "bo": "admin"})
    return path


def review(capsys: pytest.CaptureFixture[str], database: Path, *argv: str) -> tuple[int, str, str]:
    """Run `mrs review ARGV --database DATABASE` in process: (exit code, stdout, stderr)."""
    parser = argparse.ArgumentParser(prog="mrs")
    add_review_parser(parser.add_subparsers(dest="command", required=True))
    try:
        args = parser.parse_args(["review", *argv, "--database", str(database)])
        code = args.handler(args)
    except SystemExit as stopped:
        code = stopped.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def written(database: Path, folder: str = REPORT_EDITS) -> list[Path]:
    return sorted((journal_dir(database) / folder).glob("*.json"))


def all_written(database: Path) -> list[Path]:
    return sorted(journal_dir(database).rglob("*.json*"))


INVALID = {
    "unknown report": (["approve", "MR-ffffffffffff"], "mrs review queue"),
    "report of another run": (["approve", OTHER_RUN], "unknown report"),
    "unknown event": (["approve", "ME-ffffffffffff"], "unknown event"),
    "event of another run": (["approve", "ME-333333333333"], "unknown event"),
    "wrong id shape": (["approve", "XX-aaaaaaaaaaaa"], "neither a report id"),
    "bare prefix": (["approve", "MR-"], "neither a report id"),
    "unknown category": (
        ["edit", PENDING, "--category", "aliens"],
        "paid_media, social_viral, weather",
    ),
    "confidence not a number": (["edit", PENDING, "--confidence", "high"], "0 to 1"),
    "confidence above 1": (["edit", PENDING, "--confidence", "1.5"], "0 to 1"),
    "confidence below 0": (["edit", PENDING, "--confidence", "-0.1"], "0 to 1"),
    "confidence nan": (["edit", PENDING, "--confidence", "nan"], "0 to 1"),
    "edit without a field": (["edit", PENDING], "at least one of"),
    "edit with only blanks": (["edit", PENDING, "--cause", " "], "at least one of"),
    "add-evidence without evidence": (["add-evidence", PENDING], "--evidence"),
    "add-evidence blank": (["add-evidence", PENDING, "--evidence", " "], "--evidence"),
    "approve of a finalised report": (["approve", APPROVED], "reopen it first"),
    "edit of a finalised report": (
        ["edit", APPROVED, "--category", "weather"],
        "reopen it first",
    ),
    "action on an event with finalised reports": (
        ["defer", EVENT_WITH_FINAL],
        "reopen it first",
    ),
    "reopen without reason": (
        ["reopen", APPROVED, "--notes", GOOD_NOTES],
        "reopen needs --reason",
    ),
    "reopen with unknown reason": (
        ["reopen", APPROVED, "--reason", "whim", "--notes", GOOD_NOTES],
        "new_evidence, attribution_error",
    ),
    "reopen without notes": (
        ["reopen", APPROVED, "--reason", "new_evidence"],
        "at least 50 characters",
    ),
    "reopen with 49 characters padded": (
        ["reopen", APPROVED, "--reason", "new_evidence", "--notes", "  " + "x" * 49 + "  "],
        "(got 49)",
    ),
    "reopen of a pending report": (
        ["reopen", PENDING, "--reason", "new_evidence", "--notes", GOOD_NOTES],
        "not finalised in the latest build",
    ),
    "reopen of a report never finalised": (
        ["reopen", UNFINALISED, "--reason", "new_evidence", "--notes", GOOD_NOTES],
        "run `mrs build` first",
    ),
    "reopen of an event with nothing finalised": (
        ["reopen", EVENT_PENDING, "--reason", "new_evidence", "--notes", GOOD_NOTES],
        "none of the reports",
    ),
    "reopen notes of spaces": (
        ["reopen", APPROVED, "--reason", "new_evidence", "--notes", "x" + " " * 60 + "y"],
        "(got 3)",
    ),
    "bad --at": (["approve", PENDING, "--at", "yesterday"], "--at"),
    "--at after the newest tick": (
        ["approve", PENDING, "--at", "2099-01-01 00:00"],
        "more than a day after the newest built tick 2025-08-12 23:00",
    ),
    "negative --wait": (["approve", PENDING, "--wait", "-1"], "--wait"),
}


@pytest.mark.parametrize("argv, message", INVALID.values(), ids=INVALID.keys())
def test_invalid_input_exits_2_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], database: Path, argv: list[str], message: str
) -> None:
    code, out, err = review(capsys, database, *argv)
    assert code == 2
    assert err.startswith("mrs: ")
    assert message in err
    assert out == ""
    assert all_written(database) == []


def test_a_user_not_in_the_registry_records_nothing(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    write_registry(database, {"bo": "admin"})
    code, out, err = review(capsys, database, "approve", PENDING)
    assert code == 2 and out == ""
    assert f"you are logged in as {os_login()!r}, who is not in the reviewers registry" in err
    assert f"mrs reviewers add {os_login()} --role ROLE" in err
    assert all_written(database) == []


@pytest.mark.parametrize("option", [["--actor", "bo"], ["--role", "admin"]])
def test_nobody_names_another_actor_or_role(
    capsys: pytest.CaptureFixture[str], database: Path, option: list[str]
) -> None:
    # The command acts as the OS user running it; there is no option to act as someone else.
    code, _, err = review(capsys, database, "approve", PENDING, *option)
    assert code == 2
    assert f"unrecognized arguments: {' '.join(option)}" in err
    assert all_written(database) == []


@pytest.mark.parametrize("role", ["marketer", "data_scientist"])
def test_only_an_admin_reopens(
    capsys: pytest.CaptureFixture[str], database: Path, role: str
) -> None:
    write_registry(database, {os_login(): role})
    argv = ["reopen", APPROVED, "--reason", "new_evidence", "--notes", GOOD_NOTES]
    code, out, err = review(capsys, database, *argv)
    assert code == 2 and out == ""
    assert f"a {role} may not reopen (review_permissions" in err
    assert all_written(database) == []
    # The same user may still approve: the refusal is the permission, not the user.
    assert review(capsys, database, "approve", PENDING)[0] == 0


def test_missing_database_says_to_build_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = review(capsys, tmp_path / "absent.duckdb", "approve", PENDING)
    assert code == 2
    assert "mrs build" in err
    assert not (tmp_path / "absent.duckdb").exists()
    assert all_written(tmp_path / "absent.duckdb") == []


def test_missing_tables_say_to_build_first(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    with duckdb.connect(str(database)) as con:
        con.execute("drop table minority_reports_detected_log")
    code, _, err = review(capsys, database, "approve", PENDING)
    assert code == 2
    assert "minority_reports_detected_log" in err
    assert "mrs build" in err
    assert all_written(database) == []


def test_event_id_before_cohorting_is_built(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    with duckdb.connect(str(database)) as con:
        con.execute("drop table minority_event_log")
    code, _, err = review(capsys, database, "approve", EVENT_WITH_FINAL)
    assert code == 2
    assert "events appear after a build with cohorting" in err
    assert all_written(database) == []


def test_approve_writes_one_journal_file_stamped_with_the_newest_tick(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    write_registry(database, {os_login(): "data_scientist"})
    code, out, err = review(capsys, database, "approve", PENDING)
    assert (code, err) == (0, "")
    assert out == (
        f"recorded approve on {PENDING} by {os_login()} (data_scientist) at {NEWEST_TICK}; "
        "it takes effect at the next build\n"
    )
    files = written(database)
    assert len(files) == 1
    assert all_written(database) == files  # no temporary file left, no event edit
    text = files[0].read_text()
    assert text.endswith("}\n")
    record = json.loads(text)
    assert list(record) == KEYS_OF_REPORT_EDIT
    assert record == {
        "report_id": PENDING,
        "action": "approve",
        "cause": None,
        "cause_category": None,
        "confidence": None,
        "evidence": None,
        "reopen_reason": None,
        "notes": None,
        "actor": os_login(),
        "user_role": "data_scientist",
        "edited_at": NEWEST_TICK,
        "run_id": RUN,
    }


def test_replayed_edit_writes_a_second_identical_file(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    argv = ["edit", PENDING, "--cause", "heatwave", "--category", "weather"]
    assert review(capsys, database, *argv)[0] == 0
    assert review(capsys, database, *argv)[0] == 0
    files = written(database)
    assert len(files) == 2
    assert files[0].name != files[1].name
    assert files[0].read_bytes() == files[1].read_bytes()


def test_edit_fields_confidence_and_at_are_stored(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    code, out, _ = review(
        capsys,
        database,
        "edit",
        UNFINALISED,
        "--cause",
        " heatwave ",
        "--category",
        "weather",
        "--confidence",
        "0.75",
        "--notes",
        "checked the forecast",
        "--at",
        "2025-08-13 07:30",
    )
    assert code == 0
    assert "at 2025-08-13 07:30:00;" in out
    [file] = written(database)
    record = json.loads(file.read_text())
    assert record["cause"] == "heatwave"
    assert record["cause_category"] == "weather"
    assert record["confidence"] == 0.75
    assert record["notes"] == "checked the forecast"
    assert record["edited_at"] == "2025-08-13 07:30:00"
    assert record["action"] == "edit"


@pytest.mark.parametrize(
    "argv, action",
    [
        (["reject", EVENT_PENDING], "reject"),
        (["defer", EVENT_PENDING], "defer"),
        (["request-review", EVENT_PENDING], "request_review"),
        (
            ["add-evidence", EVENT_PENDING, "--evidence", "https://example.com/video"],
            "add_evidence",
        ),
    ],
)
def test_event_actions_go_to_the_event_journal(
    capsys: pytest.CaptureFixture[str], database: Path, argv: list[str], action: str
) -> None:
    code, _, err = review(capsys, database, *argv)
    assert (code, err) == (0, "")
    assert written(database, REPORT_EDITS) == []
    [file] = written(database, EVENT_EDITS)
    record = json.loads(file.read_text())
    assert list(record) == ["report_group_id", *KEYS_OF_REPORT_EDIT[1:]]
    assert record["report_group_id"] == argv[1]
    assert record["action"] == action


def test_reopen_of_an_approved_report_succeeds(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    code, out, err = review(
        capsys,
        database,
        "reopen",
        APPROVED,
        "--reason",
        "attribution_error",
        "--notes",
        f"  {GOOD_NOTES}  ",
    )
    assert (code, err) == (0, "")
    assert out.startswith(f"recorded reopen on {APPROVED} by {os_login()} (admin)")
    [file] = written(database)
    record = json.loads(file.read_text())
    assert record["reopen_reason"] == "attribution_error"
    assert record["notes"] == GOOD_NOTES


def test_reopen_of_an_event_with_a_finalised_report_succeeds(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    argv = ["reopen", EVENT_WITH_FINAL, "--reason", "new_evidence", "--notes", GOOD_NOTES]
    code, _, err = review(capsys, database, *argv)
    assert (code, err) == (0, "")
    [file] = written(database, EVENT_EDITS)
    assert json.loads(file.read_text())["reopen_reason"] == "new_evidence"


def test_queue_lists_only_pending_reports_of_the_active_run(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    code, out, _ = review(capsys, database, "queue")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "report_id", "report_group_id", "store_id", "sku", "window_start", "window_end",
        "severity_score", "final_cause_category", "final_confidence", "review_status",
        "recorded_since_build",
    ]  # fmt: skip
    listed = [line.split()[0] for line in lines[2:-1]]
    assert listed == [UNFINALISED, PENDING]  # most severe first
    assert lines[-1] == f"2 of 2 reports awaiting review in run {RUN}"
    code, out, _ = review(capsys, database, "queue", "--limit", "1")
    assert [line.split()[0] for line in out.splitlines()[2:-1]] == [UNFINALISED]


def test_queue_before_hydration_says_to_build(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    with duckdb.connect(str(database)) as con:
        con.execute("drop table minority_reports")
    code, _, err = review(capsys, database, "queue")
    assert code == 2
    assert "minority_reports" in err
    assert "mrs build" in err


def test_show_prints_the_report_and_its_edits_in_time_order(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    code, out, _ = review(capsys, database, "show", APPROVED)
    assert code == 0
    assert any(line.split() == ["store_id", "ST-001"] for line in out.splitlines())
    assert any(line.split() == ["severity_score", "0.950"] for line in out.splitlines())
    assert "edits (2):" in out
    assert out.index("heatwave") < out.index("looks right")


def test_show_without_review_tables_says_so(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    with duckdb.connect(str(database)) as con:
        con.execute("drop table minority_reports; drop table user_edits_log")
    code, out, _ = review(capsys, database, "show", APPROVED)
    assert code == 0
    assert "minority_reports is not built yet" in out
    assert "user_edits_log is not built yet" in out


def test_show_of_an_unknown_report_exits_2(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    code, _, err = review(capsys, database, "show", "MR-ffffffffffff")
    assert code == 2
    assert "mrs review queue" in err


HOLD_LOCK = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("locked", flush=True)
    time.sleep(3)
    con.close()
    """
)


def test_an_edit_during_a_build_waits_for_the_lock_and_is_recorded(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(database)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        code, out, err = review(capsys, database, "approve", PENDING, "--wait", "60")
    finally:
        holder.wait(timeout=60)
    assert "the database is busy (a build is running?); waiting up to 60 s" in err
    assert code == 0
    assert out.startswith(f"recorded approve on {PENDING}")
    assert len(written(database)) == 1


def test_a_lock_held_past_the_wait_fails_without_writing(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(database)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        code, _, err = review(capsys, database, "approve", PENDING, "--wait", "0")
    finally:
        holder.wait(timeout=60)
    assert code == 1
    assert "still busy" in err
    assert all_written(database) == []


def test_a_full_disk_exits_2_and_says_nothing_was_recorded(
    capsys: pytest.CaptureFixture[str], database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(*args: object) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("mrs.cli.review.write_edit", no_space)
    code, out, err = review(capsys, database, "approve", PENDING)
    assert code == 2
    assert "No space left on device; nothing was recorded" in err
    assert "Traceback" not in err and out == ""


def test_an_edit_not_yet_built_is_shown_as_recorded_in_queue_and_show(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    # Issue 15: after a reject, `show` said "edits: none" and `queue` listed the report as if
    # nobody had acted, so a second analyst acted on it again.
    code, _, _ = review(capsys, database, "reject", PENDING)
    assert code == 0
    code, out, _ = review(capsys, database, "queue")
    [row] = [line for line in out.splitlines() if line.startswith(PENDING)]
    assert row.endswith(f"reject by {os_login()} (admin)")
    assert "take effect at the next build" in out.splitlines()[-1]
    code, out, _ = review(capsys, database, "show", PENDING)
    assert "recorded since the last build, in effect after the next (1):" in out
    [file] = written(database)
    assert re.search(rf"reject +{os_login()} +admin +{NEWEST_TICK}  {file.name}", out)
    # Once a build has read the file (logged it), it is an edit like the others.
    with duckdb.connect(str(database)) as con:
        con.execute(
            "insert into user_edits_log (annotation_id, report_id, action, run_id, source_file)"
            " values ('a3', ?, 'reject', ?, ?)",
            [PENDING, RUN, file.name],
        )
    code, out, _ = review(capsys, database, "queue")
    [row] = [line for line in out.splitlines() if line.startswith(PENDING)]
    assert "reject by" not in row
    code, out, _ = review(capsys, database, "show", PENDING)
    assert "recorded since the last build" not in out
