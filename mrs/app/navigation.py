"""Which page, report and event are shown: sidebar widgets bound to the URL's query parameters
(`?page=Report&report=MR-...`, `?page=Event&event=ME-...`), so a page can be linked to."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from mrs.app.data import ReviewData
from mrs.app.metrics import events_in_review_order
from mrs.app.provenance import display

PAGE_KEY, REPORT_KEY, EVENT_KEY = "page", "report", "event"
# The URL carries these labels as they are (`?page=Report`).
ALL_REPORTS, REPORT, EVENT = "All reports", "Report", "Event"
PAGES = (ALL_REPORTS, REPORT, EVENT)


@dataclass(frozen=True)
class Location:
    page: str
    report_id: str | None
    event_id: str | None


def open_report(report_id: str) -> None:
    """Callback: show the report's page."""
    st.session_state[PAGE_KEY] = REPORT
    st.session_state[REPORT_KEY] = report_id


def open_event(event_id: str) -> None:
    """Callback: show the event's page."""
    st.session_state[PAGE_KEY] = EVENT
    st.session_state[EVENT_KEY] = event_id


# How the report and event tables show their shared columns.
TABLE_FORMATS = {
    "severity": st.column_config.NumberColumn(format="%.2f"),
    "confidence": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="%.2f"),
    "window start": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
    "window end": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
}


def selectable_table(
    rows: pd.DataFrame,
    columns: Mapping[str, str],
    id_column: str,
    key: str,
    opener: Callable[[str], None],
) -> None:
    """The rows' `columns` (renamed for display) as a table; selecting a row opens it with
    `opener` (open_report or open_event) on its `id_column`."""
    ids = [str(value) for value in rows[id_column]]

    def open_selected() -> None:
        selected = st.session_state[key].selection.rows
        if selected:
            opener(ids[selected[0]])

    table = rows[list(columns)].rename(columns=columns).reset_index(drop=True)
    st.dataframe(
        table,
        hide_index=True,
        key=key,
        on_select=open_selected,
        selection_mode="single-row",
        column_config={name: f for name, f in TABLE_FORMATS.items() if name in table.columns},
    )


def sidebar(data: ReviewData) -> Location:
    """The page chooser and the report and event pickers, in the sidebar."""
    with st.sidebar:
        page = st.radio("Page", PAGES, key=PAGE_KEY, bind="query-params")
        report_ids = [str(value) for value in data.reports["report_id"]]
        report_id = st.selectbox(
            "Report", report_ids, key=REPORT_KEY, bind="query-params", disabled=not report_ids
        )
        report = data.report(report_id) if report_id else None
        if report is not None:
            st.caption(
                f"{display(report['store_name']) or report['store_id']} · {report['sku']} · "
                f"{report['review_status']}"
            )
        ordered = events_in_review_order(data.events)
        event_ids = [str(value) for value in ordered["report_group_id"]]
        event_id = st.selectbox(
            "Event", event_ids, key=EVENT_KEY, bind="query-params", disabled=not event_ids
        )
        event = data.event(event_id) if event_id else None
        if event is not None:
            st.caption(f"{event['proposed_cause']} · {event['event_status']}")
        st.divider()
        as_of = f"{data.as_of:%Y-%m-%d %H:%M}" if data.as_of is not None else "unknown"
        st.caption(
            f"Run **{data.run_id}**, built up to {as_of}.  \nReading the published copy "
            f"`{data.source}` (replaced by each build; the database itself is never opened)."
        )
    return Location(str(page), report_id, event_id)
