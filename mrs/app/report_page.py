"""The Report page: the sales chart, proposed causes and evidence, the cluster map, every
field with the log it came from, the report's edits, and the action form."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mrs.app import charts
from mrs.app.actions import action_form
from mrs.app.data import STORE_COLUMNS, ReviewData
from mrs.app.evidence import as_list, evidence_lines
from mrs.app.navigation import open_event
from mrs.app.pending import pending_edits
from mrs.app.provenance import (
    PUBLISHED,
    REPORT_GROUPS,
    STORE_SOURCE,
    display,
    provenance_table,
    score,
)

EDIT_COLUMNS = [
    "edited_at", "action", "cause", "cause_category", "confidence", "evidence",
    "reopen_reason", "notes", "actor", "user_role", "annotation_id",
]  # fmt: skip


def render(data: ReviewData, report_id: str | None) -> None:
    row = data.report(report_id) if report_id else None
    if row is None:
        st.title("Report")
        st.info("Pick a report in the sidebar, or select one on the All reports page.")
        return
    st.title(f"Report {report_id}")
    st.markdown(
        f"**{display(row['store_name']) or row['store_id']}** ({display(row['retailer'])}, "
        f"{display(row['city'])}, {display(row['region'])}) · **{row['sku']}** · "
        f"{display(row['direction'])} anomaly, severity {display(row['severity_score'])} "
        f"({display(row['severity_band'])})"
    )
    _status(row)
    _chart(data, row)
    left, right = st.columns([3, 2])
    with left:
        _causes(data, row)
    with right:
        _event_link(row)
    st.subheader("Cluster map")
    st.caption(
        f"Library clusters and this report on the t-SNE plane; matched cluster "
        f"**{display(row['cluster_name'])}** (similarity {display(row['similarity_score'])})."
    )
    st.altair_chart(charts.cluster_map(data.clusters, data.reports, str(report_id)))
    _fields(row)
    _edits(data, row)
    decision = str(row["final_decision"])
    finalised = f"This report is {decision}" if decision in ("approved", "rejected") else None
    action_form(data.database, str(report_id), data.categories, "report", finalised)


def _status(row: dict[str, object]) -> None:
    columns = st.columns(4)
    columns[0].metric("Decision", display(row["final_decision"]))
    columns[1].metric("Review status", display(row["review_status"]))
    columns[2].metric("Final category", display(row["final_cause_category"]))
    columns[3].metric("Final confidence", score(row["final_confidence"]))
    st.markdown(f"**Final cause:** {display(row['final_cause'])}")
    if row.get("is_degraded"):
        st.warning(
            "Degraded record: " + display(row["degraded_reasons"]) + ". A preferred log was "
            "missing, so some fields fell back to an earlier stage (see Fields and provenance)."
        )


def _chart(data: ReviewData, row: dict[str, object]) -> None:
    st.subheader("Actual against baseline")
    series = data.series[data.series["report_id"] == row["report_id"]]
    if series.empty:
        st.info("No sales series for this report in the review index; run `mrs build`.")
        return
    end = display(row["window_end"]) or "open (shaded to the run's as-of time)"
    st.caption(f"Window {display(row['window_start'])} to {end}, shaded; a day either side.")
    st.altair_chart(charts.sales_chart(series, row["window_start"], row["window_end"], data.as_of))


def _causes(data: ReviewData, row: dict[str, object]) -> None:
    st.subheader("Proposed causes")
    proposals = []
    for suffix in ("", "_2", "_3"):
        cause = row.get(f"proposed_cause{suffix}")
        if isinstance(cause, str) and cause:
            proposals.append(
                {
                    "rank": len(proposals) + 1,
                    "cause": cause,
                    "category": display(row.get(f"proposed_cause_category{suffix}")),
                    "confidence": row.get(f"confidence_score{suffix}"),
                }
            )
    if proposals:
        st.dataframe(
            pd.DataFrame(proposals),
            hide_index=True,
            column_config={
                "confidence": st.column_config.ProgressColumn(
                    min_value=0.0, max_value=1.0, format="%.2f"
                )
            },
        )
    else:
        st.info("No proposed cause yet (attribution has not run for this report).")
    st.markdown("**Supporting evidence**")
    supporting = as_list(row.get("supporting_evidence"))
    lines = evidence_lines(supporting, data.evidence)
    st.markdown("\n".join(f"- {line}" for line in lines) if lines else "none")
    st.markdown("**Added evidence** (by analysts)")
    added = evidence_lines(as_list(row.get("added_evidence")), data.evidence)
    st.markdown("\n".join(f"- {line}" for line in added) if added else "none")


def _event_link(row: dict[str, object]) -> None:
    st.subheader("Event")
    event_id = row.get("report_group_id")
    if not isinstance(event_id, str) or not event_id:
        st.info("Not part of an event yet.")
        return
    st.markdown(
        f"**{event_id}** · {display(row['cohort_name'])} · status {display(row['event_status'])}"
    )
    st.caption(display(row["cohort_reason"]))
    st.button(f"Open event {event_id}", on_click=open_event, args=(event_id,), key="to_event")


def _fields(row: dict[str, object]) -> None:
    st.subheader("Fields and provenance")
    st.caption(
        "Every field of the published record with the log that supplied it (`source_used_*`); "
        "store fields come from stg_stores."
    )
    table = provenance_table(
        row, REPORT_GROUPS, table=PUBLISHED, extra_source=(STORE_COLUMNS, STORE_SOURCE)
    )
    st.dataframe(table, hide_index=True, height=600, key="report_fields")


def _edits(data: ReviewData, row: dict[str, object]) -> None:
    st.subheader("Edits")
    group = row.get("report_group_id")
    pending_edits(
        data.database, {str(row["report_id"])}, str(group) if group else None, "report_pending"
    )
    mine = data.report_edits[data.report_edits["report_id"] == row["report_id"]]
    theirs = data.event_edits[data.event_edits["report_group_id"] == row.get("report_group_id")]
    frames = [
        frame.assign(level=level)[["level", *EDIT_COLUMNS]]
        for level, frame in (("report", mine), ("event", theirs))
        if not frame.empty
    ]
    if not frames:
        st.caption("No edits in the latest build.")
        return
    st.dataframe(
        pd.concat(frames).sort_values("edited_at"),
        hide_index=True,
        key="report_edits",
    )
