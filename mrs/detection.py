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


def decide_candidate_windows(hours: pd.DataFrame, params: ClassifierParams) -> pd.DataFrame:
    """One decision per candidate window.

    `hours` holds, per candidate_window_id, its trading hours in order (trading_hour_index)
    with is_in_window, is_elevated, is_closure_hour, residual_units, variance_units,
    residual_z, plus the window's store_id, sku, direction, first_elevated_ts and
    is_window_closed.
    """
    if hours.empty:
        return _typed([])
    ordered = hours.sort_values(["candidate_window_id", "trading_hour_index"], kind="stable")
    decisions = [
        _decide_window(group, params)
        for _, group in ordered.groupby("candidate_window_id", sort=True)
    ]
    return _typed(decisions)


def _decide_window(group: pd.DataFrame, params: ClassifierParams) -> dict[str, object]:
    first = group.iloc[0]
    sign = 1.0 if first["direction"] == "up" else -1.0
    decision: dict[str, object] = {
        "store_id": first["store_id"],
        "sku": first["sku"],
        "direction": first["direction"],
        "first_elevated_ts": first["first_elevated_ts"],
        "decision": "dismissed" if bool(first["is_window_closed"]) else "pending",
        "onset_confirmed_ts": pd.NaT,
        "window_start": pd.NaT,
        "window_end": pd.NaT,
        "closure_ts": pd.NaT,
        "onset_evidence": math.nan,
    }
    ts = group["sales_ts"].to_numpy()
    index = group["trading_hour_index"].to_numpy()
    in_window = _flags(group["is_in_window"])
    elevated = _flags(group["is_elevated"])
    z = group["residual_z"].to_numpy(dtype=float)

    closure = np.flatnonzero(_flags(group["is_closure_hour"]))
    if closure.size:
        decision["closure_ts"] = ts[int(closure[0])]
    onset = _find_onset(index, in_window, elevated, z, sign, params)
    if onset is None:
        return decision
    segment_start, confirm, onset_evidence = onset
    # The report spans the stretch of hours with the largest total evidence above the
    # reference around the onset (a CUSUM change-point estimate).
    evidence = sign * z - params.backdate_reference_z
    start = _best_start(evidence, segment_start, confirm)
    decision.update(
        decision="reported",
        onset_confirmed_ts=ts[confirm],
        window_start=ts[start],
        onset_evidence=onset_evidence,
    )
    if closure.size:
        decision["window_end"] = ts[_best_end(evidence, start, confirm, int(closure[0]))] + HOUR
    return decision


def _find_onset(
    index: np.ndarray,
    in_window: np.ndarray,
    elevated: np.ndarray,
    z: np.ndarray,
    sign: float,
    params: ClassifierParams,
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
        if evidence >= params.onset_evidence and elevated_hours >= params.onset_hours:
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


def _flags(column: pd.Series) -> np.ndarray:
    """A boolean column as a numpy array, missing values as False."""
    return column.astype("boolean").fillna(False).to_numpy(dtype=bool)


def _typed(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(DECISION_COLUMNS))
    return frame.astype(DECISION_COLUMNS)
