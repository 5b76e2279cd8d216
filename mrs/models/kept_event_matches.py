"""Which events' shapes a build matches again, and which matches it keeps (issue 18).

An event's match depends only on its members' hours (event_shape_hours: each member's
trading hours with their units and expectation), the library in force, the similarity
threshold and the code that pools and matches. So each match row carries `row_digest`, the
digest of all of them; a build pools and matches again only the events whose digest it does
not keep (an active member's window grows each tick, a restated hour moves its units, a new
member joins) and hands back every event's row, so the incremental strategy
replace_changed_rows writes the changed rows only: the Python work grows with the events that
changed, not with the history's events.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable

import duckdb
import pandas as pd

from mrs.models import clustering, features

ROW_DIGEST = "row_digest"

# Per event: the order-free digest of its members' hours (each row's hash hashed again, as
# the macro mrs_row_hash does, which says why), with the event id and `salt` (the code, the
# library and the threshold) folded in.
_EVENT_DIGESTS_SQL = """
select
    report_group_id,
    hash(
        report_group_id,
        bit_xor(hash(hash(report_id, sales_ts, actual_units, expected_units))),
        '{salt}'
    ) as row_digest
from event_hours
group by report_group_id
"""

_CHANGED_EVENTS_SQL = """
create temporary table mrs_changed_events as
select digests.report_group_id
from mrs_event_digests as digests
anti join {kept} as kept
    on digests.report_group_id = kept.report_group_id and digests.row_digest = kept.row_digest
"""

_CHANGED_HOURS_SQL = """
select event_hours.*
from event_hours
semi join mrs_changed_events as changed on event_hours.report_group_id = changed.report_group_id
"""

# The digests of the events matched again (the kept rows carry their own).
_CHANGED_DIGESTS_SQL = """
select digests.*
from mrs_event_digests as digests
semi join mrs_changed_events as changed on digests.report_group_id = changed.report_group_id
"""

_KEPT_SQL = """
select kept.*
from {kept} as kept
semi join mrs_event_digests as digests
    on kept.report_group_id = digests.report_group_id and kept.row_digest = digests.row_digest
"""


def match_digest(library: pd.DataFrame, threshold: float, model_version: str | None) -> str:
    """What an event's match is made with besides its hours: the pooling, feature and
    matching code, the library's centroids as the version in force moves them, the
    threshold and that version. A match made with others is made again."""
    text = "\n".join(
        [
            inspect.getsource(clustering),
            inspect.getsource(features),
            # In cluster order: a staged table's rows come back in no set order.
            library.sort_values("cluster_id", kind="stable").to_csv(index=False),
            repr(float(threshold)),
            repr(model_version),
        ]
    )
    return hashlib.md5(text.encode()).hexdigest()


def match_kept_events(
    session: duckdb.DuckDBPyConnection,
    event_hours: duckdb.DuckDBPyRelation,
    kept_table: str | None,
    match: Callable[[pd.DataFrame], pd.DataFrame],
    salt: str,
) -> tuple[pd.DataFrame, int]:
    """Every event's match with its row_digest, in event order, and how many were matched
    again: `match` (hours of some events to their matches, one row per event) applied to
    every event when nothing is kept (`kept_table` None), else to the events whose digest
    `kept_table` does not hold, the other events' rows read back from it."""
    digests_sql = _EVENT_DIGESTS_SQL.format(salt=salt)
    if kept_table is None:
        matches = match(event_hours.df())
        digests = event_hours.query("event_hours", digests_sql).df()
        return _with_digests(matches, digests), len(matches)
    event_hours.query("event_hours", f"create temporary table mrs_event_digests as {digests_sql}")
    try:
        session.execute(_CHANGED_EVENTS_SQL.format(kept=kept_table))
        changed_hours = event_hours.query("event_hours", _CHANGED_HOURS_SQL).df()
        digests = session.query(_CHANGED_DIGESTS_SQL).df()
        kept = session.query(_KEPT_SQL.format(kept=kept_table)).df()
    finally:
        session.execute("drop table if exists mrs_event_digests")
        session.execute("drop table if exists mrs_changed_events")
    matched = _with_digests(match(changed_hours), digests)
    if kept.empty:
        return matched, len(matched)
    kept = kept[list(matched.columns)].astype(matched.dtypes.to_dict())
    every = pd.concat([kept, matched], ignore_index=True) if not matched.empty else kept
    return every.sort_values("report_group_id", kind="stable").reset_index(drop=True), len(matched)


def _with_digests(matches: pd.DataFrame, digests: pd.DataFrame) -> pd.DataFrame:
    """The matches with the digest of what each was made from."""
    return (
        matches.merge(digests[["report_group_id", ROW_DIGEST]], on="report_group_id", how="left")
        .astype({**matches.dtypes.to_dict(), ROW_DIGEST: "UInt64"})
        .sort_values("report_group_id", kind="stable")
        .reset_index(drop=True)
    )
