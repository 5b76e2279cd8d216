"""The anomaly classifier's decisions on candidate windows (mrs.models.detection)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from mrs.models.detection import (
    DECISION_COLUMNS,
    ClassifierParams,
    decide_candidate_windows,
    narrative_windows,
)

START = pd.Timestamp("2025-08-07 08:00")
PARAMS = ClassifierParams(
    onset_evidence=4.0,
    onset_reference_z=1.0,
    onset_hours=2,
    closure_hours=4,
    backdate_reference_z=0.75,
)


def _window(
    z: list[float],
    *,
    context: int = 0,
    direction: str = "up",
    elevated_z: float = 1.5,
    closed: bool = True,
    onset_scale: float = 1.0,
    shift_alarm_from: int | None = None,
    shift_run_start: int = 0,
) -> pd.DataFrame:
    """Hours of one candidate window: `context` hours before the first elevated hour, then
    the window; the last hour is the closure hour when `closed`. With `shift_alarm_from`,
    the slow `shift` CUSUM is in alarm from that hour on (an elevated hour), its run having
    started at hour `shift_run_start`."""
    n = len(z)
    sign = 1 if direction == "up" else -1
    ts = [START + pd.Timedelta(hours=i) for i in range(n)]
    in_window = [i >= context for i in range(n)]
    shift_alarm = [shift_alarm_from is not None and i >= shift_alarm_from for i in range(n)]
    elevated = [in_window[i] and (sign * z[i] >= elevated_z or shift_alarm[i]) for i in range(n)]
    closure = [closed and i == n - 1 for i in range(n)]
    index = np.arange(n) + 100
    return pd.DataFrame(
        {
            "candidate_window_id": "CW-1",
            "store_id": "ST-001",
            "sku": "SKU-001",
            "direction": direction,
            "first_elevated_ts": ts[context],
            "is_window_closed": closed,
            "sales_ts": ts,
            "trading_hour_index": index,
            "is_in_window": in_window,
            "is_elevated": elevated,
            "is_closure_hour": closure,
            "residual_units": z,
            "variance_units": 1.0,
            "residual_z": z,
            "onset_z": np.array(z) * onset_scale,
            "drift_step": np.clip(sign * np.array(z), -3.0, 3.0),
            "is_drift_alarm": False,
            "drift_run_start_index": index[0],
            "is_shift_alarm": shift_alarm,
            "shift_run_start_index": index[0] + shift_run_start,
        }
    )


def _decide(hours: pd.DataFrame) -> pd.Series:
    decisions = decide_candidate_windows(hours, PARAMS)
    assert len(decisions) == 1
    return decisions.iloc[0]


def test_onset_needs_enough_evidence_and_persistence() -> None:
    # One big hour (short of single_hour_z) is not persistent; two strong hours are.
    assert _decide(_window([5.5, 0.0, 0.0, 0.0, 0.0]))["decision"] == "dismissed"
    reported = _decide(_window([3.5, 3.0, 0.0, 0.0, 0.0, 0.0]))
    assert reported["decision"] == "reported"
    # Evidence (3.5 - 1) + (3.0 - 1) = 4.5 >= 4 at the second hour.
    assert reported["onset_confirmed_ts"] == START + pd.Timedelta(hours=1)
    assert reported["onset_evidence"] == pytest.approx(4.5)


def test_a_short_burst_confirms_where_the_cusum_would_not_yet() -> None:
    # The project's onset evidence (7): two hours at 4.0 add (4 - 1) * 2 = 6 to the CUSUM,
    # short of it, but combine to 8 / sqrt(2) = 5.66 >= burst_z 5.5.
    params = ClassifierParams(onset_evidence=7.0, onset_hours=2, closure_hours=4, burst_z=5.5)
    burst = decide_candidate_windows(_window([4.0, 4.0, 0.0, 0.0, 0.0, 0.0]), params).iloc[0]
    assert burst["decision"] == "reported"
    assert burst["onset_detector"] == "sharp"
    assert burst["onset_confirmed_ts"] == START + pd.Timedelta(hours=1)
    assert burst["window_start"] == START
    assert burst["onset_evidence"] == pytest.approx(6.0)  # the CUSUM's, as for any sharp onset
    # Two hours at 3.8 combine to 5.37: no burst, and the CUSUM has 5.6.
    weaker = decide_candidate_windows(_window([3.8, 3.8, 0.0, 0.0, 0.0, 0.0]), params)
    assert weaker.iloc[0]["decision"] == "dismissed"
    # A run with an hour that is not elevated is no burst (4.2 and 4.2 would combine to 5.94;
    # the CUSUM has 5.9).
    gapped = decide_candidate_windows(_window([4.2, 0.5, 4.2, 0.0, 0.0, 0.0, 0.0]), params)
    assert gapped.iloc[0]["decision"] == "dismissed"


def test_a_weak_onset_is_recorded_for_the_store_to_corroborate() -> None:
    # Evidence (2.0 - 1) + (2.5 - 1) + (2.0 - 1) + (1.8 - 1) = 4.3 at hour 4: short of the
    # own bar 6.5, past the store's 4.0. The window is dismissed on its own, and carries the
    # report that weak onset would give (anomaly_classifier_decisions reports it where the
    # store's other products report at those hours).
    params = ClassifierParams(onset_evidence=6.5, store_onset_evidence=4.0, onset_hours=2)
    z = [0.2, 2.0, 2.5, 2.0, 1.8, 0.3, 0.2, 0.1, 0.0]
    weak = decide_candidate_windows(_window(z, context=1), params).iloc[0]
    assert weak["decision"] == "dismissed"
    assert weak["weak_onset_confirmed_ts"] == START + pd.Timedelta(hours=4)
    assert weak["weak_onset_evidence"] == pytest.approx(4.3)
    assert weak["weak_window_start"] == START + pd.Timedelta(hours=1)
    assert weak["weak_window_end"] == START + pd.Timedelta(hours=5)
    # Below the store's bar there is none; an own onset has its weak onset no later.
    higher = replace(params, store_onset_evidence=4.5)
    none = decide_candidate_windows(_window(z, context=1), higher)
    assert pd.isna(none.iloc[0]["weak_onset_confirmed_ts"])
    strong = decide_candidate_windows(_window([3.0, 3.0, 3.0, 3.0, 0.0, 0.0, 0.0, 0.0]), params)
    assert strong.iloc[0]["decision"] == "reported"
    assert strong.iloc[0]["weak_onset_confirmed_ts"] <= strong.iloc[0]["onset_confirmed_ts"]


def test_weak_hours_accumulate_but_noise_does_not() -> None:
    steady = _decide(_window([2.0, 1.8, 2.2, 1.9, 2.1, 0.0, 0.0, 0.0, 0.0]))
    assert steady["decision"] == "reported"
    noise = _decide(_window([1.6, -0.5, 1.7, 0.2, -1.0, 0.0, 0.0, 0.0]))
    assert noise["decision"] == "dismissed"


def test_start_is_back_dated_to_where_the_deviation_began() -> None:
    # Two context hours: one unremarkable, one already above the reference.
    hours = _window([0.1, 1.2, 3.0, 3.0, 3.0, 0.0, 0.0, 0.0, 0.0], context=2)
    decision = _decide(hours)
    assert decision["window_start"] == START + pd.Timedelta(hours=1)


def test_end_is_forward_dated_to_the_last_hour_with_evidence() -> None:
    z = [3.0, 3.0, 3.0, 1.2, 0.1, -0.3, 0.2, 0.0]
    decision = _decide(_window(z))
    # Hour 3 (z 1.2) still adds evidence above 0.75; hour 4 does not.
    assert decision["window_end"] == START + pd.Timedelta(hours=4)
    assert decision["closure_ts"] == START + pd.Timedelta(hours=7)


def test_an_open_window_has_no_end_and_a_window_without_onset_is_pending() -> None:
    open_report = _decide(_window([3.0, 3.0, 3.0], closed=False))
    assert open_report["decision"] == "reported"
    assert pd.isna(open_report["window_end"])
    pending = _decide(_window([1.6, 0.2, 1.6], closed=False))
    assert pending["decision"] == "pending"


def test_drops_are_decided_like_uplifts() -> None:
    decision = _decide(_window([-3.0, -3.5, -2.0, 0.0, 0.0, 0.0, 0.0], direction="down"))
    assert decision["decision"] == "reported"
    assert decision["direction"] == "down"


def test_a_strong_shift_is_not_back_dated_over_chance_dips() -> None:
    # The two context hours dip beyond the fixed reference, but by far less than the shift.
    hours = _window([-1.0, -1.1, -4.0, -4.5, -4.0, 0.0, 0.0, 0.0, 0.0], context=2, direction="down")
    assert _decide(hours)["window_start"] == START + pd.Timedelta(hours=2)
    weak = _window(
        [-1.0, -1.1, -2.2, -2.2, -2.2, -2.2, 0.0, 0.0, 0.0, 0.0], context=2, direction="down"
    )
    assert _decide(weak)["window_start"] == START


def test_the_sharp_detector_reads_the_day_innovations() -> None:
    # The sharp CUSUM adds up onset_z (what the day's earlier hours did not already say),
    # not the raw z: the same raw hours confirm when they are news, not when the day's
    # level explains half of each.
    z = [2.0, 2.2, 2.1, 1.9, 0.0, 0.0, 0.0, 0.0]
    assert _decide(_window(z))["decision"] == "reported"
    assert _decide(_window(z, onset_scale=0.5))["decision"] == "dismissed"


def test_one_extreme_hour_confirms_alone() -> None:
    # One hour at single_hour_z is a report although the persistence rule wants two
    # elevated hours; one hour short of it is not.
    extreme = _decide(_window([0.0, 6.5, 0.0, 0.0, 0.0, 0.0], context=1))
    assert extreme["decision"] == "reported"
    assert extreme["onset_confirmed_ts"] == START + pd.Timedelta(hours=1)
    assert extreme["onset_detector"] == "sharp"
    assert _decide(_window([0.0, 5.9, 0.0, 0.0, 0.0, 0.0], context=1))["decision"] == "dismissed"
    # A drop is judged the same way.
    drop = _window([0.0, -6.5, 0.0, 0.0, 0.0, 0.0], context=1, direction="down")
    assert _decide(drop)["decision"] == "reported"


def test_the_sharp_detector_forgets_what_is_older_than_its_memory() -> None:
    # Hours alternating at z 1.6 and 1.2 add 0.4 an hour: 3.2 within eight hours is short
    # of the evidence, however long the run lasts (a day-long wobble is for the slow
    # detectors); with a long memory the same hours confirm.
    z = [1.6, 1.2] * 8 + [0.0] * 4
    assert _decide(_window(z))["decision"] == "dismissed"
    long_memory = ClassifierParams(**{**PARAMS.__dict__, "onset_max_hours": 100})
    assert decide_candidate_windows(_window(z), long_memory).iloc[0]["decision"] == "reported"


def test_a_mild_shift_is_reported_by_the_slow_detector_from_where_its_run_began() -> None:
    # Twenty hours at z 0.8: never elevated, too weak for the sharp CUSUM; the slow CUSUM
    # (reference 0.25) that began at the shift's first hour fires at hour 16.
    z = [0.0, -0.2] + [0.8] * 20 + [0.0] * 6
    decision = _decide(_window(z, context=16, shift_alarm_from=16, shift_run_start=2))
    assert decision["decision"] == "reported"
    assert decision["onset_detector"] == "shift"
    assert decision["onset_confirmed_ts"] == START + pd.Timedelta(hours=16)
    assert decision["window_start"] == START + pd.Timedelta(hours=2)
    # The end keeps the hours with evidence above the slow reference: the shift's last hour.
    assert decision["window_end"] == START + pd.Timedelta(hours=22)
    assert decision["onset_evidence"] == pytest.approx(15 * (0.8 - 0.25))
    # Without the slow alarm the same window is dismissed.
    assert _decide(_window(z, context=16))["decision"] == "dismissed"


def test_a_slow_alarm_whose_run_began_before_the_window_is_no_new_report() -> None:
    # After a strong anomaly the slow CUSUM stays high; a few mildly positive hours later
    # push it to a new peak, but its run began before this window's hours (the previous
    # report's episode): not a new report.
    z = [0.0, -0.2] + [0.8] * 20 + [0.0] * 6
    decision = _decide(_window(z, context=16, shift_alarm_from=16, shift_run_start=-30))
    assert decision["decision"] == "dismissed"


def test_the_sharp_detector_wins_when_both_confirm_at_once() -> None:
    z = [0.0, 3.0, 3.0, 3.0, 0.0, 0.0, 0.0, 0.0]
    decision = _decide(_window(z, context=1, shift_alarm_from=2, shift_run_start=1))
    assert decision["onset_detector"] == "sharp"
    assert decision["onset_confirmed_ts"] == START + pd.Timedelta(hours=2)


def _following(first: pd.DataFrame, z: list[float], *, context: int, closed: bool) -> pd.DataFrame:
    """A second window of the same series, starting right after `first`'s closure hour."""
    second = _window(z, context=context, closed=closed)
    offset = len(first)
    second["sales_ts"] = second["sales_ts"] + pd.Timedelta(hours=offset)
    second["trading_hour_index"] = second["trading_hour_index"] + offset
    second["first_elevated_ts"] = second["sales_ts"].iloc[context]
    return second.assign(candidate_window_id="CW-2")


def test_a_ramp_interrupted_by_quiet_hours_is_one_report_from_its_beginning() -> None:
    # A weak start (dismissed: not enough evidence) closes after four quiet hours; the ramp
    # then grows. The report starts where the first window began.
    weak = _window([1.6, 1.7, 1.8, 0.6, 0.7, 0.5, 0.6])
    growing = [0.5, 1.6, 2.5, 3.0, 3.5, 0.0, 0.0, 0.0, 0.0]
    ramp = _following(weak, growing, context=1, closed=True)
    decisions = decide_candidate_windows(pd.concat([weak, ramp]), PARAMS)
    assert list(decisions["decision"]) == ["dismissed", "reported"]
    assert decisions.iloc[1]["window_start"] == START
    # More than two closure periods apart, the weak window is not carried.
    earlier = weak.assign(trading_hour_index=weak["trading_hour_index"] - 20)
    apart = decide_candidate_windows(pd.concat([earlier, ramp]), PARAMS)
    assert list(apart["decision"]) == ["dismissed", "reported"]
    assert apart.iloc[1]["window_start"] == START + pd.Timedelta(hours=8)


def test_decisions_are_deterministic_and_typed_even_when_empty() -> None:
    hours = pd.concat(
        [
            _window([3.0, 3.0, 0.0, 0.0, 0.0, 0.0]).assign(candidate_window_id=f"CW-{i}")
            for i in range(3)
        ]
    )
    first = decide_candidate_windows(hours, PARAMS)
    second = decide_candidate_windows(hours.sample(frac=1.0, random_state=1), PARAMS)
    pd.testing.assert_frame_equal(first, second)
    empty = decide_candidate_windows(hours.iloc[0:0], PARAMS)
    assert list(empty.columns) == list(DECISION_COLUMNS)
    assert str(empty["window_start"].dtype).startswith("datetime64")


def test_mock_version_reports_narrative_windows_as_seen_before_as_of() -> None:
    narratives = pd.DataFrame(
        {
            "store_id": ["ST-001", "ST-002", "ST-003"],
            "sku": ["SKU-001", "SKU-001", "SKU-001"],
            "start_ts": pd.to_datetime(
                ["2025-08-07 10:00", "2025-08-07 10:00", "2025-08-09 00:00"]
            ),
            "end_ts": pd.to_datetime(["2025-08-07 14:00", "2025-08-08 10:00", "2025-08-10 00:00"]),
            "magnitude": [1.0, -0.9, 1.0],
        }
    )
    decisions = narrative_windows(narratives, pd.Timestamp("2025-08-07 20:00"), PARAMS)
    assert list(decisions["store_id"]) == ["ST-001", "ST-002"]
    closed, open_drop = decisions.iloc[0], decisions.iloc[1]
    assert closed["window_end"] == pd.Timestamp("2025-08-07 14:00")
    assert closed["closure_ts"] == pd.Timestamp("2025-08-07 17:00")
    assert open_drop["direction"] == "down"
    assert pd.isna(open_drop["window_end"])
