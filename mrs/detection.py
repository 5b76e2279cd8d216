"""Anomaly classifier decisions on candidate windows (the model-like part of detection).

SQL scores every hour and groups elevated hours into candidate windows; the functions here
decide, per window, whether and when it becomes a report, where it started and where it
ended. They know nothing about dbt: plain pandas in, plain pandas out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
}
HOUR = pd.Timedelta(hours=1)


@dataclass(frozen=True)
class ClassifierParams:
    """Thresholds of the classifier (project vars anomaly_*), in z units of the baseline."""

    onset_evidence: float = 5.0
    onset_reference_z: float = 1.0
    onset_hours: int = 2
    closure_hours: int = 4
    backdate_reference_z: float = 0.75
    backdate_shift_fraction: float = 0.33


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
    }
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
    return _Window(
        store_id=window.store_id,
        sku=window.sku,
        direction=window.direction,
        first_elevated_ts=window.first_elevated_ts,
        is_window_closed=window.is_window_closed,
        ts=np.concatenate([carried.ts[earlier], window.ts])[order],
        index=index[order],
        in_window=(index >= carried_first)[order],
        elevated=np.concatenate([carried.elevated[earlier], window.elevated])[order],
        closure=np.isin(index, window.index[window.closure])[order],
        z=np.concatenate([carried.z[earlier], window.z])[order],
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
    }
    ts, index, z = window.ts, window.index, window.z
    closure = np.flatnonzero(window.closure)
    if closure.size:
        decision["closure_ts"] = ts[int(closure[0])]
    # A carried window was dismissed: confirmation comes no earlier than this window's own
    # first elevated hour, so it is the same whichever tick decides.
    own_from = int(np.searchsorted(ts, window.first_elevated_ts))
    onset = _find_onset(index, window.in_window, window.elevated, z, sign, params, own_from)
    if onset is None:
        return decision
    segment_start, confirm, onset_evidence = onset
    # The report spans the stretch of hours with the largest total evidence above the
    # reference around the onset (a CUSUM change-point estimate). An hour counts towards the
    # start when it deviates by more than the reference and by more than a fraction of the
    # onset's typical deviation: a strong shift is not back-dated over chance dips, a weak
    # or slowly growing one still reaches its beginning.
    onset_shift = float(np.median(sign * z[segment_start : confirm + 1]))
    reference = max(params.backdate_reference_z, params.backdate_shift_fraction * onset_shift)
    evidence = sign * z - reference
    start = _best_start(evidence, segment_start, confirm)
    decision.update(
        decision="reported",
        onset_confirmed_ts=ts[confirm],
        window_start=ts[start],
        onset_evidence=onset_evidence,
    )
    if closure.size:
        # The end keeps the fixed reference: a fading tail is still part of the report.
        end_evidence = sign * z - params.backdate_reference_z
        decision["window_end"] = ts[_best_end(end_evidence, start, confirm, int(closure[0]))] + HOUR
    return decision


def _find_onset(
    index: np.ndarray,
    in_window: np.ndarray,
    elevated: np.ndarray,
    z: np.ndarray,
    sign: float,
    params: ClassifierParams,
    confirm_from: int = 0,
) -> tuple[int, int, float] | None:
    """First hour where the window's evidence confirms an onset.

    One-sided CUSUM over the window's hours: evidence S grows by (z - reference) per hour
    and restarts at zero; an onset needs S >= onset_evidence and, for persistence, at least
    onset_hours elevated hours since the restart. Returns (restart, confirmation, S).
    """
    evidence = 0.0
    segment_start = -1
    elevated_hours = 0
    for position in range(len(index)):
        if not in_window[position]:
            continue
        step = sign * z[position] - params.onset_reference_z
        if evidence + step <= 0:
            evidence, segment_start, elevated_hours = 0.0, -1, 0
            continue
        if segment_start < 0:
            segment_start = position
        evidence += step
        elevated_hours += int(elevated[position])
        if (
            position >= confirm_from
            and evidence >= params.onset_evidence
            and elevated_hours >= params.onset_hours
        ):
            return segment_start, position, evidence
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
