"""What `mrs review` reads from the DuckDB file: read-only, briefly, waiting out a build's lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import duckdb

from mrs.pipeline.database_lock import DEFAULT_WAIT_SECONDS, connect_waiting
from mrs.pipeline.project import MrsError
from mrs.pipeline.publication import connect_published
from mrs.review.journal import EVENT_PREFIX, unbuilt_edits

BUILD_FIRST = "run `mrs build` (or `python3 tasks.py demo`) first"
QUEUE_COLUMNS = (
    "report_id",
    "report_group_id",
    "store_id",
    "sku",
    "window_start",
    "window_end",
    "severity_score",
    "final_cause_category",
    "final_confidence",
    "review_status",
)
EDIT_COLUMNS = (
    "annotation_id",
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
)


@dataclass(frozen=True)
class Finalised:
    """The latest finalisation row (MRFL) of one report in the active run."""

    report_id: str
    report_group_id: str | None
    final_decision: str
    version: int


@dataclass(frozen=True)
class ReviewContext:
    """Everything validating one edit needs, read in one short read-only visit."""

    run_id: str
    newest_tick: dt.datetime | None
    categories: tuple[str, ...]
    events_built: bool
    target_known: bool
    finalised: tuple[Finalised, ...]
    # The stores of the report, or of the event's reports (store_id, region, city, retailer),
    # for the reviewer's scope; empty when the latest build published none.
    target_stores: tuple[dict[str, object], ...] = ()


@dataclass(frozen=True)
class ReportDetails:
    """What `mrs review show` prints; None where the table is not built yet."""

    run_id: str
    known: bool
    row: dict[str, object] | None
    reports_built: bool
    edits: list[dict[str, object]] | None
    # Recorded in the journal since the last build read it (on the report or its event).
    unbuilt: list[dict[str, object]]


@contextmanager
def read_only(
    database: Path, wait_seconds: float = DEFAULT_WAIT_SECONDS, stderr: TextIO | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection, retried every second while another process holds the lock."""
    if not database.exists():
        raise MrsError(f"no database at {database}; {BUILD_FIRST}")
    con = connect_waiting(database, wait_seconds, stderr)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def validation_source(
    database: Path, wait_seconds: float = DEFAULT_WAIT_SECONDS
) -> Iterator[duckdb.DuckDBPyConnection]:
    """What an edit is validated against: the published copy of the latest build, with its
    review index (never locked by a build), else the database itself, read-only."""
    try:
        published = connect_published(database)
    except duckdb.Error as error:
        raise MrsError(
            f"cannot read the published copy of {database} ({error}); {BUILD_FIRST}"
        ) from error
    if published is None:
        with read_only(database, wait_seconds) as con:
            yield con
        return
    try:
        yield published
    finally:
        published.close()


def tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables and views of the database."""
    rows = con.execute("select table_name from information_schema.tables").fetchall()
    return {row[0] for row in rows}


def _require(present: set[str], *names: str) -> None:
    missing = [name for name in names if name not in present]
    if missing:
        raise MrsError(f"the database has no {', '.join(missing)} yet; {BUILD_FIRST}")


def _active_run(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute("select run_id from run_settings").fetchall()
    if len(rows) != 1 or rows[0][0] is None:
        raise MrsError(f"run_settings should hold exactly one run; {BUILD_FIRST}")
    return str(rows[0][0])


def load_context(
    database: Path, target_id: str, wait_seconds: float = DEFAULT_WAIT_SECONDS
) -> ReviewContext:
    """Read the active run, newest tick, categories and the target's state; then close."""
    event = target_id.startswith(EVENT_PREFIX)
    with validation_source(database, wait_seconds) as con:
        present = tables(con)
        _require(present, "run_settings", "minority_reports_detected_log", "stg_cause_taxonomy")
        run_id = _active_run(con)
        newest = con.execute(
            "select max(written_at) from minority_reports_detected_log where run_id = ?",
            [run_id],
        ).fetchone()[0]
        categories = tuple(
            sorted(
                str(row[0])
                for row in con.execute(
                    "select distinct cause_category from stg_cause_taxonomy "
                    "where cause_category is not null"
                ).fetchall()
            )
        )
        events_built = "minority_event_log" in present
        if event:
            known = events_built and _exists(
                con, "minority_event_log", "report_group_id", target_id, run_id
            )
        else:
            known = _exists(con, "minority_reports_detected_log", "report_id", target_id, run_id)
        finalised = _finalised(con, present, target_id, run_id, event=event)
        stores = _target_stores(con, present, target_id, run_id, event=event)
    return ReviewContext(run_id, newest, categories, events_built, known, finalised, stores)


def _target_stores(
    con: duckdb.DuckDBPyConnection, present: set[str], target_id: str, run_id: str, *, event: bool
) -> tuple[dict[str, object], ...]:
    """The stores of a report, or of the reports an event holds now (minority_reports)."""
    if not {"minority_reports", "stg_stores"} <= present:
        return ()
    key = "report_group_id" if event else "report_id"
    cursor = con.execute(
        f"""
        select distinct reports.store_id, stores.region, stores.city, stores.retailer
        from minority_reports as reports
        left join stg_stores as stores on reports.store_id = stores.store_id
        where reports.{key} = ? and reports.run_id = ?
        order by reports.store_id
        """,
        [target_id, run_id],
    )
    names = [column[0] for column in cursor.description]
    return tuple(dict(zip(names, row, strict=True)) for row in cursor.fetchall())


def _exists(
    con: duckdb.DuckDBPyConnection, table: str, column: str, value: str, run_id: str
) -> bool:
    sql = f"select exists (select 1 from {table} where {column} = ? and run_id = ?)"
    return bool(con.execute(sql, [value, run_id]).fetchone()[0])


def _finalised(
    con: duckdb.DuckDBPyConnection, present: set[str], target_id: str, run_id: str, *, event: bool
) -> tuple[Finalised, ...]:
    """Current MRFL row of the report, or of every report whose current row is in the event."""
    if "minority_reports_finalised_log_current" not in present:
        return ()
    key = "report_group_id" if event else "report_id"
    rows = con.execute(
        f"""
        select report_id, report_group_id, final_decision, version
        from minority_reports_finalised_log_current
        where run_id = ? and {key} = ?
        order by report_id
        """,
        [run_id, target_id],
    ).fetchall()
    return tuple(Finalised(str(r[0]), r[1], str(r[2]), int(r[3])) for r in rows)


def pending_queue(
    database: Path, limit: int, wait_seconds: float = DEFAULT_WAIT_SECONDS
) -> tuple[str, list[tuple[object, ...]], int]:
    """(run_id, up to `limit` pending reports by severity, total pending) from minority_reports,
    read from the published copy when the latest build wrote one, else the database."""
    with validation_source(database, wait_seconds) as con:
        _require(tables(con), "run_settings", "minority_reports")
        run_id = _active_run(con)
        try:
            total = con.execute(
                "select count(*) from minority_reports "
                "where run_id = ? and final_decision = 'pending'",
                [run_id],
            ).fetchone()[0]
            rows = con.execute(
                f"""
                select {", ".join(QUEUE_COLUMNS)}
                from minority_reports
                where run_id = ? and final_decision = 'pending'
                order by severity_score desc nulls last, report_id
                limit ?
                """,
                [run_id, limit],
            ).fetchall()
            unbuilt = _unbuilt(con, database, run_id)
        except duckdb.Error as error:
            raise MrsError(
                f"minority_reports is not as expected ({error}); {BUILD_FIRST}"
            ) from error
    report_at, group_at = QUEUE_COLUMNS.index("report_id"), QUEUE_COLUMNS.index("report_group_id")
    marked = [
        (*row, _summary([e for e in unbuilt if _concerns(e, {row[report_at]}, row[group_at])]))
        for row in rows
    ]
    return run_id, marked, int(total)


def _unbuilt(
    con: duckdb.DuckDBPyConnection, database: Path, run_id: str
) -> list[dict[str, object]]:
    """The run's report and event edits in the journal that the last build did not read
    (it logs each file it reads as an edit or rejects it with a reason)."""
    present = tables(con)
    unbuilt: list[dict[str, object]] = []
    for prefix, event in (("user_edits", False), ("user_minority_events_edits", True)):
        built: set[str] = set()
        for table in (f"{prefix}_log", f"{prefix}_errors"):
            if table in present:
                rows = con.execute(f"select distinct source_file from {table}").fetchall()
                built.update(str(row[0]) for row in rows if row[0] is not None)
        unbuilt += unbuilt_edits(database, built, run_id, event=event)
    return unbuilt


def recorded_since_build(
    database: Path,
    report_ids: Collection[str],
    group_id: str | None,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
) -> list[dict[str, object]]:
    """Edits of the active run recorded since the last build on any of `report_ids` or on
    event `group_id`, in the order made: what the review app shows as pending."""
    with validation_source(database, wait_seconds) as con:
        unbuilt = _unbuilt(con, database, _active_run(con))
    return [edit for edit in unbuilt if _concerns(edit, report_ids, group_id)]


def _concerns(edit: dict[str, object], report_ids: Collection[object], group_id: object) -> bool:
    """The edit is on one of `report_ids` or on event `group_id`."""
    return edit.get("report_id") in report_ids or (
        group_id is not None and edit.get("report_group_id") == group_id
    )


def _summary(edits: list[dict[str, object]]) -> str:
    """`reject by ana (marketer)`, one per edit in the order made; empty when none."""
    return "; ".join(f"{e.get('action')} by {e.get('actor')} ({e.get('user_role')})" for e in edits)


def report_details(
    database: Path, report_id: str, wait_seconds: float = DEFAULT_WAIT_SECONDS
) -> ReportDetails:
    """The report's minority_reports row and its edits, where those tables are built (from the
    published copy when the latest build wrote one, else the database)."""
    with validation_source(database, wait_seconds) as con:
        present = tables(con)
        _require(present, "run_settings", "minority_reports_detected_log")
        run_id = _active_run(con)
        known = _exists(con, "minority_reports_detected_log", "report_id", report_id, run_id)
        try:
            row = _report_row(con, report_id, run_id) if "minority_reports" in present else None
            edits = _edits(con, report_id, run_id) if "user_edits_log" in present else None
            unbuilt = _unbuilt(con, database, run_id)
        except duckdb.Error as error:
            raise MrsError(
                f"the review tables are not as expected ({error}); {BUILD_FIRST}"
            ) from error
    group_id = row.get("report_group_id") if row else None
    unbuilt = [edit for edit in unbuilt if _concerns(edit, {report_id}, group_id)]
    return ReportDetails(run_id, known, row, "minority_reports" in present, edits, unbuilt)


def _report_row(
    con: duckdb.DuckDBPyConnection, report_id: str, run_id: str
) -> dict[str, object] | None:
    cursor = con.execute(
        "select * from minority_reports where report_id = ? and run_id = ?", [report_id, run_id]
    )
    names = [column[0] for column in cursor.description]
    found = cursor.fetchone()
    return dict(zip(names, found, strict=True)) if found else None


def _edits(con: duckdb.DuckDBPyConnection, report_id: str, run_id: str) -> list[dict[str, object]]:
    rows = con.execute(
        f"select {', '.join(EDIT_COLUMNS)} from user_edits_log "
        "where report_id = ? and run_id = ? order by edited_at, annotation_id",
        [report_id, run_id],
    ).fetchall()
    return [dict(zip(EDIT_COLUMNS, row, strict=True)) for row in rows]
