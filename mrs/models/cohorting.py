"""Cohorting: which reports belong to one minority event (DESIGN.md sections 1 and 3).

At every tick, reports whose windows overlap in time and that share a proposed cause (or,
when the cause is unknown, a matched cluster) form one event: the connected components of
the overlap graph. Overlapping intervals chain, so the components come from one sweep per
cause in window_start order; no pairwise comparison is needed.
"""

from __future__ import annotations

import pandas as pd

UNKNOWN = "unknown"
UNCLASSIFIED = "unclassified"
COHORT_COLUMNS: dict[str, str] = {
    "tick_ts": "datetime64[us]",
    "report_id": "string",
    "anchor_report_id": "string",
    "anchor_detected_from": "datetime64[us]",
    "cohort_name": "string",
    "cohort_reason": "string",
    "cohort_confidence": "float64",
    "cohort_size": "int64",
}


def cohort_key(category: object, cause: object, cluster: object, report_id: str) -> str:
    """What reports must share to be one event: the cause, else the cluster, else nothing."""
    if isinstance(category, str) and category != UNKNOWN and isinstance(cause, str):
        return f"cause:{cause}"
    if isinstance(cluster, str) and cluster != UNCLASSIFIED:
        return f"cluster:{cluster}"
    return f"alone:{report_id}"


def assign_cohorts(states: pd.DataFrame) -> pd.DataFrame:
    """One row per tick and report: its cohort's anchor (earliest member) and description.

    `states` holds, per tick_ts and report_id, the report's latest known state at that tick:
    first_detected_from, window_start, window_end (null while active), proposed_cause,
    proposed_cause_category, confidence_score and cluster_name.
    """
    if states.empty:
        return _typed([])
    frames: list[pd.DataFrame] = []
    ordered = states.sort_values(["tick_ts", "report_id"], kind="stable")
    previous_state = pd.DataFrame()
    previous: pd.DataFrame | None = None
    for tick, at_tick in ordered.groupby("tick_ts", sort=True):
        # Between two changes of any report's state the events are the same: an active
        # report reaches up to the tick, past every start, whichever tick it is. So a tick
        # whose states equal the previous tick's (missing values in the same places
        # included) reuses its events: thousands of ticks cost their changes, not their
        # number.
        state = at_tick.drop(columns="tick_ts").reset_index(drop=True)
        if previous is None or not state.equals(previous_state):
            previous = _events_at(at_tick, tick)
            previous_state = state
        frames.append(previous.assign(tick_ts=tick))
    return _typed([]) if not frames else pd.concat(frames, ignore_index=True).astype(COHORT_COLUMNS)


def _events_at(at_tick: pd.DataFrame, tick: object) -> pd.DataFrame:
    """The cohort rows of one tick's report states."""
    rows: list[dict[str, object]] = []
    keys = [
        cohort_key(r.proposed_cause_category, r.proposed_cause, r.cluster_name, r.report_id)
        for r in at_tick.itertuples(index=False)
    ]
    for key, members in at_tick.assign(cohort_key=keys).groupby("cohort_key", sort=True):
        for component in _overlapping(members, pd.Timestamp(tick)):
            rows.extend(_describe(component, key, tick))
    return _typed(rows)


def _overlapping(members: pd.DataFrame, tick: pd.Timestamp) -> list[pd.DataFrame]:
    """Connected components of time overlap (an active report lasts up to the tick)."""
    ends = members["window_end"].fillna(tick)
    ordered = members.assign(cohort_end=ends).sort_values(
        ["window_start", "report_id"], kind="stable"
    )
    components: list[pd.DataFrame] = []
    current: list[int] = []
    reach = None
    for position, row in enumerate(ordered.itertuples(index=False)):
        if current and row.window_start >= reach:
            components.append(ordered.iloc[current])
            current, reach = [], None
        current.append(position)
        reach = row.cohort_end if reach is None else max(reach, row.cohort_end)
    if current:
        components.append(ordered.iloc[current])
    return components


def _describe(component: pd.DataFrame, key: str, tick: object) -> list[dict[str, object]]:
    anchor = component.sort_values(["first_detected_from", "report_id"], kind="stable").iloc[0]
    size = len(component)
    kind, _, shared = key.partition(":")
    if size == 1:
        reason = "no overlapping report shares its cause or cluster"
    elif kind == "cause":
        reason = f"{size} overlapping reports share the proposed cause '{shared}'"
    else:
        reason = f"{size} overlapping reports with unknown cause share the cluster '{shared}'"
    stores = component["store_id"].nunique()
    name = shared if kind != "alone" else f"{anchor['store_id']} {anchor['sku']}"
    if kind == "cluster":
        name = f"unknown cause, {shared}"
    name = f"{name} ({stores} store{'s' if stores != 1 else ''})"
    confidence = round(float(component["confidence_score"].fillna(0.0).mean()), 6)
    return [
        {
            "tick_ts": tick,
            "report_id": report_id,
            "anchor_report_id": anchor["report_id"],
            "anchor_detected_from": anchor["first_detected_from"],
            "cohort_name": name,
            "cohort_reason": reason,
            "cohort_confidence": confidence,
            "cohort_size": size,
        }
        for report_id in component["report_id"]
    ]


def _typed(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(COHORT_COLUMNS))
    return frame.astype(COHORT_COLUMNS)
