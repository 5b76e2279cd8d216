"""Anomaly classifier decisions on candidate windows (the model-like part of detection).

SQL scores every hour, runs the slow CUSUMs and groups elevated hours into candidate windows;
the functions here decide, per window, whether and when it becomes a report, where it
started and where it ended. An onset is confirmed by the sharp detector (a CUSUM over the
window's hours) or by a slow CUSUM's alarm, whichever comes first; one window gives at most
one report, so the detectors never report one anomaly twice. They know nothing about dbt:
plain pandas in, plain pandas out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

DECISION_COLUMNS: dict[str, str] = {
    "store_id": "string",
    "sku": "string",
    "direction": "string",
    "first_elevated_ts": "datetime64[us]",
    "decision": "string",
    "onset_confirmed_ts": "datetime64[us]",
    "window_start": "datetime64[us]",
    "window_end": "datetime64[us]",
    "closure_ts": "datetime64[us]",
    "onset_evidence": "float64",
    "onset_detector": "string",
    # The sharp onset at the store's lower bar (store_onset_evidence), which reports of the
    # same store can corroborate (anomaly_classifier_decisions): its confirmation, span and
    # evidence; missing where the window never reached that bar, and in the mock.
    "weak_onset_confirmed_ts": "datetime64[us]",
    "weak_window_start": "datetime64[us]",
    "weak_window_end": "datetime64[us]",
    "weak_onset_evidence": "float64",
    # The digest of the hours a decision was made from (mrs.models.kept_decisions); missing
    # in the mock, which keeps nothing.
    "window_digest": "UInt64",
}
HOUR = pd.Timedelta(hours=1)
# The slow CUSUMs SQL runs (anomaly_candidate_hours), fastest first: a window's columns
# is_<name>_alarm and <name>_run_start_index, and the reference each one subtracts.
SLOW_DETECTORS = ("drift", "shift")


@dataclass(frozen=True)
class ClassifierParams:
    """Thresholds of the classifier (project vars anomaly_*), in z units of the baseline."""

    onset_evidence: float = 5.0
    # The sharp evidence that is a report where other products of the store report at the
    # same hours (a store-wide cause: a power cut, a closure, a local event).
    store_onset_evidence: float = 4.0
    onset_reference_z: float = 1.0
    onset_hours: int = 2
    closure_hours: int = 4
    backdate_reference_z: float = 0.75
    backdate_shift_fraction: float = 0.33
    onset_max_hours: int = 8
    single_hour_z: float = 6.0
    burst_z: float = 5.5
    drift_reference_z: float = 0.5
    shift_reference_z: float = 0.25

    def slow_reference(self, detector: str) -> float:
        return {"drift": self.drift_reference_z, "shift": self.shift_reference_z}[detector]


@dataclass(frozen=True)
class _Window:
    """One candidate window's hours in order, as numpy arrays (pandas per window is slow)."""

    store_id: str
    sku: str
    direction: str
    first_elevated_ts: np.datetime64
    is_window_closed: bool
    ts: np.ndarray
    index: np.ndarray
    in_window: np.ndarray
    elevated: np.ndarray
    closure: np.ndarray
    z: np.ndarray
    # The sharp detector's z (the hour's day innovation) and the slow detectors'
    # signed, clipped step; per slow detector its alarm hours and the index its run began.
    onset_z: np.ndarray
    drift_step: np.ndarray
    alarms: dict[str, np.ndarray]
    run_starts: dict[str, np.ndarray]


def decide_candidate_windows(hours: pd.DataFrame, params: ClassifierParams) -> pd.DataFrame:
    """One decision per candidate window.

    `hours` holds, per candidate_window_id, its trading hours in order (trading_hour_index)
    with is_in_window, is_elevated, is_closure_hour, residual_units, variance_units,
    residual_z, plus the window's store_id, sku, direction, first_elevated_ts and
    is_window_closed.
    """
    if hours.empty:
        return _typed([])
    ordered = hours.sort_values(
        [
            "store_id",
            "sku",
            "direction",
            "first_elevated_ts",
            "candidate_window_id",
            "trading_hour_index",
        ],
        kind="stable",
    ).reset_index(drop=True)
    columns = {
        "store_id": ordered["store_id"].to_numpy(dtype=object),
        "sku": ordered["sku"].to_numpy(dtype=object),
        "direction": ordered["direction"].to_numpy(dtype=object),
        "first_elevated_ts": ordered["first_elevated_ts"].to_numpy(dtype="datetime64[us]"),
        "candidate_window_id": ordered["candidate_window_id"].to_numpy(dtype=object),
        "is_window_closed": _flags(ordered["is_window_closed"]),
        "ts": ordered["sales_ts"].to_numpy(dtype="datetime64[us]"),
        "index": ordered["trading_hour_index"].to_numpy(dtype=np.int64),
        "in_window": _flags(ordered["is_in_window"]),
        "elevated": _flags(ordered["is_elevated"]),
        "closure": _flags(ordered["is_closure_hour"]),
        "z": ordered["residual_z"].to_numpy(dtype=float),
        "onset_z": ordered["onset_z"].to_numpy(dtype=float),
        "drift_step": ordered["drift_step"].to_numpy(dtype=float),
    }
    for detector in SLOW_DETECTORS:
        columns[f"{detector}_alarm"] = _flags(ordered[f"is_{detector}_alarm"])
        columns[f"{detector}_run_start"] = ordered[f"{detector}_run_start_index"].to_numpy(
            dtype=np.int64
        )
    new_series = _changes(columns, ("store_id", "sku", "direction"))
    new_window = new_series | _changes(columns, ("first_elevated_ts", "candidate_window_id"))
    starts = np.flatnonzero(new_window)
    ends = np.append(starts[1:], len(ordered))
    decisions = []
    carried: _Window | None = None
    for first, last in zip(starts, ends, strict=True):
        if new_series[first]:
            carried = None
        window = _Window(
            store_id=columns["store_id"][first],
            sku=columns["sku"][first],
            direction=columns["direction"][first],
            first_elevated_ts=columns["first_elevated_ts"][first],
            is_window_closed=bool(columns["is_window_closed"][first]),
            ts=columns["ts"][first:last],
            index=columns["index"][first:last],
            in_window=columns["in_window"][first:last],
            elevated=columns["elevated"][first:last],
            closure=columns["closure"][first:last],
            z=columns["z"][first:last],
            onset_z=columns["onset_z"][first:last],
            drift_step=columns["drift_step"][first:last],
            alarms={d: columns[f"{d}_alarm"][first:last] for d in SLOW_DETECTORS},
            run_starts={d: columns[f"{d}_run_start"][first:last] for d in SLOW_DETECTORS},
        )
        merged = _carry_over(carried, window, params)
        decision = _decide_window(merged, params)
        decisions.append(decision)
        # A dismissed window may be the weak beginning of the next one (a slow ramp
        # that dipped back inside for a few hours): keep its hours for back-dating.
        carried = merged if decision["decision"] == "dismissed" else None
    return _typed(decisions)


def _carry_over(carried: _Window | None, window: _Window, params: ClassifierParams) -> _Window:
    """The window's hours, preceded by a dismissed window that ended just before it.

    Only a dismissed window whose last elevated hour lies within two closure periods of this
    window's first elevated hour is carried; its closure no longer counts and the hours
    between the two are part of the window, so evidence accumulates across both.
    """
    if carried is None:
        return window
    carried_elevated = carried.index[carried.elevated]
    if carried_elevated.size == 0:
        return window
    own = window.index[window.in_window]
    if own.size and own.min() - carried_elevated.max() > 2 * (params.closure_hours + 1):
        return window
    earlier = carried.index < window.index.min()
    carried_first = carried.index[carried.in_window].min(initial=np.iinfo(np.int64).max)
    index = np.concatenate([carried.index[earlier], window.index])
    order = np.argsort(index, kind="stable")

    def joined(before: np.ndarray, after: np.ndarray) -> np.ndarray:
        return np.concatenate([before[earlier], after])[order]

    return _Window(
        store_id=window.store_id,
        sku=window.sku,
        direction=window.direction,
        first_elevated_ts=window.first_elevated_ts,
        is_window_closed=window.is_window_closed,
        ts=joined(carried.ts, window.ts),
        index=index[order],
        in_window=(index >= carried_first)[order],
        elevated=joined(carried.elevated, window.elevated),
        closure=np.isin(index, window.index[window.closure])[order],
        z=joined(carried.z, window.z),
        onset_z=joined(carried.onset_z, window.onset_z),
        drift_step=joined(carried.drift_step, window.drift_step),
        alarms={d: joined(carried.alarms[d], window.alarms[d]) for d in SLOW_DETECTORS},
        run_starts={d: joined(carried.run_starts[d], window.run_starts[d]) for d in SLOW_DETECTORS},
    )


def _decide_window(window: _Window, params: ClassifierParams) -> dict[str, object]:
    sign = 1.0 if window.direction == "up" else -1.0
    decision: dict[str, object] = {
        "store_id": window.store_id,
        "sku": window.sku,
        "direction": window.direction,
        "first_elevated_ts": window.first_elevated_ts,
        "decision": "dismissed" if window.is_window_closed else "pending",
        "onset_confirmed_ts": pd.NaT,
        "window_start": pd.NaT,
        "window_end": pd.NaT,
        "closure_ts": pd.NaT,
        "onset_evidence": math.nan,
        "onset_detector": None,
        "weak_onset_confirmed_ts": pd.NaT,
        "weak_window_start": pd.NaT,
        "weak_window_end": pd.NaT,
        "weak_onset_evidence": math.nan,
    }
    ts = window.ts
    closure = np.flatnonzero(window.closure)
    closure_at = int(closure[0]) if closure.size else None
    if closure_at is not None:
        decision["closure_ts"] = ts[closure_at]
    # A carried window was dismissed: confirmation comes no earlier than this window's own
    # first elevated hour, so it is the same whichever tick decides.
    own_from = int(np.searchsorted(ts, window.first_elevated_ts))
    weak = _find_onset(
        window.index,
        window.in_window,
        window.elevated,
        window.onset_z,
        sign,
        replace(params, onset_evidence=params.store_onset_evidence),
        own_from,
    )
    if weak is not None:
        segment_start, confirm, evidence = weak
        start, end = _sharp_span(window, sign, params, segment_start, confirm, closure_at)
        decision.update(
            weak_onset_confirmed_ts=ts[confirm],
            weak_window_start=ts[start],
            weak_window_end=pd.NaT if end is None else ts[end] + HOUR,
            weak_onset_evidence=evidence,
        )
    onset = _first_onset(window, sign, params, own_from)
    if onset is None:
        return decision
    detector, segment_start, confirm, onset_evidence = onset
    if detector == "sharp":
        start, end = _sharp_span(window, sign, params, segment_start, confirm, closure_at)
    else:
        # A slow CUSUM's own change-point estimate: the start of its run, and the end that
        # keeps the most evidence above its reference.
        end_evidence = window.drift_step - params.slow_reference(detector)
        start = _best_start(end_evidence, segment_start, confirm)
        end = None
        if closure_at is not None:
            end = _best_end(end_evidence, start, confirm, closure_at)
    decision.update(
        decision="reported",
        onset_confirmed_ts=ts[confirm],
        window_start=ts[start],
        window_end=pd.NaT if end is None else ts[end] + HOUR,
        onset_evidence=onset_evidence,
        onset_detector=detector,
    )
    return decision


def _sharp_span(
    window: _Window,
    sign: float,
    params: ClassifierParams,
    segment_start: int,
    confirm: int,
    closure_at: int | None,
) -> tuple[int, int | None]:
    """Start and last hour (None while open) of a sharp onset's report.

    The report spans the stretch of hours with the largest total evidence above the
    reference around the onset (a CUSUM change-point estimate). An hour counts towards the
    start when it deviates by more than the reference and by more than a fraction of the
    onset's typical deviation: a strong shift is not back-dated over chance dips, a weak or
    slowly growing one still reaches its beginning. The end keeps the fixed reference: a
    fading tail is still part of the report.
    """
    z = window.z
    onset_shift = float(np.median(sign * z[segment_start : confirm + 1]))
    reference = max(params.backdate_reference_z, params.backdate_shift_fraction * onset_shift)
    start = _best_start(sign * z - reference, segment_start, confirm)
    if closure_at is None:
        return start, None
    end_evidence = sign * z - params.backdate_reference_z
    return start, _best_end(end_evidence, start, confirm, closure_at)


def _first_onset(
    window: _Window, sign: float, params: ClassifierParams, own_from: int
) -> tuple[str, int, int, float] | None:
    """The earliest confirmed onset of any detector: (detector, run start, confirmation,
    evidence). On the same hour the sharp detector wins, then the faster slow one."""
    onsets: list[tuple[int, int, str, int, float]] = []
    sharp = _find_onset(
        window.index, window.in_window, window.elevated, window.onset_z, sign, params, own_from
    )
    if sharp is not None:
        onsets.append((sharp[1], 0, "sharp", sharp[0], sharp[2]))
    for rank, detector in enumerate(SLOW_DETECTORS, start=1):
        alarms = np.flatnonzero(window.alarms[detector] & window.in_window)
        alarms = alarms[alarms >= own_from]
        if alarms.size == 0:
            continue
        confirm = int(alarms[0])
        if window.run_starts[detector][confirm] < window.index[0]:
            # The run began before this window could see it (before the previous window of
            # the series closed): its evidence is that earlier report's episode, and a new
            # peak after a strong anomaly is no new anomaly.
            continue
        run_start = int(np.searchsorted(window.index, window.run_starts[detector][confirm]))
        run_start = min(run_start, confirm)
        evidence = float(
            np.sum(window.drift_step[run_start : confirm + 1] - params.slow_reference(detector))
        )
        onsets.append((confirm, rank, detector, run_start, evidence))
    if not onsets:
        return None
    confirm, _, detector, run_start, evidence = min(onsets)
    return detector, run_start, confirm, evidence


def _find_onset(
    index: np.ndarray,
    in_window: np.ndarray,
    elevated: np.ndarray,
    z: np.ndarray,
    sign: float,
    params: ClassifierParams,
    confirm_from: int = 0,
) -> tuple[int, int, float] | None:
    """First hour where the window's evidence confirms a sharp onset.

    One-sided CUSUM over the window's hours with a memory of `onset_max_hours`: the
    evidence at an hour is the largest sum of (z - reference) over a run of at most that
    many hours ending there, the run starting after the last minimum of the cumulative sum
    (where a CUSUM restarts). An onset needs evidence >= onset_evidence and, for
    persistence, at least onset_hours elevated hours in the run; an hour at single_hour_z
    confirms alone (a deviation that no chance pair of hours reaches either), and so does a
    burst: a run of elevated hours whose combined z reaches burst_z. Longer,
    milder shifts are for the slow detectors, whose sums are scaled for hours that move
    together; a sharp run is kept short so a day-long wobble of correlated hours cannot add
    up here. Returns
    (run start, confirmation, evidence).
    """
    positions = np.flatnonzero(in_window)
    if positions.size == 0:
        return None
    first = int(positions[0])
    signed = sign * z[first:]
    steps = signed - params.onset_reference_z
    partial = np.concatenate(([0.0], np.cumsum(steps)))
    total = np.concatenate(([0.0], np.cumsum(signed)))
    elevated_before = np.concatenate(([0], np.cumsum(elevated[first:].astype(np.int64))))
    for offset in range(max(confirm_from - first, 0), len(steps)):
        low = max(0, offset + 1 - params.onset_max_hours)
        candidates = partial[low : offset + 1]
        # The latest minimum: a CUSUM restarts each time the sum falls to its lowest.
        start = low + len(candidates) - 1 - int(np.argmin(candidates[::-1]))
        evidence = float(partial[offset + 1] - partial[start])
        persistent = elevated_before[offset + 1] - elevated_before[start] >= params.onset_hours
        extreme = sign * z[first + offset] >= params.single_hour_z
        if (evidence >= params.onset_evidence and persistent) or extreme:
            return first + start, first + offset, evidence
        burst = _burst_start(total, elevated_before, low, offset, params)
        if burst is not None:
            return first + burst, first + offset, float(partial[offset + 1] - partial[burst])
    return None


def _burst_start(
    total: np.ndarray, elevated_before: np.ndarray, low: int, offset: int, params: ClassifierParams
) -> int | None:
    """The start of a short burst ending at `offset`: a run of at least onset_hours hours, all
    elevated, whose combined z (sum over the square root of its length) reaches burst_z.
    A short strong anomaly (two hours at 4 each, 5.7 combined) is found here, where the
    CUSUM's reference would take 9 of its 11; two chance hours of 4 are about as rare as one
    of 5.7."""
    for start in range(offset + 1 - params.onset_hours, low - 1, -1):
        length = offset + 1 - start
        if elevated_before[offset + 1] - elevated_before[start] < length:
            return None  # a run with an hour that is not elevated is no burst
        if (total[offset + 1] - total[start]) / np.sqrt(length) >= params.burst_z:
            return start
    return None


def _best_start(evidence: np.ndarray, segment_start: int, confirm: int) -> int:
    """Start (at or before the onset segment) maximising the evidence up to the confirmation."""
    totals = np.cumsum(evidence[: confirm + 1][::-1])[::-1]  # totals[p] = sum(p..confirm)
    candidates = totals[: segment_start + 1]
    best = np.max(candidates)
    # Latest start among equal totals: do not stretch a report over hours that add nothing.
    return int(np.flatnonzero(candidates == best)[-1])


def _best_end(evidence: np.ndarray, start: int, confirm: int, closure: int) -> int:
    """Last hour (from the confirmation up to closure) maximising the evidence from start."""
    totals = np.cumsum(evidence[start : closure + 1])
    offset = confirm - start
    candidates = totals[offset:]
    best = np.max(candidates)
    return int(start + offset + np.flatnonzero(candidates == best)[0])


def narrative_windows(
    narratives: pd.DataFrame, as_of: pd.Timestamp, params: ClassifierParams
) -> pd.DataFrame:
    """Mock version: the windows of master_narratives, as a perfect detector would see them.

    Each narrative row is confirmed `onset_hours` after its start and closes
    `closure_hours` after its end, but only what has happened before `as_of` is decided.
    """
    as_of = pd.Timestamp(as_of)
    decisions = []
    for row in narratives.sort_values(["store_id", "sku", "start_ts"]).itertuples():
        start, end = pd.Timestamp(row.start_ts), pd.Timestamp(row.end_ts)
        if start >= as_of:
            continue
        magnitude = row.magnitude if row.magnitude == row.magnitude else 1.0
        confirmed = start + (params.onset_hours - 1) * HOUR
        closure = end + (params.closure_hours - 1) * HOUR
        reported = confirmed < as_of
        closed = reported and closure < as_of
        decisions.append(
            {
                "store_id": row.store_id,
                "sku": row.sku,
                "direction": "up" if magnitude >= 0 else "down",
                "first_elevated_ts": start,
                "decision": "reported" if reported else "pending",
                "onset_confirmed_ts": confirmed if reported else pd.NaT,
                "window_start": start if reported else pd.NaT,
                "window_end": end if closed else pd.NaT,
                "closure_ts": closure if closed else pd.NaT,
                "onset_evidence": math.nan,
                "onset_detector": "narrative" if reported else None,
                "weak_onset_confirmed_ts": pd.NaT,
                "weak_window_start": pd.NaT,
                "weak_window_end": pd.NaT,
                "weak_onset_evidence": math.nan,
            }
        )
    return _typed(decisions)


def _changes(columns: dict[str, np.ndarray], names: tuple[str, ...]) -> np.ndarray:
    """True on the first row and wherever any of the named (sorted) columns changes."""
    changed = np.zeros(len(columns[names[0]]), dtype=bool)
    changed[0] = True
    for name in names:
        values = columns[name]
        changed[1:] |= values[1:] != values[:-1]
    return changed


def _flags(column: pd.Series) -> np.ndarray:
    """A boolean column as a numpy array, missing values as False."""
    return column.astype("boolean").fillna(False).to_numpy(dtype=bool)


def _typed(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(DECISION_COLUMNS))
    return frame.astype(DECISION_COLUMNS)
