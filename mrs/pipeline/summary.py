"""The short account of a database that `mrs demo` and `mrs summary` print."""

from __future__ import annotations

from pathlib import Path

import duckdb

from mrs.pipeline.database_lock import DEFAULT_WAIT_SECONDS, connect_waiting

INPUTS = (
    "unified_sales_data",
    "stores",
    "products",
    "all_campaign_data",
    "contextual_data",
    "master_narratives",
    "cluster_library",
    "cause_taxonomy",
)


def summarise(database: Path, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> list[str]:
    """Lines describing inputs, rejected rows, reports, events and top causes (waiting out a
    build that holds the file)."""
    if not database.exists():
        return [f"no database at {database}; run `mrs demo` or `mrs build` first"]
    lines: list[str] = []
    with connect_waiting(database, wait_seconds) as con:
        listed = con.execute("select table_name from information_schema.tables").fetchall()
        tables = {row[0] for row in listed}
        accepted = rejected = 0
        for name in INPUTS:
            if f"stg_{name}" in tables:
                accepted += con.execute(f"select count(*) from stg_{name}").fetchone()[0]
            if f"{name}_errors" in tables:
                rejected += con.execute(f"select count(*) from {name}_errors").fetchone()[0]
        lines.append(
            f"inputs: {accepted} rows accepted, {rejected} rejected (see staging.*_errors)"
        )
        lines += _reports(con, tables)
    return lines


def _reports(con: duckdb.DuckDBPyConnection, tables: set[str]) -> list[str]:
    if "minority_reports_detected_log_current" not in tables:
        return ["reports: detection is not built in this database yet"]
    # The active run's reports, as minority_reports and minority_events show them.
    active = "select count(*) from minority_reports_detected_log_current"
    reports = con.execute(active).fetchone()[0]
    lines = [f"reports: {reports} detected"]
    if "minority_events" in tables:
        by_status = dict(
            con.execute(
                "select event_status, count(*) from minority_events group by event_status"
            ).fetchall()
        )
        merged = by_status.pop("merged", 0)
        standing = ", ".join(f"{count} {status}" for status, count in sorted(by_status.items()))
        lines.append(
            f"events: {sum(by_status.values())}"
            + (f" ({standing})" if standing else "")
            + (
                f"; minority_events also keeps {merged} merged into another event "
                "(event_status 'merged')"
                if merged
                else ""
            )
        )
    else:
        lines.append("events: cohorting is not built in this database yet")
    if "minority_reports_proposed_attribution_log_current" in tables:
        top = con.execute(
            """
            select proposed_cause_category, count(*) as reports
            from minority_reports_proposed_attribution_log_current
            group by 1 order by reports desc, proposed_cause_category limit 5
            """
        ).fetchall()
        lines.append("top causes: " + ", ".join(f"{cause} ({n})" for cause, n in top))
    if "minority_reports" in tables:
        decisions = con.execute(
            "select final_decision, count(*) from minority_reports group by 1 order by 1"
        ).fetchall()
        lines.append("review: " + ", ".join(f"{decision} {n}" for decision, n in decisions))
    return lines
