"""The Event page: its status and decision, its reports, a map of its stores, its evidence,
its fields with their sources, its edits, and the event-level action form."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mrs.app import charts
from mrs.app.actions import action_form
from mrs.app.data import ReviewData
from mrs.app.evidence import as_list, evidence_lines
from mrs.app.navigation import open_report, selectable_table
from mrs.app.pending import pending_edits
from mrs.app.provenance import EVENT_GROUPS, display, provenance_table, score
from mrs.app.report_page import EDIT_COLUMNS

REPORT_COLUMNS = {
    "report_id": "report",
    "store_name": "store",
    "city": "city",
    "sku": "sku",
    "window_start": "window start",
    "window_end": "window end",
    "severity_score": "severity",
    "final_cause_category": "category",
    "final_confidence": "confidence",
    "final_decision": "decision",
    "review_status": "review status",
}


def render(data: ReviewData, event_id: str | None) -> None:
    row = data.event(event_id) if event_id else None
    if row is None:
        st.title("Event")
        st.info("Pick an event in the sidebar, or select one on the All reports page.")
        return
    st.title(f"Event {event_id}")
    reports = data.reports[data.reports["report_group_id"] == event_id]
    _status(row)
    _reports(reports)
    _map(data, reports)
    _evidence(data, row, reports)
    st.subheader("Fields and provenance")
    st.caption("Every field of the event's published record with the log that supplied it.")
    st.dataframe(
        provenance_table(row, EVENT_GROUPS, table="minority_events"),
        hide_index=True,
        height=380,
        key="event_fields",
    )
    _edits(data, str(event_id))
    decided = int(row["approved_report_count"] or 0) + int(row["rejected_report_count"] or 0)
    finalised = f"{decided} of its reports are approved or rejected" if decided else None
    action_form(data.database, str(event_id), data.categories, "event", finalised)


def _status(row: dict[str, object]) -> None:
    st.markdown(
        f"**{display(row['proposed_cause'])}** (`{display(row['proposed_cause_category'])}`, "
        f"confidence {score(row['confidence_score'])}) · "
        f"{display(row['window_start'])} to {display(row['window_end']) or 'open'}"
    )
    columns = st.columns(4)
    columns[0].metric("Status", display(row["event_status"]))
    columns[1].metric("Decision", display(row["final_decision"]))
    columns[2].metric("Stores / reports", f"{row['store_count']} / {row['report_count']}")
    columns[3].metric(
        "Approved / rejected / pending",
        f"{row['approved_report_count']} / {row['rejected_report_count']} / "
        f"{row['pending_report_count']}",
    )
    st.markdown(
        f"**Final cause:** {display(row['final_cause'])} "
        f"(`{display(row['final_cause_category'])}`, confidence "
        f"{score(row['final_confidence'])})"
    )
    if row.get("is_degraded"):
        st.warning("Degraded record: " + display(row["degraded_reasons"]))


def _reports(reports: pd.DataFrame) -> None:
    st.subheader(f"Reports ({len(reports)})")
    if reports.empty:
        st.info("None of the run's reports is in this event (it was merged into another).")
        return
    st.caption("Select a row to open the report.")
    selectable_table(reports, REPORT_COLUMNS, "report_id", "event_reports", open_report)


def _map(data: ReviewData, reports: pd.DataFrame) -> None:
    st.subheader("Stores")
    stores = data.stores[data.stores["store_id"].isin(reports["store_id"])]
    if stores.empty:
        st.info("No store of this event has a location in stg_stores.")
        return
    st.pydeck_chart(charts.store_map(stores), height=380)
    st.caption(", ".join(f"{s.store_name} ({s.city})" for s in stores.itertuples()))


def _evidence(data: ReviewData, row: dict[str, object], reports: pd.DataFrame) -> None:
    st.subheader("Evidence")
    supporting: list[str] = []
    for value in reports["supporting_evidence"]:
        supporting += [item for item in as_list(value) if item not in supporting]
    lines = evidence_lines(supporting, data.evidence)
    st.markdown("**Supporting evidence** (of its reports)")
    st.markdown("\n".join(f"- {line}" for line in lines) if lines else "none")
    added = evidence_lines(as_list(row.get("added_evidence")), data.evidence)
    st.markdown("**Added evidence** (by analysts)")
    st.markdown("\n".join(f"- {line}" for line in added) if added else "none")


def _edits(data: ReviewData, event_id: str) -> None:
    st.subheader("Edits")
    members = data.reports[data.reports["report_group_id"] == event_id]["report_id"]
    pending_edits(data.database, {str(value) for value in members}, event_id, "event_pending")
    edits = data.event_edits[data.event_edits["report_group_id"] == event_id]
    if edits.empty:
        st.caption("No event-level edits in the latest build.")
        return
    st.dataframe(edits[EDIT_COLUMNS], hide_index=True, key="event_edit_rows")
