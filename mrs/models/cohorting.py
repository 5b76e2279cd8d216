"""Cohorting: which reports belong to one minority event (DESIGN.md sections 1 and 3).

At every tick, reports whose windows overlap in time, or follow each other within a join gap
(var cohort_join_gap_hours), and that share a proposed cause (or, when the cause is unknown, a
matched cluster) form one event: the connected components of that graph. Such intervals
chain, so the components come from one sweep per cause in window_start order; no pairwise
comparison is needed.
"""

from __future__ import annotations

import numpy as np
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


def assign_cohorts(states: pd.DataFrame, *, join_gap: pd.Timedelta) -> pd.DataFrame:
    """One row per tick and report: its cohort's anchor (earliest member) and description.
    Reports of one cause whose windows are at most `join_gap` apart are one event (a holiday's
    rise in the night and dip in the morning, an hour apart, are one holiday).

    `states` holds, per tick_ts and report_id, the report's latest known state at that tick:
    first_detected_from, window_start, window_end (null while active), proposed_cause,
    proposed_cause_category, confidence_score and cluster_name.

    The ticks are walked in plain Python over the rows as records: a few reports per tick,
    for which pandas' per-call overhead cost about 100 ms a tick (9 s of the demo's build).
    """
    if states.empty:
        return _typed([])
    ordered = states.sort_values(["tick_ts", "report_id"], kind="stable")
    columns = [column for column in ordered.columns if column != "tick_ts"]
    ticks = ordered["tick_ts"].tolist()
    values = [
        [None if _missing(value) else value for value in ordered[column].tolist()]
        for column in columns
    ]
    records = [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]
    rows: list[tuple[object, ...]] = []
    previous_state: list[tuple[object, ...]] | None = None
    events: list[tuple[object, ...]] = []
    first = 0
    while first < len(records):
        tick = ticks[first]
        last = first
        while last < len(records) and ticks[last] == tick:
            last += 1
        at_tick = records[first:last]
        # Between two changes of any report's state the events are the same: an active
        # report reaches up to the tick, past every start, whichever tick it is. So a tick
        # whose states equal the previous tick's (missing values in the same places
        # included) reuses its events: thousands of ticks cost their changes, not their
        # number.
        state = [tuple(record.values()) for record in at_tick]
        if state != previous_state:
            events = _events_at(at_tick, pd.Timestamp(tick), join_gap)
            previous_state = state
        rows.extend((tick, *event) for event in events)
        first = last
    return _typed(rows)


def _missing(value: object) -> bool:
    """A null of any of pandas' kinds (None, NaN, NaT, NA), as pandas.isna says of a scalar;
    a list or array value (a column of lists) is a value, never missing."""
    if value is None:
        return True
    if isinstance(value, str | list | tuple | dict | np.ndarray):
        return False
    return bool(pd.isna(value))


def _events_at(
    at_tick: list[dict[str, object]], tick: pd.Timestamp, join_gap: pd.Timedelta
) -> list[tuple[object, ...]]:
    """The cohort rows of one tick's report states (without the tick): per cohort key in
    order, its connected components of windows at most `join_gap` apart."""
    by_key: dict[str, list[dict[str, object]]] = {}
    for record in at_tick:
        key = cohort_key(
            record["proposed_cause_category"],
            record["proposed_cause"],
            record["cluster_name"],
            str(record["report_id"]),
        )
        by_key.setdefault(key, []).append(record)
    rows: list[tuple[object, ...]] = []
    for key in sorted(by_key):
        for component in _joined(by_key[key], tick, join_gap):
            rows.extend(_describe(component, key))
    return rows


def _last_if_missing(value: object) -> tuple[bool, object]:
    """A sort key that puts missing values last, as pandas' sort_values does."""
    return (value is None, value if value is not None else 0)


def _joined(
    members: list[dict[str, object]], tick: pd.Timestamp, join_gap: pd.Timedelta
) -> list[list[dict[str, object]]]:
    """Connected components of windows that overlap or are at most `join_gap` apart (an
    active report lasts up to the tick; window_end is exclusive, so windows that touch are
    0 apart)."""
    ordered = sorted(
        members,
        key=lambda r: (_last_if_missing(r["window_start"]), _last_if_missing(r["report_id"])),
    )
    components: list[list[dict[str, object]]] = []
    current: list[dict[str, object]] = []
    reach = None
    for record in ordered:
        end = tick if record["window_end"] is None else record["window_end"]
        if current and record["window_start"] > reach + join_gap:
            components.append(current)
            current, reach = [], None
        current.append(record)
        reach = end if reach is None else max(reach, end)
    if current:
        components.append(current)
    return components


def _describe(component: list[dict[str, object]], key: str) -> list[tuple[object, ...]]:
    anchor = min(
        component,
        key=lambda r: (
            _last_if_missing(r["first_detected_from"]),
            _last_if_missing(r["report_id"]),
        ),
    )
    size = len(component)
    kind, _, shared = key.partition(":")
    if size == 1:
        reason = "no overlapping or adjoining report shares its cause or cluster"
    elif kind == "cause":
        reason = f"{size} overlapping or adjoining reports share the proposed cause '{shared}'"
    else:
        reason = (
            f"{size} overlapping or adjoining reports with unknown cause share the cluster "
            f"'{shared}'"
        )
    stores = len({r["store_id"] for r in component if r["store_id"] is not None})
    name = shared if kind != "alone" else f"{anchor['store_id']} {anchor['sku']}"
    if kind == "cluster":
        name = f"unknown cause, {shared}"
    name = f"{name} ({stores} store{'s' if stores != 1 else ''})"
    # The mean as pandas takes it (numpy's sum over the float64 values, then / n).
    scores = np.array(
        [0.0 if r["confidence_score"] is None else r["confidence_score"] for r in component],
        dtype=np.float64,
    )
    confidence = round(float(scores.sum() / size), 6)
    first_detected = anchor["first_detected_from"]
    return [
        (
            r["report_id"],
            anchor["report_id"],
            pd.NaT if first_detected is None else first_detected,
            name,
            reason,
            confidence,
            size,
        )
        for r in component
    ]


def _typed(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(COHORT_COLUMNS))
    return frame.astype(COHORT_COLUMNS)
