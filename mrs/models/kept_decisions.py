"""Which candidate windows a build decides again, and which decisions it keeps (issue 18).

A window's decision depends only on its own hours and, when the window before it in its
series and direction was dismissed and ended close to it, on that window's hours too (the
classifier carries a dismissed window into the next one, mrs.models.detection). So a build
keeps every decision of a series up to its first window whose hours changed (a digest of
the hours the classifier reads, and of the classifier's code and thresholds), and decides
again from the first window of the chain of carried windows that leads to it: the work
grows with the new and changed windows, not with the history.
"""

from __future__ import annotations

import hashlib
import inspect

import duckdb
import pandas as pd

from mrs.models import detection
from mrs.models.detection import DECISION_COLUMNS, ClassifierParams, decide_candidate_windows

SERIES = ["store_id", "sku", "direction"]
KEY = [*SERIES, "first_elevated_ts"]

# Per candidate window: the order-free digest of the hours the classifier reads (each row
# holds its trading hour index, so no two rows of a window hash alike; each row's hash hashed
# again, as the macro mrs_row_hash does, which says why), the first hour of
# the window proper and the last elevated hour (what decides whether a dismissed window is
# carried into the next one).
_WINDOWS_SQL = """
select
    store_id,
    sku,
    direction,
    first_elevated_ts,
    hash(
        bit_xor(hash(hash(
            candidate_window_id, is_window_closed, sales_ts, trading_hour_index,
            is_in_window, is_elevated, is_closure_hour, residual_z, onset_z, drift_step,
            is_drift_alarm, drift_run_start_index, is_shift_alarm, shift_run_start_index
        ))),
        '{code_digest}'
    ) as window_digest,
    min(trading_hour_index) filter (where is_in_window) as first_in_window_index,
    max(trading_hour_index) filter (where is_elevated) as last_elevated_index
from candidate_hours
group by store_id, sku, direction, first_elevated_ts
"""

# The series and directions with a window new, changed or gone since the kept decisions, and
# their windows and kept decisions: compared in SQL, so only those series reach pandas (a
# comparison of every window in pandas cost 0.15 s of a one-tick build at 12 months).
_CHANGED_SERIES_SQL = """
create temporary table mrs_changed_series as
select distinct
    coalesce(windows.store_id, kept.store_id) as store_id,
    coalesce(windows.sku, kept.sku) as sku,
    coalesce(windows.direction, kept.direction) as direction
from mrs_windows as windows
full join {kept} as kept
    on
        windows.store_id = kept.store_id
        and windows.sku = kept.sku
        and windows.direction = kept.direction
        and windows.first_elevated_ts = kept.first_elevated_ts
where windows.window_digest is distinct from kept.window_digest
"""

_CHANGED_WINDOWS_SQL = """
select windows.*
from mrs_windows as windows
semi join mrs_changed_series as changed
    on
        windows.store_id = changed.store_id
        and windows.sku = changed.sku
        and windows.direction = changed.direction
"""

_KEPT_SQL = """
select kept.store_id, kept.sku, kept.direction, kept.first_elevated_ts, kept.decision,
    kept.window_digest
from {kept} as kept
semi join mrs_changed_series as changed
    on
        kept.store_id = changed.store_id
        and kept.sku = changed.sku
        and kept.direction = changed.direction
"""

_HOURS_TO_DECIDE_SQL = """
select candidate_hours.*
from candidate_hours
inner join mrs_decided_from as decided_from
    on
        candidate_hours.store_id = decided_from.store_id
        and candidate_hours.sku = decided_from.sku
        and candidate_hours.direction = decided_from.direction
        and candidate_hours.first_elevated_ts >= decided_from.decided_from_ts
"""


def classifier_digest(params: ClassifierParams) -> str:
    """The classifier's code and thresholds: a decision made with others is made again."""
    text = repr(params) + inspect.getsource(detection)
    return hashlib.md5(text.encode()).hexdigest()


def decide_kept_windows(
    session: duckdb.DuckDBPyConnection,
    candidate_hours: duckdb.DuckDBPyRelation,
    kept_table: str | None,
    params: ClassifierParams,
) -> pd.DataFrame:
    """The decisions this build writes: every window's when nothing is kept (`kept_table`
    None), else the decisions of the windows decided again and, per series and direction
    decided again, one boundary row (no decision) whose first_elevated_ts is where its kept
    decisions are replaced from (the incremental strategy replace_series_from)."""
    windows_sql = _WINDOWS_SQL.format(code_digest=classifier_digest(params))
    if kept_table is None:
        windows = candidate_hours.query("candidate_hours", windows_sql).df()
        return _with_digests(decide_candidate_windows(candidate_hours.df(), params), windows)
    candidate_hours.query("candidate_hours", f"create temporary table mrs_windows as {windows_sql}")
    try:
        session.execute(_CHANGED_SERIES_SQL.format(kept=kept_table))
        windows = session.query(_CHANGED_WINDOWS_SQL).df()
        kept = session.query(_KEPT_SQL.format(kept=kept_table)).df()
    finally:
        session.execute("drop table if exists mrs_windows")
        session.execute("drop table if exists mrs_changed_series")
    plan = decision_plan(windows, kept, params.closure_hours)
    decided_from = plan.loc[plan["decided_from_ts"].notna(), [*SERIES, "decided_from_ts"]]
    if decided_from.empty:
        decisions = decide_candidate_windows(pd.DataFrame(), params)
    else:
        session.register("mrs_decided_from", decided_from)
        try:
            hours = candidate_hours.query("candidate_hours", _HOURS_TO_DECIDE_SQL).df()
        finally:
            session.unregister("mrs_decided_from")
        decisions = decide_candidate_windows(hours, params)
    boundaries = plan[SERIES].assign(first_elevated_ts=plan["replaced_from_ts"])
    return pd.concat(
        [_with_digests(decisions, windows), _typed(boundaries)], ignore_index=True
    ).astype(DECISION_COLUMNS)


def decision_plan(windows: pd.DataFrame, kept: pd.DataFrame, closure_hours: int) -> pd.DataFrame:
    """Per series and direction with a changed, new or vanished window: where its kept
    decisions are replaced from (`replaced_from_ts`) and from which window it is decided
    again (`decided_from_ts`, missing when no current window is left to decide).

    p is the first window whose digest differs from the kept one's (or that only one side
    has); q the first current window at or after p. Every window before p is unchanged, and
    so is its kept decision. q is decided from the first window of its chain: walking back
    while the window before was dismissed and its last elevated hour lies within two
    closure periods of the next one's first hour, which is when the classifier carries it
    (an unknown hour counts as carried: starting earlier is never wrong).
    """
    windows = windows.astype({"window_digest": "UInt64"})
    kept = kept.astype({"window_digest": "UInt64"})
    merged = windows.merge(kept, on=KEY, how="outer", suffixes=("", "_kept"), indicator=True)
    # A missing digest on either side differs.
    differs = (merged["_merge"] != "both") | (
        merged["window_digest"] != merged["window_digest_kept"]
    ).fillna(True).astype(bool)
    first_changed = (
        merged.loc[differs].groupby(SERIES, as_index=False)["first_elevated_ts"].min()
    ).rename(columns={"first_elevated_ts": "changed_from_ts"})
    if first_changed.empty:
        return pd.DataFrame(columns=[*SERIES, "replaced_from_ts", "decided_from_ts"])
    current = (
        merged.loc[merged["_merge"] != "right_only"]
        .merge(first_changed, on=SERIES)
        .sort_values(KEY, kind="stable")
        .reset_index(drop=True)
    )
    by_series = current.groupby(SERIES, sort=False)
    previous_decision = by_series["decision"].shift()
    previous_last_elevated = by_series["last_elevated_index"].shift()
    gap = current["first_in_window_index"] - previous_last_elevated
    carried = (previous_decision == "dismissed") & ~(gap > 2 * (closure_hours + 1))
    current["chain_start_ts"] = current["first_elevated_ts"].where(~carried)
    current["chain_start_ts"] = current.groupby(SERIES, sort=False)["chain_start_ts"].ffill()
    later = current.loc[current["first_elevated_ts"] >= current["changed_from_ts"]]
    decided = later.drop_duplicates(SERIES)[[*SERIES, "chain_start_ts"]]  # q, in key order
    plan = first_changed.merge(decided, on=SERIES, how="left").rename(
        columns={"chain_start_ts": "decided_from_ts"}
    )
    plan["replaced_from_ts"] = plan[["changed_from_ts", "decided_from_ts"]].min(axis=1)
    return plan[[*SERIES, "replaced_from_ts", "decided_from_ts"]]


def _with_digests(decisions: pd.DataFrame, windows: pd.DataFrame) -> pd.DataFrame:
    """The decisions with the digest of the hours each was decided from."""
    digests = windows[[*KEY, "window_digest"]]
    return (
        decisions.drop(columns="window_digest")
        .merge(digests, on=KEY, how="left")
        .astype(DECISION_COLUMNS)
    )


def _typed(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.reindex(columns=list(DECISION_COLUMNS)).astype(DECISION_COLUMNS)
