"""What the review app reads: the published copy, never the DuckDB file a build writes.

Every build publishes the public models, with the few other tables the app needs in schema
`review_index`, to `<database stem>_published.duckdb` beside the database
(mrs.pipeline.publication), replacing the file whole. Reading it holds no lock on the
database, so a `dbt build` running meanwhile never fails because an analyst has the app
open, and the app never reads half of a build.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pandas as pd

from mrs.pipeline.project import MrsError
from mrs.pipeline.publication import connect_published, published_database
from mrs.review.reviewers import in_scope

BUILD_HINT = (
    "run `python3 tasks.py demo` for the demo database, or `mrs build --database {database}` "
    "for your own data"
)
# The published tables the app reads (public models and the review index); every build
# publishes all of them.
TABLES = (
    "run_settings",
    "minority_reports",
    "minority_events",
    "report_sales_series",
    "evidence_catalogue",
    "review_metrics_by_store",
    "stg_stores",
    "stg_cluster_library",
    "stg_cause_taxonomy",
    "user_edits_log",
    "user_minority_events_edits_log",
)
STORE_COLUMNS = ("store_name", "retailer", "region", "city", "latitude", "longitude")


class IndexUnavailable(MrsError):
    """The published copy is missing, incomplete or unreadable; the message says what to run."""


@dataclass(frozen=True)
class ReviewData:
    """One consistent read of the published copy, filtered to the active run."""

    database: Path
    source: Path
    run_id: str
    as_of: dt.datetime | None
    reports: pd.DataFrame  # minority_reports + the store's name, retailer, region, city, lat/lon
    events: pd.DataFrame
    # review_metrics_by_store: the headline figures per store, summed over what is shown
    metrics: pd.DataFrame
    series: pd.DataFrame
    evidence: pd.DataFrame
    stores: pd.DataFrame
    clusters: pd.DataFrame
    report_edits: pd.DataFrame
    event_edits: pd.DataFrame
    categories: tuple[str, ...]

    def report(self, report_id: str) -> dict[str, object] | None:
        """The report's minority_reports row (with its store's fields), or None."""
        rows = self.reports[self.reports["report_id"] == report_id]
        return None if rows.empty else rows.iloc[0].to_dict()

    def event(self, event_id: str) -> dict[str, object] | None:
        """The event's minority_events row, or None."""
        rows = self.events[self.events["report_group_id"] == event_id]
        return None if rows.empty else rows.iloc[0].to_dict()


def signature(database: Path) -> tuple[int, int]:
    """Size and modification time of the published copy: changes when a build publishes."""
    path = published_database(database)
    if not path.exists():
        return (0, 0)
    status = path.stat()
    return (status.st_size, status.st_mtime_ns)


def load(database: Path, attempts: int = 3) -> ReviewData:
    """Read what the app shows from the published copy (it is small). Opening it can fail for
    an instant while a finishing build replaces it, so a failed read is retried first."""
    source = published_database(database)
    hint = BUILD_HINT.format(database=database)
    for attempt in range(attempts):
        try:
            con = connect_published(database)
            if con is None:
                where = (
                    f"there is no database at {database}"
                    if not database.exists()
                    else f"the database {database} has no published copy with a review index "
                    f"yet ({source})"
                )
                raise IndexUnavailable(f"Nothing to review: {where}. To build it, {hint}.")
            return _read(database, source, con)
        except duckdb.Error as error:
            if attempt == attempts - 1:
                raise IndexUnavailable(
                    f"Cannot read the published copy {source} ({error}). If a build is "
                    f"finishing, reload in a moment; otherwise {hint}."
                ) from error
            time.sleep(0.5)
    raise AssertionError("unreachable")


def _read(database: Path, source: Path, con: duckdb.DuckDBPyConnection) -> ReviewData:
    try:
        present = {
            row[0]
            for row in con.execute("select table_name from information_schema.tables").fetchall()
        }
        missing = [name for name in TABLES if name not in present]
        if missing:
            raise IndexUnavailable(
                f"The published copy {source} lacks {', '.join(missing)} (it was written by an "
                f"older build). To refresh it, {BUILD_HINT.format(database=database)}."
            )
        settings = con.execute("select run_id, as_of from run_settings").fetchall()
        if len(settings) != 1 or settings[0][0] is None:
            raise IndexUnavailable(
                f"run_settings in {source} should hold exactly one run; "
                + BUILD_HINT.format(database=database)
            )
        run_id, as_of = str(settings[0][0]), settings[0][1]
        store_fields = ", ".join(f"s.{column}" for column in STORE_COLUMNS)
        reports = con.execute(
            f"""
            select r.*, {store_fields}
            from minority_reports as r
            left join stg_stores as s on s.store_id = r.store_id
            where r.run_id = ?
            order by r.severity_score desc nulls last, r.report_id
            """,
            [run_id],
        ).df()
        edits_order = "order by edited_at, annotation_id"
        categories = con.execute(
            "select distinct cause_category from stg_cause_taxonomy "
            "where cause_category is not null order by 1"
        ).fetchall()
        return ReviewData(
            database=database,
            source=source,
            run_id=run_id,
            as_of=as_of,
            reports=reports,
            events=_frame(
                con,
                "select * from minority_events where run_id = ? "
                "order by window_start desc, report_group_id",
                run_id,
            ),
            metrics=_frame(
                con,
                "select * from review_metrics_by_store where run_id = ? order by store_id",
                run_id,
            ),
            series=_frame(con, "select * from report_sales_series order by report_id, sales_ts"),
            evidence=_frame(con, "select * from evidence_catalogue order by evidence_id"),
            stores=_frame(con, "select * from stg_stores order by store_id"),
            clusters=_frame(con, "select * from stg_cluster_library order by cluster_id"),
            report_edits=_frame(
                con, f"select * from user_edits_log where run_id = ? {edits_order}", run_id
            ),
            event_edits=_frame(
                con,
                f"select * from user_minority_events_edits_log where run_id = ? {edits_order}",
                run_id,
            ),
            categories=tuple(str(row[0]) for row in categories),
        )
    finally:
        con.close()


def _frame(con: duckdb.DuckDBPyConnection, sql: str, *parameters: object) -> pd.DataFrame:
    return con.execute(sql, list(parameters)).df()


def within_scope(data: ReviewData, entries: Sequence[str]) -> ReviewData:
    """What a reviewer with a scope (mrs.review.reviewers: `region:North;store:ST-009`) sees: the
    reports of stores in it, the events all of whose reports are, their series and edits.
    `mrs review` and the build refuse them the rest anyway; without a scope, everything."""
    if not entries:
        return data
    inside = pd.Series(
        [in_scope(entries, report) for report in data.reports.to_dict("records")],
        index=data.reports.index,
        dtype=bool,
    )
    reports = data.reports[inside]
    beyond = set(data.reports.loc[~inside, "report_group_id"].dropna())
    events = data.events[~data.events["report_group_id"].isin(beyond)]
    shown = set(reports["report_id"])
    return replace(
        data,
        reports=reports,
        events=events,
        metrics=data.metrics[data.metrics["store_id"].isin(set(reports["store_id"]))],
        series=data.series[data.series["report_id"].isin(shown)],
        report_edits=data.report_edits[data.report_edits["report_id"].isin(shown)],
        event_edits=data.event_edits[
            data.event_edits["report_group_id"].isin(set(events["report_group_id"]))
        ],
    )
