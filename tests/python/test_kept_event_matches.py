"""The events' shape matches are kept from build to build (mrs.models.kept_event_matches,
issue 18): on the demo's event hours, with one event's hour restated, one event gone and a
new one, matching again only the events whose hours changed gives exactly the matches of
matching every event; a new library or threshold matches every event again."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from mrs.models.clustering import match_event_clusters, stamp_version
from mrs.models.kept_event_matches import match_digest, match_kept_events

THRESHOLD = 0.75  # the project's cluster_similarity_threshold


@pytest.fixture(scope="module")
def demo_inputs(demo_database: tuple[Path, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demo's event hours and cluster library."""
    with duckdb.connect(str(demo_database[0]), read_only=True) as con:
        hours = con.sql("select * from event_shape_hours").df()
        library = con.sql("select * from staging.stg_cluster_library").df()
    return hours, library


def _match(
    con: duckdb.DuckDBPyConnection,
    hours: pd.DataFrame,
    library: pd.DataFrame,
    kept: str | None,
    threshold: float = THRESHOLD,
) -> tuple[pd.DataFrame, int]:
    def match(event_hours: pd.DataFrame) -> pd.DataFrame:
        return stamp_version(match_event_clusters(event_hours, library, threshold), None)

    salt = match_digest(library, threshold, None)
    con.register("hours_now", hours)
    try:
        return match_kept_events(con, con.table("hours_now"), kept, match, salt)
    finally:
        con.unregister("hours_now")


def _keep(con: duckdb.DuckDBPyConnection, matches: pd.DataFrame) -> str:
    """`matches` as the kept table (what the build before wrote)."""
    con.register("written", matches)
    con.execute("create or replace table kept as select * from written")
    con.unregister("written")
    return "kept"


def test_matching_the_changed_events_equals_matching_every_event(
    demo_inputs: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    hours, library = demo_inputs
    events = sorted(hours["report_group_id"].unique())
    multi = hours.groupby("report_group_id")["report_id"].nunique()
    assert len(events) >= 4 and (multi > 1).sum() >= 2, "the demo should have pooled events"
    con = duckdb.connect()
    every, matched = _match(con, hours, library, None)
    assert matched == len(every) == len(events)
    assert every["row_digest"].notna().all() and every["row_digest"].is_unique

    # Nothing changed: nothing matched again, every row read back as written.
    kept = _keep(con, every)
    same, matched = _match(con, hours, library, kept)
    assert matched == 0
    pd.testing.assert_frame_equal(same, every)

    # One pooled event's member hour restated, one event gone, a new one: those two matched
    # again (the gone one needs no match), the rest kept; equal to matching every event.
    restated_event = multi[multi > 1].index[0]
    gone_event = next(event for event in events if event != restated_event)
    changed = hours[hours["report_group_id"] != gone_event].copy()
    restated = changed.index[changed["report_group_id"] == restated_event][3]
    changed.loc[restated, "actual_units"] = changed.loc[restated, "actual_units"] * 3 + 40
    new_event = hours[hours["report_group_id"] == gone_event].assign(
        report_group_id="ME-new", report_id=lambda frame: frame["report_id"] + "-new"
    )
    changed = pd.concat([changed, new_event], ignore_index=True)
    again, matched = _match(con, changed, library, kept)
    assert matched == 2
    expected, _ = _match(con, changed, library, None)
    pd.testing.assert_frame_equal(again, expected)
    assert gone_event not in set(again["report_group_id"])
    written = every.set_index("report_group_id")["row_digest"]
    now = again.set_index("report_group_id")["row_digest"]
    assert now[restated_event] != written[restated_event]  # the strategy replaces its row
    unchanged = [event for event in events if event not in (restated_event, gone_event)]
    assert (now[unchanged] == written[unchanged]).all()

    # A new threshold (or library, or code) matches every event again.
    moved, matched = _match(con, hours, library, kept, threshold=0.5)
    assert matched == len(events)
    pd.testing.assert_frame_equal(moved, _match(con, hours, library, None, threshold=0.5)[0])
    assert not set(moved["row_digest"]) & set(every["row_digest"])
