"""The review app (issue 8), driven headless through Streamlit's testing API on a copy of the
demo database: the pages, the approve / edit-cause / reopen flows and what they write to the
edit journal (and, after one build, to user_edits_log), validation errors, a missing index,
and reading while a build holds the database."""

from __future__ import annotations

import argparse
import json
import shutil
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_ROOT, copy_database, query, run_mrs
from streamlit.testing.v1 import AppTest

from mrs.cli.app import add_app_parser, app_command
from mrs.pipeline.project import MrsError
from mrs.pipeline.publication import connect_published, published_database
from mrs.review.journal import EVENT_EDITS, REPORT_EDITS, journal_dir
from mrs.review.passwords import passwords_file, set_password
from mrs.review.reviewers import access_dir, os_login, registry_file, write_registry
from mrs.review.rules import review_rules

APP = PROJECT_ROOT / "app" / "review_app.py"
ACTOR, ROLE = "app.tester", "admin"
MARKETER = "app.marketer"
PASSWORDS = {ACTOR: "tester-password-1", MARKETER: "marketer-password-1"}
NEW_CAUSE = "Local festival at the store the same weekend"
REOPEN_NOTES = "The store manager says the uplift was a stock count error, not a real trend."
NEXT_BUILD = "it takes effect at the next build"


@pytest.fixture(scope="module")
def database(demo_database: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the session's demo database, its journal (edits are written) and its
    published copy (what the app reads)."""
    target = copy_database(demo_database[0], tmp_path_factory.mktemp("review_app") / "copy")
    # The app's reviewers, as an admin registers them (mrs reviewers add) and gives them a
    # password (mrs reviewers password).
    write_registry(target, {ACTOR: ROLE, MARKETER: "marketer", os_login(): "admin"})
    for login in (ACTOR, MARKETER):
        set_password(target, PROJECT_ROOT, login, PASSWORDS[login])
    return target


@pytest.fixture(scope="module", autouse=True)
def app_database(database: Path) -> Iterator[Path]:
    """Every run of the app in this module, reruns included, reads `database`: the app takes
    it from MRS_DUCKDB_PATH on each run, so the variable stays set for the whole module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MRS_DUCKDB_PATH", str(database))
        yield database


def index_rows(database: Path, sql: str) -> list[tuple]:
    """Query the published copy (what the app reads), not the database."""
    con = connect_published(database)
    assert con is not None, "the build published a copy with its review index"
    with con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def targets(database: Path) -> dict[str, str]:
    """An ended event with nothing decided, two pending reports outside it (approve, edit)
    and an approved report (reopen)."""
    event = index_rows(
        database,
        "select report_group_id from minority_events where event_status = 'ended' "
        "and approved_report_count = 0 and rejected_report_count = 0 "
        "order by report_group_id limit 1",
    )[0][0]
    pending = [
        row[0]
        for row in index_rows(
            database,
            "select report_id from minority_reports where final_decision = 'pending' "
            f"and report_group_id <> '{event}' order by severity_score desc, report_id",
        )
    ]
    approved = index_rows(
        database,
        "select report_id from minority_reports where final_decision = 'approved' "
        "order by report_id limit 1",
    )[0][0]
    return {"approve": pending[0], "edit": pending[1], "reopen": approved, "event": event}


def open_app(database: Path, login: str | None = ACTOR, **params: str) -> AppTest:
    """Run the app against `database` with the given URL query parameters, signed in as
    `login` (None: not signed in). Later reruns read MRS_DUCKDB_PATH again: the module's
    database (fixture app_database)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MRS_DUCKDB_PATH", str(database))
        app = AppTest.from_file(str(APP), default_timeout=60)
        app.query_params.update(params)
        app.run()
        if login is not None:
            sign_in(app, login, PASSWORDS[login])
    assert not app.exception, [item.value for item in app.exception]
    return app


def sign_in(app: AppTest, login: str, password: str) -> AppTest:
    """Fill in and submit the sign-in form."""
    [username_box] = [box for box in app.text_input if box.label == "Username"]
    [password_box] = [box for box in app.text_input if box.label == "Password"]
    username_box.input(login)
    password_box.input(password)
    [button] = [button for button in app.button if button.label == "Login"]
    button.click().run()
    return app


def act(app: AppTest, database: Path, action: str, **fields: object) -> AppTest:
    """Choose the action, fill in the form (`fields` by widget key), submit."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MRS_DUCKDB_PATH", str(database))
        app.selectbox(key="action_choice").set_value(action).run()
        for key, value in fields.items():
            _widget(app, key).set_value(value)
        app.button(key="action_submit").click().run()
    assert not app.exception, [item.value for item in app.exception]
    return app


def _widget(app: AppTest, key: str):  # type: ignore[no-untyped-def]
    for kind in ("text_input", "text_area", "selectbox", "number_input"):
        found = [widget for widget in getattr(app, kind) if widget.key == key]
        if found:
            return found[0]
    raise AssertionError(f"no widget with key {key!r} on the page")


def frame_with(app: AppTest, column: str):  # type: ignore[no-untyped-def]
    """The first table on the page with the given column."""
    for table in app.dataframe:
        if column in table.value.columns:
            return table.value
    raise AssertionError(f"no table with a {column!r} column on the page")


def journal_files(database: Path) -> set[Path]:
    return set(journal_dir(database).glob(f"{REPORT_EDITS}/*.json*")) | set(
        journal_dir(database).glob(f"{EVENT_EDITS}/*.json*")
    )


def record_of(database: Path, before: set[Path]) -> dict[str, object]:
    """The one journal file written since `before`, parsed."""
    [written] = journal_files(database) - before
    return json.loads(written.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def flows(database: Path, targets: dict[str, str]) -> dict[str, tuple[AppTest, dict]]:
    """Approve, edit cause and reopen, each on its report's page: (app, journal record)."""
    done = {}
    steps = {
        "approve": {},
        "edit": {
            "edit_cause": NEW_CAUSE,
            "edit_category": "holiday",
            "edit_confidence": 0.85,
            "action_notes": "confirmed with the store",
        },
        "reopen": {"reopen_reason": "attribution_error", "action_notes": REOPEN_NOTES},
    }
    for action, fields in steps.items():
        app = open_app(database, page="Report", report=targets[action])
        before = journal_files(database)
        act(app, database, action, **fields)
        done[action] = (app, record_of(database, before))
    return done


def test_all_reports_page_shows_the_cards_and_lists_pending_reports(
    database: Path,
) -> None:
    app = open_app(database)
    assert [title.value for title in app.title] == ["All reports"]
    cards = {metric.label: metric.value for metric in app.metric}
    (recent,) = index_rows(
        database,
        "select count(*) from minority_reports, run_settings "
        "where window_start > as_of - interval 7 day and window_start <= as_of",
    )[0]
    (events,) = index_rows(database, "select count(*) from minority_events")[0]
    rate, protected = index_rows(
        database,
        "select avg(case when final_cause = proposed_cause "
        "and final_cause_category = proposed_cause_category then 1 else 0 end), "
        "sum(abs(attributed_sales_total - baseline_sales_total)) "
        "from minority_reports where final_decision = 'approved'",
    )[0]
    assert cards == {
        "Anomalies, last 7 days": str(recent),
        "Events": str(events),
        "Auto-attribution rate": f"{rate:.0%}",
        "Protected revenue (units)": f"{protected:,.0f}",
    }
    assert 0 < rate < 1  # the demo corrects one event's cause: the rate is not trivially 1
    assert app.multiselect(key="filter_decision").value == ["pending"]
    pending = {row[0] for row in index_rows(database, PENDING_SQL)}
    listed = set(app.dataframe[0].value["report"])
    assert listed == pending
    # The definitions are on the page.
    helps = " ".join(metric.proto.help for metric in app.metric)
    assert "proposed cause" in helps and "units" in helps


PENDING_SQL = "select report_id from minority_reports where final_decision = 'pending'"


def test_filters_narrow_the_list(database: Path) -> None:
    app = open_app(database)
    region, retailer = index_rows(
        database,
        "select s.region, s.retailer from minority_reports r join stg_stores s using (store_id) "
        "order by r.report_id limit 1",
    )[0]
    app.multiselect(key="filter_decision").set_value([]).run()
    assert not app.exception, [item.value for item in app.exception]
    app.multiselect(key="filter_region").set_value([region])
    app.multiselect(key="filter_retailer").set_value([retailer]).run()
    expected = {
        row[0]
        for row in index_rows(
            database,
            "select r.report_id from minority_reports r join stg_stores s using (store_id) "
            f"where s.region = '{region}' and s.retailer = '{retailer}'",
        )
    }
    assert set(app.dataframe[0].value["report"]) == expected
    app.multiselect(key="filter_band").set_value(["high"]).run()
    high = set(app.dataframe[0].value["report"]) if app.dataframe else set()
    confidences = dict(
        index_rows(database, "select report_id, final_confidence from minority_reports")
    )
    assert all(confidences[report] >= 0.7 for report in high)


def test_report_page_shows_chart_causes_cluster_map_and_provenance(
    database: Path, targets: dict[str, str]
) -> None:
    report_id = targets["reopen"]
    app = open_app(database, page="Report", report=report_id)
    assert [title.value for title in app.title] == [f"Report {report_id}"]
    charts = [json.loads(chart.proto.spec) for chart in app.get("vega_lite_chart")]
    assert len(charts) == 2  # sales against baseline, cluster map
    sales_marks = [layer["mark"]["type"] for layer in charts[0]["layer"]]
    assert sales_marks == ["rect", "line"]  # the shaded window under the two series
    assert len(charts[1]["layer"]) == 5  # other reports, library, labels, this report, label
    fields = frame_with(app, "source")
    columns = [row[0] for row in index_rows(database, "describe minority_reports")]
    assert set(columns) <= set(fields["field"])
    source = dict(zip(fields["field"], fields["source"], strict=True))
    governed = {
        "cluster_name": "source_used_cluster",
        "proposed_cause_2": "source_used_attribution",
        "final_decision": "source_used_final",
        "window_end": "source_used_window_end",
        "cohort_name": "source_used_group_id",
        "z_score": "source_used_detection",
    }
    used = dict(
        zip(
            governed.values(),
            index_rows(
                database,
                f"select {', '.join(governed.values())} from minority_reports "
                f"where report_id = '{report_id}'",
            )[0],
            strict=True,
        )
    )
    assert {field: source[field] for field in governed} == {
        field: used[column] for field, column in governed.items()
    }
    assert source["source_used_cluster"] == source["is_degraded"] == "minority_reports"
    assert source["retailer"] == "stg_stores"
    evidence = index_rows(
        database,
        "select e.evidence_id, e.evidence_name from minority_reports r, "
        "unnest(r.supporting_evidence) as s(id) join evidence_catalogue e on e.evidence_id = s.id "
        f"where r.report_id = '{report_id}'",
    )
    text = " ".join(block.value for block in app.markdown)
    for evidence_id, name in evidence:
        assert f"**{evidence_id}**" in text
        assert name in text.replace("\\", "")  # Markdown escapes removed


def test_event_page_shows_its_reports_stores_and_status(
    database: Path, targets: dict[str, str]
) -> None:
    event_id = targets["event"]
    app = open_app(database, page="Event", event=event_id)
    assert [title.value for title in app.title] == [f"Event {event_id}"]
    members = {
        row[0]
        for row in index_rows(
            database, f"select report_id from minority_reports where report_group_id = '{event_id}'"
        )
    }
    assert set(frame_with(app, "review status")["report"]) == members
    [deck] = app.get("deck_gl_json_chart")
    stores = index_rows(
        database,
        "select distinct s.store_name from minority_reports r join stg_stores s using (store_id) "
        f"where r.report_group_id = '{event_id}'",
    )
    assert all(name in deck.proto.json for (name,) in stores)
    assert {metric.label: metric.value for metric in app.metric}["Decision"] == "pending"


def test_approve_flow_writes_the_edit_to_the_journal(
    flows: dict[str, tuple[AppTest, dict]], targets: dict[str, str]
) -> None:
    app, record = flows["approve"]
    assert [message.value for message in app.error] == []
    [success] = app.success
    assert success.value.startswith(f"recorded approve on {targets['approve']} by {ACTOR}")
    assert success.value.endswith(NEXT_BUILD)
    assert record["report_id"] == targets["approve"]
    assert (record["action"], record["actor"], record["user_role"]) == ("approve", ACTOR, ROLE)
    assert record["cause"] is None and record["reopen_reason"] is None


def test_edit_cause_flow_writes_cause_category_and_confidence(
    flows: dict[str, tuple[AppTest, dict]], targets: dict[str, str]
) -> None:
    app, record = flows["edit"]
    assert app.success[0].value.startswith(f"recorded edit on {targets['edit']}")
    assert {key: record[key] for key in ("report_id", "action", "cause", "cause_category")} == {
        "report_id": targets["edit"],
        "action": "edit",
        "cause": NEW_CAUSE,
        "cause_category": "holiday",
    }
    assert record["confidence"] == pytest.approx(0.85)
    assert record["notes"] == "confirmed with the store"


def test_reopen_flow_writes_reason_and_notes(
    flows: dict[str, tuple[AppTest, dict]], targets: dict[str, str]
) -> None:
    app, record = flows["reopen"]
    assert app.success[0].value.startswith(f"recorded reopen on {targets['reopen']}")
    assert record["action"] == "reopen"
    assert record["reopen_reason"] == "attribution_error"
    assert record["notes"] == REOPEN_NOTES


def test_an_event_action_goes_to_the_event_journal(database: Path, targets: dict[str, str]) -> None:
    app = open_app(database, login=MARKETER, page="Event", event=targets["event"])
    before = journal_files(database)
    act(app, database, "add_evidence", add_evidence="CTX-002")
    assert app.success[0].value.startswith(f"recorded add_evidence on {targets['event']}")
    record = record_of(database, before)
    assert record["report_group_id"] == targets["event"]
    assert (record["action"], record["evidence"], record["user_role"]) == (
        "add_evidence",
        "CTX-002",
        "marketer",
    )


def test_edits_recorded_since_the_build_show_as_pending(
    database: Path, flows: dict[str, tuple[AppTest, dict]], targets: dict[str, str]
) -> None:
    # Issue 15: an edit recorded but not yet built was invisible, so a second reviewer acted
    # on the report again. The approve flow's edit is in the journal, not yet built.
    app = open_app(database, login=MARKETER, page="Report", report=targets["approve"])
    assert any("Recorded since the latest build" in item.value for item in app.warning)
    [pending] = [frame.value for frame in app.dataframe if "source_file" in frame.value.columns]
    assert pending[["level", "action", "actor", "user_role"]].values.tolist() == [
        ["report", "approve", ACTOR, ROLE]
    ]
    # The event's page shows the event-level edit made through the app.
    app = open_app(database, login=MARKETER, page="Event", event=targets["event"])
    [pending] = [frame.value for frame in app.dataframe if "source_file" in frame.value.columns]
    assert ["event", "add_evidence", MARKETER, "marketer"] in (
        pending[["level", "action", "actor", "user_role"]].values.tolist()
    )
    # A report nobody has acted on since the build shows none.
    touched = ", ".join(f"'{target}'" for target in targets.values())
    [(untouched,)] = index_rows(
        database,
        f"select report_id from minority_reports where report_id not in ({touched}) "
        f"and report_group_id not in ({touched}) order by report_id limit 1",
    )
    app = open_app(database, login=MARKETER, page="Report", report=untouched)
    assert not any("Recorded since" in item.value for item in app.warning)


INVALID = {
    "reopen with short notes": (
        "reopen",
        {"reopen_reason": "new_evidence", "action_notes": "too short"},
        f"at least {review_rules(PROJECT_ROOT).min_reopen_notes} characters",
    ),
    "reopen without a reason": ("reopen", {"action_notes": REOPEN_NOTES}, "needs --reason"),
    "approve of a finalised report": ("approve", {}, "reopen it first"),
    "reopen beyond the role": (
        "reopen",
        {"login": MARKETER, "reopen_reason": "new_evidence", "action_notes": REOPEN_NOTES},
        "a marketer may not reopen",
    ),
}


@pytest.mark.parametrize("action, fields, message", INVALID.values(), ids=INVALID.keys())
def test_a_validation_error_is_shown_and_nothing_is_written(
    database: Path, targets: dict[str, str], action: str, fields: dict, message: str
) -> None:
    (finalised,) = index_rows(
        database,
        "select report_id from minority_reports where final_decision = 'approved' "
        f"and report_id <> '{targets['reopen']}' order by report_id limit 1",
    )[0]
    fields = dict(fields)
    app = open_app(database, login=fields.pop("login", ACTOR), page="Report", report=finalised)
    before = journal_files(database)
    act(app, database, action, **fields)
    [error] = app.error
    assert error.value.startswith("Not recorded: ")
    assert message in error.value
    assert list(app.success) == []
    assert journal_files(database) == before


def test_the_next_build_logs_the_apps_edits(
    database: Path, flows: dict[str, tuple[AppTest, dict]], targets: dict[str, str]
) -> None:
    run_mrs("build", "--database", str(database), "--no-tests")
    logged = {
        row[0]: row[1:]
        for row in query(
            database,
            "select report_id, action, cause, cause_category, confidence, reopen_reason, "
            f"actor, user_role from user_edits_log where actor = '{ACTOR}'",
        )
    }
    assert logged == {
        targets["approve"]: ("approve", None, None, None, None, ACTOR, ROLE),
        targets["edit"]: ("edit", NEW_CAUSE, "holiday", pytest.approx(0.85), None, ACTOR, ROLE),
        targets["reopen"]: ("reopen", None, None, None, "attribution_error", ACTOR, ROLE),
    }
    states = dict(
        (row[0], row[1:])
        for row in query(
            database,
            "select report_id, final_decision, review_status, final_cause from minority_reports",
        )
    )
    assert states[targets["approve"]][:2] == ("approved", "approved")
    assert states[targets["edit"]][2] == NEW_CAUSE
    assert states[targets["reopen"]][:2] == ("pending", "reopened")
    # The app shows the new state from the re-exported index.
    app = open_app(database, page="Report", report=targets["reopen"])
    assert {metric.label: metric.value for metric in app.metric}["Review status"] == "reopened"


@pytest.mark.parametrize("state", ["no database", "database without index", "index too old"])
def test_a_missing_index_gives_a_clear_message(tmp_path: Path, database: Path, state: str) -> None:
    target = tmp_path / "mrs.duckdb"
    if state != "no database":
        duckdb.connect(str(target)).close()
    if state == "index too old":
        shutil.copy(published_database(database), published_database(target))
        with duckdb.connect(str(published_database(target))) as con:
            con.execute("drop table report_sales_series")
    app = open_app(target, login=None)  # the index is checked before sign-in
    [warning] = app.warning
    assert "python3 tasks.py demo" in warning.value
    assert "mrs build" in warning.value
    assert str(target) in warning.value
    assert list(app.dataframe) == [] and list(app.metric) == []


def test_an_empty_run_says_there_is_nothing_to_review(tmp_path: Path, database: Path) -> None:
    target = tmp_path / "mrs.duckdb"
    shutil.copy(published_database(database), published_database(target))
    shutil.copytree(access_dir(database), access_dir(target))  # its reviewers and passwords
    with duckdb.connect(str(published_database(target))) as con:
        for name in ("minority_reports", "minority_events"):
            con.execute(f"delete from {name}")
    app = open_app(target)
    assert any("no minority reports yet" in info.value for info in app.info)
    app = open_app(target, page="Report")
    assert any("Pick a report" in info.value for info in app.info)


HOLD_LOCK = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1])
    print("locked", flush=True)
    sys.stdin.read()
    con.close()
    """
)


@pytest.fixture
def locked(database: Path) -> Iterator[Path]:
    """The database with its write lock held by another process, as during `dbt build`."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield database
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)


def test_reading_and_editing_while_a_build_holds_the_database(
    locked: Path, targets: dict[str, str]
) -> None:
    with pytest.raises(duckdb.IOException):  # the lock is real
        duckdb.connect(str(locked), read_only=True)
    app = open_app(locked, page="Event", event=targets["event"])
    assert frame_with(app, "review status").shape[0] > 0
    before = journal_files(locked)
    act(app, locked, "request_review", action_notes="second opinion please")
    assert record_of(locked, before)["action"] == "request_review"
    queue = run_mrs("review", "queue", "--database", str(locked), "--wait", "0")
    assert "awaiting review" in queue.stdout


def test_mrs_app_serves_the_app_on_the_database() -> None:
    parser = argparse.ArgumentParser(prog="mrs")
    add_app_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["app", "--database", "/data/x.duckdb", "--port", "8600"])
    assert (args.database, args.port) == ("/data/x.duckdb", 8600)
    command, env = app_command(Path("/data/x.duckdb"), args.port)
    assert command[1:5] == ["-m", "streamlit", "run", str(APP)]
    assert command[command.index("--server.port") + 1] == "8600"
    assert command[command.index("--server.headless") + 1] == "true"
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert env["MRS_DUCKDB_PATH"] == "/data/x.duckdb"
    with pytest.raises(MrsError, match="--port"):
        app_command(Path("/data/x.duckdb"), 0)


def test_every_page_needs_a_signed_in_reviewer(database: Path, targets: dict[str, str]) -> None:
    app = open_app(database, login=None, page="Report", report=targets["approve"])
    assert [form.label for form in app.text_input] == ["Username", "Password"]
    assert list(app.metric) == [] and list(app.dataframe) == []
    # A wrong password, and a reviewer removed from the registry since their password was
    # set, do not get in.
    sign_in(app, ACTOR, "not-the-password")
    assert [message.value for message in app.error] == ["Wrong login or password."]
    assert list(app.metric) == []
    registry = registry_file(database).read_text()
    try:
        write_registry(database, {ACTOR: ROLE, os_login(): "admin"})
        app = open_app(database, login=None)
        sign_in(app, MARKETER, PASSWORDS[MARKETER])
        assert [message.value for message in app.error] == ["Wrong login or password."]
    finally:
        registry_file(database).write_text(registry)
    app = open_app(database, login=MARKETER)
    assert f"Signed in as **{MARKETER}** (marketer)" in [
        caption.value for caption in app.sidebar.caption
    ]


def test_passwords_are_stored_as_hashes_readable_by_their_owner_only(database: Path) -> None:
    stored = passwords_file(database)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    text = stored.read_text()
    assert all(password not in text for password in PASSWORDS.values())
    assert json.loads(text)[ACTOR].startswith("$2b$")


def test_a_reviewer_with_a_scope_sees_only_their_stores(database: Path) -> None:
    """The marketer, limited to the region of one pending report's store, is shown the
    pending reports of that region only, and the events all of whose reports are there."""
    [(region,)] = index_rows(
        database,
        "select s.region from minority_reports as r inner join stg_stores as s using (store_id) "
        "where r.final_decision = 'pending' order by r.report_id limit 1",
    )
    registry = {ACTOR: ROLE, MARKETER: "marketer", os_login(): "admin"}
    write_registry(database, registry, {MARKETER: (f"region:{region.upper()}",)})
    try:
        app = open_app(database, MARKETER)
    finally:
        write_registry(database, registry, {})
    in_region = {
        row[0]
        for row in index_rows(
            database,
            f"{PENDING_SQL} and store_id in "
            f"(select store_id from stg_stores where region = '{region}')",
        )
    }
    assert in_region and in_region < {row[0] for row in index_rows(database, PENDING_SQL)}
    assert set(app.dataframe[0].value["report"]) == in_region
    assert any(f"region:{region.upper()}" in caption.value for caption in app.sidebar.caption)
    # The headline figures are the region's: review_metrics_by_store's rows of its stores.
    [(reports, pending)] = index_rows(
        database,
        "select count(*), count(*) filter (where final_decision = 'pending') "
        "from minority_reports where store_id in "
        f"(select store_id from stg_stores where region = '{region}')",
    )
    assert pending == len(in_region)
    assert f"{reports} in the run, {pending} awaiting a decision" in [
        caption.value for caption in app.caption
    ]
