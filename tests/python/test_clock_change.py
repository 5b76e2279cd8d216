"""A UTC feed of stores that keep daylight saving, built without their zone (model
baseline_clock_change): the build finds the change of the clocks the feed's hours follow and
reads them on that zone's clock from the hour the move is plain, so that every trading hour
is not an anomaly after it; a later build reads every earlier hour as the builds before it
did; a feed that does not move is read as it is; a change in the first days of the training
window is found from the weeks after it and read from the change itself."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from conftest import query, run_mrs

from mrs.dev.world_family import FamilyOptions, write_family_world
from mrs.review.journal import journal_dir

SCAN = "anomaly_scan_hours"
PREDICTIONS = "baseline_sales_predictions"
DIGESTS = {PREDICTIONS: "prediction_digest, scan_row_digest", SCAN: "scan_digest"}


def _world(tmp_path: Path, seed: int, zone: str | None) -> tuple[FamilyOptions, Path]:
    """A small family world of stores on `zone`'s clock (None: UTC), its feed in UTC."""
    options = FamilyOptions(seed=seed, stores=2, products=4, detection_days=10, store_timezone=zone)
    return options, write_family_world(options, tmp_path / f"world-{seed}").inputs


def _build(
    inputs: Path, database: Path, options: FamilyOptions, as_of: dt.datetime, select: str
) -> str:
    """`mrs build` as a user who gives no store zone runs it."""
    database.parent.mkdir(exist_ok=True)
    return run_mrs(
        "build",
        "--input-dir", str(inputs),
        "--database", str(database),
        "--training-start", f"{options.training_start:%Y-%m-%d}",
        "--detection-start", f"{options.detection_start:%Y-%m-%d}",
        "--as-of", f"{as_of:%Y-%m-%d %H:%M}",
        "--select", select,
        "--no-tests",
    ).stdout  # fmt: skip


CHANGE_COLUMNS = (
    "is_clock_moved", "clock_zone", "change_ts", "read_from_ts", "seen_at_ts",
    "telling_hours", "moved_votes",
)  # fmt: skip


def _change(database: Path) -> dict[str, object]:
    """The one row of baseline_clock_change, by column."""
    (row,) = query(database, f"select {', '.join(CHANGE_COLUMNS)} from baseline_clock_change")
    return dict(zip(CHANGE_COLUMNS, row, strict=True))


def _rows(database: Path, table: str, before: dt.datetime) -> list[tuple]:
    """The rows of `table` before an hour, without the digests of the code that wrote them
    (the rendered SQL changes once the change is found: the reading it adds)."""
    return query(
        database,
        f"select * exclude (input_day_digest, {DIGESTS[table]}) from {table} "
        f"where sales_ts < '{before}' order by all",
    )


def test_a_change_seen_in_the_detection_hours_is_read_from_that_hour_on(
    tmp_path: Path,
) -> None:
    # Chicago's clocks go forward at 08:00 UTC on 10 March 2024, the fourth detection day;
    # eight series, so the pooled feed is noisy and the move is plain only days later.
    options, inputs = _world(tmp_path, seed=9013, zone="America/Chicago")
    change_ts = dt.datetime(2024, 3, 10, 8)
    assert options.detection_start < change_ts < options.end
    later = tmp_path / "later" / "mrs.duckdb"
    output = _build(inputs, later, options, change_ts + dt.timedelta(days=5), f"+{SCAN}")
    found = _change(later)
    assert found["is_clock_moved"] and found["clock_zone"] == "America/Chicago", found
    assert found["change_ts"] == change_ts, found
    seen_at = found["seen_at_ts"]
    assert isinstance(seen_at, dt.datetime)
    assert found["read_from_ts"] == seen_at
    assert change_ts < seen_at < change_ts + dt.timedelta(days=4)
    assert found["moved_votes"] >= 0.75 * found["telling_hours"] > 0, found
    assert "the feed's hours moved by an hour with America/Chicago's clock change" in output
    assert "Give their zone (mrs build --store-timezone" in output

    # Read on Chicago's clock, the trading hours of the day after the move are scored as
    # usual: a misread clock puts every opening and closing hour far from its baseline.
    extreme_share = query(
        later,
        f"select avg(cast(abs(residual_z) >= 3 as double)) from {PREDICTIONS} "
        f"where is_trading_hour and sales_ts >= '{seen_at}' "
        f"and sales_ts < '{seen_at + dt.timedelta(days=1)}'",
    )[0][0]
    assert extreme_share < 0.03, extreme_share

    # Before the hour the move is plain, a build reads the hours as they are; the next
    # tick reads the new hours on Chicago's clock and keeps the earlier ones as scored,
    # equal to a build of every day and to the later build's hours.
    kept = tmp_path / "kept" / "mrs.duckdb"
    _build(inputs, kept, options, seen_at, f"+{SCAN}")
    assert not _change(kept)["is_clock_moved"]
    one_tick = tmp_path / "one-tick" / "mrs.duckdb"
    one_tick.parent.mkdir()
    shutil.copy(kept, one_tick)
    shutil.copytree(journal_dir(kept), journal_dir(one_tick))
    tick_as_of = seen_at + dt.timedelta(hours=1)
    _build(inputs, one_tick, options, tick_as_of, f"+{SCAN}")
    assert _change(one_tick) == found
    fresh = tmp_path / "fresh" / "mrs.duckdb"
    _build(inputs, fresh, options, tick_as_of, f"+{SCAN}")
    for table in (PREDICTIONS, SCAN):
        assert _rows(one_tick, table, tick_as_of) == _rows(fresh, table, tick_as_of)
        assert _rows(one_tick, table, seen_at) == _rows(kept, table, seen_at)
        assert _rows(later, table, tick_as_of) == _rows(fresh, table, tick_as_of)


def test_a_feed_on_its_own_clock_is_read_as_it_is_and_an_early_change_from_the_change(
    tmp_path: Path,
) -> None:
    # The same dates with stores on UTC: the candidate zones change, the feed does not.
    options, inputs = _world(tmp_path, seed=9013, zone=None)
    still = tmp_path / "still" / "mrs.duckdb"
    _build(inputs, still, options, options.end, "+baseline_clock_change")
    assert not _change(still)["is_clock_moved"]

    # Chicago's clocks go back at 07:00 UTC on 1 November 2026, the third training day: too
    # early for a week before it, so the weeks after it are read (the training window is
    # read whole by every build), and its hours are read from the change itself.
    options, inputs = _world(tmp_path, seed=9194, zone="America/Chicago")
    change_ts = dt.datetime(2026, 11, 1, 7)
    assert options.training_start + dt.timedelta(days=2) < change_ts
    assert change_ts < options.training_start + dt.timedelta(days=3)
    early = tmp_path / "early" / "mrs.duckdb"
    _build(inputs, early, options, options.end, "+baseline_clock_change")
    found = _change(early)
    assert found["clock_zone"] == "America/Chicago", found
    assert found["read_from_ts"] == found["change_ts"] == change_ts, found
    assert found["seen_at_ts"] < options.detection_start
