"""Issue 15: input that is wrong in ways a careless feed produces must not silently move the
pipeline. Here: sales rows dated after the feed (a mistyped year, a clock running ahead)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from conftest import build_world, query

from mrs.world import WorldOptions, write_world

WORLD = WorldOptions(stores=6, products=4, days=24)
FAR_AHEAD = "2099-01-01 00:00:00"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile_world")
    write_world(WORLD, folder)
    return folder


def _last_sales_hour(sales: Path) -> dt.datetime:
    rows = sales.read_text().splitlines()[1:]
    return max(dt.datetime.fromisoformat(row.split(",")[0]) for row in rows)


def test_rows_ahead_of_the_feed_neither_move_as_of_nor_add_ticks(
    world: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "world"
    shutil.copytree(world, folder)
    sales = folder / "unified_sales_data.csv"
    last = _last_sales_hour(sales)
    next_hour = last + dt.timedelta(hours=1)
    two_days_on = last + dt.timedelta(hours=48)
    with sales.open("a") as handle:
        # The next hour, delivered early for one series: within the lead, accepted.
        handle.write(f"{next_hour:%Y-%m-%d %H:%M:%S},ST-001,SKU-001,3,6.00\n")
        # Two days ahead and a mistyped year: ahead of the feed, rejected.
        handle.write(f"{two_days_on:%Y-%m-%d %H:%M:%S},ST-002,SKU-002,3,6.00\n")
        handle.write(f"{FAR_AHEAD},ST-003,SKU-003,3,6.00\n")
    database = tmp_path / "hostile.duckdb"
    output = build_world(folder, database, WORLD)  # no --as-of: it follows the feed

    # as_of follows the feed's accepted hours, not the rows ahead of it...
    expected_as_of = next_hour + dt.timedelta(hours=1)
    assert query(database, "select as_of, last_sales_ts from run_settings") == [
        (expected_as_of, next_hour)
    ]
    ticks = query(database, "select count(*), max(tick_ts) from ticks")[0]
    detection_hours = (expected_as_of - WORLD.detection_start).total_seconds() / 3600
    assert ticks == (int(detection_hours) + 1, expected_as_of)  # hourly, both ends included
    # ...which are in the errors table with their raw text and why, and counted in the log.
    rejected = query(
        database,
        "select sales_ts, store_id, error_reason from unified_sales_data_errors "
        "order by source_row_number",
    )
    assert [row[:2] for row in rejected] == [
        (f"{two_days_on:%Y-%m-%d %H:%M:%S}", "ST-002"),
        (FAR_AHEAD, "ST-003"),
    ]
    frontier = f"{last + dt.timedelta(hours=24):%Y-%m-%d %H:%M}"
    reason = f"ahead of the feed (after {frontier}, 24 h after its last full hour)"
    assert [row[2] for row in rejected] == [reason, reason]
    assert "2 row(s) rejected from unified_sales_data" in output
    # Nothing is reported on the hours the rows ahead would have zero-filled.
    assert query(
        database,
        f"select count(*) from minority_reports_detected_log where written_at > '{expected_as_of}'",
    ) == [(0,)]
