"""Cohorting (mrs.models.cohorting): which reports form one event."""

from __future__ import annotations

import pandas as pd

from mrs.models.cohorting import assign_cohorts

TICK = pd.Timestamp("2025-08-10 12:00")
# The shipped var cohort_join_gap_hours.
JOIN_GAP = pd.Timedelta(hours=1)


def _state(report_id: str, start: str, end: str | None, **fields: object) -> dict[str, object]:
    row: dict[str, object] = {
        "tick_ts": TICK,
        "report_id": report_id,
        "store_id": fields.pop("store_id", f"ST-{report_id}"),
        "sku": "SKU-001",
        "first_detected_from": pd.Timestamp(start),
        "window_start": pd.Timestamp(start),
        "window_end": pd.Timestamp(end) if end else pd.NaT,
        "proposed_cause": "Heatwave",
        "proposed_cause_category": "weather",
        "confidence_score": 0.6,
        "cluster_name": "gradual_ramp",
    }
    row.update(fields)
    return row


def _anchors(rows: list[dict[str, object]]) -> dict[str, str]:
    cohorts = assign_cohorts(pd.DataFrame(rows), join_gap=JOIN_GAP)
    return dict(zip(cohorts["report_id"], cohorts["anchor_report_id"], strict=True))


def test_overlapping_reports_with_one_cause_are_one_event_even_through_a_chain() -> None:
    # A overlaps B, B overlaps C, A and C do not: one connected component.
    anchors = _anchors(
        [
            _state("A", "2025-08-09 08:00", "2025-08-09 12:00"),
            _state("B", "2025-08-09 11:00", "2025-08-09 20:00"),
            _state("C", "2025-08-09 19:00", None),
        ]
    )
    assert anchors == {"A": "A", "B": "A", "C": "A"}


def test_different_causes_or_windows_further_apart_than_the_join_gap_make_separate_events() -> None:
    anchors = _anchors(
        [
            _state("A", "2025-08-09 08:00", "2025-08-09 12:00"),
            _state("B", "2025-08-09 09:00", "2025-08-09 13:00", proposed_cause="Promo"),
            _state("C", "2025-08-09 13:01", "2025-08-09 14:00"),  # 61 minutes after A ends
        ]
    )
    assert anchors == {"A": "A", "B": "B", "C": "C"}


def test_a_holidays_rise_in_the_night_and_dip_in_the_morning_are_one_event() -> None:
    # Seen on real demand (Capital Bikeshare, Labor Day and 4 July 2011): one series rises
    # 00:00-04:00 and dips from 05:00, an ordinary hour between the two reports; another
    # series' dip starts as its rise ends (window_end is exclusive: 0 apart). One holiday, one
    # event each; a report of the same cause two hours later is another.
    holiday = {"proposed_cause": "Labor Day", "proposed_cause_category": "holiday"}
    rows = [
        _state("A", "2025-09-01 00:00", "2025-09-01 04:00", **holiday),
        _state("B", "2025-09-01 05:00", "2025-09-01 10:00", **holiday),
        _state("C", "2025-09-01 12:00", "2025-09-01 15:00", **holiday),
        _state("D", "2025-09-02 00:00", "2025-09-02 04:00", store_id="ST-D", **holiday),
        _state("E", "2025-09-02 04:00", "2025-09-02 09:00", store_id="ST-D", **holiday),
    ]
    assert _anchors(rows) == {"A": "A", "B": "A", "C": "C", "D": "D", "E": "D"}
    # With no gap allowed, windows that touch are still one event, an hour apart are not.
    apart = assign_cohorts(pd.DataFrame(rows), join_gap=pd.Timedelta(0))
    assert dict(zip(apart["report_id"], apart["anchor_report_id"], strict=True)) == {
        "A": "A", "B": "B", "C": "C", "D": "D", "E": "D"
    }  # fmt: skip
    joined = assign_cohorts(pd.DataFrame(rows), join_gap=JOIN_GAP)
    assert set(joined.loc[joined["report_id"] == "B", "cohort_reason"]) == {
        "2 overlapping or adjoining reports share the proposed cause 'Labor Day'"
    }


def test_unknown_causes_group_by_cluster_and_unclassified_ones_stay_alone() -> None:
    unknown = {
        "proposed_cause": "No supporting evidence found",
        "proposed_cause_category": "unknown",
    }
    anchors = _anchors(
        [
            _state("A", "2025-08-09 08:00", None, **unknown),
            _state("B", "2025-08-09 09:00", None, **unknown),
            _state("C", "2025-08-09 09:00", None, **unknown, cluster_name="sharp_spike"),
            _state("D", "2025-08-09 09:00", None, **unknown, cluster_name="unclassified"),
            _state("E", "2025-08-09 09:00", None, **unknown, cluster_name="unclassified"),
        ]
    )
    assert anchors == {"A": "A", "B": "A", "C": "C", "D": "D", "E": "E"}


def test_the_anchor_is_the_earliest_detected_member_and_order_does_not_matter() -> None:
    rows = [
        _state("Z", "2025-08-09 08:00", None, first_detected_from=pd.Timestamp("2025-08-09 07:00")),
        _state("A", "2025-08-09 09:00", None),
        _state("M", "2025-08-09 10:00", None, store_id="ST-Z"),
    ]
    first = assign_cohorts(pd.DataFrame(rows), join_gap=JOIN_GAP)
    second = assign_cohorts(pd.DataFrame(rows[::-1]), join_gap=JOIN_GAP)
    pd.testing.assert_frame_equal(first, second)
    assert set(first["anchor_report_id"]) == {"Z"}
    assert set(first["cohort_size"]) == {3}
    assert first["cohort_name"].iloc[0] == "Heatwave (2 stores)"
    assert assign_cohorts(pd.DataFrame(rows).iloc[0:0], join_gap=JOIN_GAP).empty


def test_ticks_with_unchanged_states_get_the_events_each_tick_alone_would() -> None:
    # assign_cohorts reuses a tick's events while no state changes (issue 18: a per-tick
    # loop over months of ticks); the result must equal each tick computed on its own,
    # through an active report (its end is the tick), a closure, a new member and a cause
    # changed back and forth.
    ticks = pd.date_range("2025-08-10 12:00", periods=8, freq="h")
    rows = []
    for position, tick in enumerate(ticks):
        states = [
            _state("A", "2025-08-10 08:00", None if position < 3 else "2025-08-10 14:00"),
            _state("B", "2025-08-10 10:00", None, confidence_score=float("nan")),
        ]
        if position >= 5:
            states.append(_state("C", "2025-08-10 16:00", None))
        if position in (6, 7):
            states[1].update(proposed_cause="Promotion", proposed_cause_category="promotion")
        for state in states:
            state["tick_ts"] = tick
        rows += states
    together = assign_cohorts(pd.DataFrame(rows), join_gap=JOIN_GAP)
    alone = pd.concat(
        [
            assign_cohorts(pd.DataFrame([r for r in rows if r["tick_ts"] == t]), join_gap=JOIN_GAP)
            for t in ticks
        ],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(together, alone)
    assert together["tick_ts"].nunique() == len(ticks)
    # The new member C joins B's event at its tick, and B leaves A's when its cause changes.
    at = together.set_index(["tick_ts", "report_id"])["anchor_report_id"]
    assert at[(ticks[5], "C")] == "A" and at[(ticks[6], "B")] == "B"


def test_a_list_column_and_missing_values_in_the_states_are_values_like_any_other() -> None:
    # The states are walked as plain records: a column of lists (evidence ids) is neither
    # missing nor a reason to fail, and missing scores count as 0 in the event's confidence.
    rows = [
        _state("A", "2025-08-09 08:00", None, evidence=["EV-1", "EV-2"], confidence_score=None),
        _state("B", "2025-08-09 09:00", None, evidence=[], confidence_score=0.9),
    ]
    cohorts = assign_cohorts(pd.DataFrame(rows), join_gap=JOIN_GAP)
    assert list(cohorts["anchor_report_id"]) == ["A", "A"]
    assert list(cohorts["cohort_confidence"]) == [0.45, 0.45]
