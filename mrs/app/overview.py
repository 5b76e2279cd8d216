"""The All reports page: headline cards, filters, the review queue and the events."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mrs.app import metrics
from mrs.app.data import ReviewData
from mrs.app.navigation import open_event, open_report, selectable_table

REPORT_COLUMNS = {
    "report_id": "report",
    "store_name": "store",
    "retailer": "retailer",
    "region": "region",
    "sku": "sku",
    "window_start": "window start",
    "window_end": "window end",
    "severity_score": "severity",
    "direction": "direction",
    "final_cause": "cause",
    "final_cause_category": "category",
    "final_confidence": "confidence",
    "confidence_band": "band",
    "final_decision": "decision",
    "review_status": "review status",
    "report_group_id": "event",
}
EVENT_COLUMNS = {
    "report_group_id": "event",
    "proposed_cause": "proposed cause",
    "event_status": "status",
    "final_decision": "decision",
    "store_count": "stores",
    "report_count": "reports",
    "severity": "severity",
    "window_start": "window start",
    "window_end": "window end",
}


def render(data: ReviewData) -> None:
    st.title("All reports")
    if data.reports.empty:
        st.info(
            f"Run {data.run_id} has no minority reports yet: the build found no anomalies up to "
            "its as-of time. Build more ticks with `mrs build`, or the demo with "
            "`python3 tasks.py demo`."
        )
        return
    _cards(data)
    filters = _filters(data.reports)
    shown = metrics.apply_filters(data.reports, filters)
    _report_table(shown, len(data.reports))
    _event_table(metrics.events_in_review_order(data.events))


def _cards(data: ReviewData) -> None:
    events = data.events
    figures = metrics.headline(data.metrics)
    days = metrics.recent_days()
    recent, rate, protected = figures.recent, figures.auto_attribution_rate, figures.protected_units
    active = int((events["event_status"] == "active").sum()) if not events.empty else 0
    one, two, three, four = st.columns(4)
    one.metric(
        f"Anomalies, last {days} days",
        recent,
        help=f"Reports whose window starts in the {days} days up to the run's "
        "as-of time (the build's clock, not today's date).",
        border=True,
    )
    one.caption(f"{figures.reports} in the run, {figures.pending} awaiting a decision")
    two.metric(
        "Events",
        len(events),
        help="Events (groups of related reports) of the run, any status.",
        border=True,
    )
    two.caption(f"{active} active")
    three.metric(
        "Auto-attribution rate",
        "n/a" if rate is None else f"{rate:.0%}",
        help="Of the approved reports, the share approved with the model's proposed cause "
        "and category unchanged (no analyst correction).",
        border=True,
    )
    three.caption("approved as proposed / approved")
    four.metric(
        "Protected revenue (units)",
        f"{protected:,.0f}",
        help="Sum over approved reports of |actual - baseline| units across the anomaly "
        "window: the anomalous volume kept out of the optimisers' training data. The review "
        "index holds no prices, so this is measured in units, not money.",
        border=True,
    )
    four.caption("|actual - baseline| units of approved reports")


def _filters(reports: pd.DataFrame) -> metrics.Filters:
    banded = metrics.with_bands(reports)
    with st.container(border=True):
        st.markdown("**Filters** (empty means any; pending reports are listed by default)")
        first = st.columns(3)
        retailers = first[0].multiselect(
            "Retailer", metrics.options(banded, "retailer"), key="filter_retailer"
        )
        regions = first[1].multiselect(
            "Region", metrics.options(banded, "region"), key="filter_region"
        )
        decision_options = metrics.options(banded, "final_decision")
        decisions = first[2].multiselect(
            "Decision",
            decision_options,
            default=[value for value in ("pending",) if value in decision_options],
            key="filter_decision",
        )
        second = st.columns(3)
        statuses = second[0].multiselect(
            "Review status", metrics.options(banded, "review_status"), key="filter_status"
        )
        categories = second[1].multiselect(
            "Cause category", metrics.options(banded, "final_cause_category"), key="filter_cause"
        )
        bands = second[2].multiselect(
            "Confidence band",
            [name for name, _ in metrics.BANDS] + [metrics.NO_CONFIDENCE],
            help=metrics.BAND_HELP,
            key="filter_band",
        )
    return metrics.Filters(
        tuple(retailers),
        tuple(regions),
        tuple(decisions),
        tuple(statuses),
        tuple(categories),
        tuple(bands),
    )


def _report_table(shown: pd.DataFrame, total: int) -> None:
    st.subheader(f"Reports ({len(shown)} of {total})")
    if shown.empty:
        st.info("No report matches these filters.")
        return
    st.caption("Select a row to open the report.")
    selectable_table(shown, REPORT_COLUMNS, "report_id", "reports_table", open_report)


def _event_table(events: pd.DataFrame) -> None:
    st.subheader(f"Events ({len(events)})")
    if events.empty:
        st.info("No events yet: cohorting groups reports into events at build time.")
        return
    st.caption("Select a row to open the event.")
    selectable_table(events, EVENT_COLUMNS, "report_group_id", "events_table", open_event)
