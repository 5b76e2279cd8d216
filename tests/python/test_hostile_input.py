"""Issue 15: input that is wrong in ways a careless feed produces must not silently move the
pipeline: sales rows dated after the feed (a mistyped year, a clock running ahead), and
times written with a UTC offset."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from conftest import build_world, query

from mrs.dev.world import WorldOptions, write_world
from mrs.pipeline.publication import connect_published

WORLD = WorldOptions(stores=6, products=4, days=24)
FAR_AHEAD = "2099-01-01 00:00:00"
MORE_FIELDS = "more fields than the header (an unquoted decimal comma?)"


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
    database = tmp_path / "mrs.duckdb"
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


def _rewrite_hour(sales: Path, store: str, sku: str, hour: str, written: str) -> str:
    """Write the row of (store, sku, hour) with its time as `written`; return its units."""
    lines = sales.read_text().splitlines()
    for position, line in enumerate(lines):
        fields = line.split(",")
        if fields[:3] == [hour, store, sku]:
            lines[position] = ",".join([written, *fields[1:]])
            sales.write_text("\n".join(lines) + "\n")
            return fields[3]
    raise AssertionError(f"no row {store} {sku} {hour} in the world")


def test_times_with_a_utc_offset_are_the_instant_they_name(world: Path, tmp_path: Path) -> None:
    folder = tmp_path / "world"
    shutil.copytree(world, folder)
    sales = folder / "unified_sales_data.csv"
    day = f"{WORLD.detection_start:%Y-%m-%d}"
    # The same instants as the rows they replace, written in other zones and in UTC's Z.
    rewritten = {
        ("ST-001", "SKU-001", f"{day} 12:00:00"): f"{day} 14:00:00+02:00",
        ("ST-002", "SKU-001", f"{day} 13:00:00"): f"{day}T07:30:00-05:30",
        ("ST-003", "SKU-001", f"{day} 14:00:00"): f"{day}T14:00:00Z",
    }
    units = {key: _rewrite_hour(sales, *key, written) for key, written in rewritten.items()}
    database = tmp_path / "mrs.duckdb"
    build_world(folder, database, WORLD, "--as-of", f"{day} 18:00")
    # Nothing rejected (before, 14:00+02:00 was read as 14:00 and the genuine 14:00 row of
    # that series was then a duplicate), and each row is at its UTC hour with its units.
    assert query(database, "select count(*) from unified_sales_data_errors") == [(0,)]
    for (store, sku, hour), written_units in units.items():
        assert query(
            database,
            f"select units from stg_unified_sales_data where store_id = '{store}' "
            f"and sku = '{sku}' and sales_ts = '{hour}'",
        ) == [(float(written_units),)]


def test_a_quoted_folder_malformed_rows_and_a_blank_reference_file_are_read(
    world: Path, tmp_path: Path
) -> None:
    # One build for three faults (the blank file had a build of its own at the same as-of):
    # the quote is in every path, the malformed rows in the sales file and the blank file is
    # the cause taxonomy, which no check of the other two reads.
    # Paths go into SQL as string literals (macro mrs_quote_path); a quote in a folder name
    # once broke the query instead of being read.
    folder = tmp_path / "o'brien inputs"
    shutil.copytree(world, folder)
    # A 0-byte cause_taxonomy (not even a header) is no table: as if absent, the project's
    # own is read, and the build says so (before, staging read it as a table of nothing).
    (folder / "cause_taxonomy.csv").write_bytes(b"")
    # Three malformed sales rows (issue 15, cases 2 and 8): an unquoted decimal comma in
    # revenue (one field more than the header: before, units and revenue were kept and the
    # extra field dropped), a stray quote inside units, and, half way down the file, a sku
    # that opens a quote and never closes it (read with quotes on, that field takes every
    # line after it: the file is then read with quotes off, one line one row).
    sales = folder / "unified_sales_data.csv"
    lines = sales.read_text().splitlines()
    middle = len(lines) // 2
    comma, quote, unclosed = lines[1].split(","), lines[2].split(","), lines[middle].split(",")
    lines[1] = ",".join([*comma[:4], "12", "5"])
    lines[2] = ",".join([*quote[:3], '1"2', quote[4]])
    lines[middle] = ",".join([*unclosed[:2], '"' + unclosed[2], *unclosed[3:]])
    sales.write_text("\n".join(lines) + "\n")
    database = tmp_path / "store's db" / "mrs.duckdb"
    database.parent.mkdir()
    journal = tmp_path / "store's db" / "mrs_edits" / "user_edits_log"
    journal.mkdir(parents=True)
    (journal / "hand-written.json").write_text('{"report_id": "MR-none", "action": "approve"}')
    day = f"{WORLD.detection_start:%Y-%m-%d}"
    output = build_world(folder, database, WORLD, "--as-of", f"{day} 06:00")
    sources = query(database, "select distinct source_file from stg_unified_sales_data_checked")
    assert sources == [(f"{folder.as_posix()}/unified_sales_data.csv",)]
    assert "opens a quote and never closes it" in output
    assert query(
        database,
        "select is_read_with_quotes_off from input_sources where input_name = 'unified_sales_data'",
    ) == [(True,)]
    assert query(
        database,
        "select source_row_number, sku, units, revenue, extra_fields, error_reason "
        "from unified_sales_data_errors order by 1",
    ) == [
        (1, comma[2], comma[3], "12", "5", MORE_FIELDS),
        (2, quote[2], '1"2', quote[4], None, "unparseable units"),
        (middle, '"' + unclosed[2], unclosed[3], unclosed[4], None, "unknown sku"),
    ]
    # Every other row is kept.
    assert query(database, "select count(*) from stg_unified_sales_data") == [(len(lines) - 4,)]
    # The journal beside the database was listed and read (the edit breaks rules: no actor).
    assert query(database, "select source_file from user_edits_errors") == [("hand-written.json",)]
    # The copy the review app reads was published beside it, with its review index.
    published = connect_published(database)
    assert published is not None
    with published:
        settings = published.execute("select count(*) from review_index.run_settings")
        assert settings.fetchone() == (1,)
    # The blank reference file fell back to the project's seed.
    assert "cause_taxonomy.csv is blank; using the project's own seed" in output
    assert query(
        database, "select source_location from input_sources where input_name = 'cause_taxonomy'"
    ) == [("seed:cause_taxonomy",)]
    assert query(database, "select count(*) > 0 from stg_cause_taxonomy") == [(True,)]
