"""The sales series, the baseline predictions and the detectors' scan are kept from build to
build (issue 18): a build fills, scores and scans only the days from the first one whose
inputs changed (within the last kept day, only its new hours), the predictions reading a
bounded context before it and the scan carrying each series' CUSUM state from the last hour
kept, and what it keeps and computes equals a build that computes every day, on a history
longer than that context, in a store time zone, with a day restated in the middle, and where
the baseline's day starts after midnight."""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from conftest import query, run_mrs
from test_evaluation import build_family_world

from mrs.dev.bench import run_reference
from mrs.dev.world_family import FamilyOptions, write_family_world
from mrs.pipeline.database_lock import open_database
from mrs.review.journal import journal_dir

# 75 detection days: the context a scored day reads (64 days) starts well after training.
WORLD = FamilyOptions(
    seed=7, stores=2, products=2, detection_days=75, store_timezone="America/New_York"
)
PREDICTIONS = "baseline_sales_predictions"
DAY_TOTALS = "baseline_day_totals"
SCAN = "anomaly_scan_hours"
CANDIDATES = "anomaly_candidate_hours"
DECISIONS = "anomaly_classifier_model_real"
IDENTIFIED_DECISIONS = "anomaly_classifier_decisions"
PREDICTED = "+baseline_sales_predictions"


def _build(
    inputs: Path,
    database: Path,
    as_of: dt.datetime,
    world: FamilyOptions = WORLD,
    select: str = "+anomaly_classifier_decisions",
) -> str:
    return run_mrs(
        "build",
        "--input-dir", str(inputs),
        "--database", str(database),
        "--training-start", f"{world.training_start:%Y-%m-%d}",
        "--detection-start", f"{world.detection_start:%Y-%m-%d}",
        "--store-timezone", str(world.build_timezone),
        "--as-of", f"{as_of:%Y-%m-%d %H:%M}",
        "--select", select,
        "--no-tests",
    ).stdout  # fmt: skip


def _scored_from(output: str) -> str | None:
    found = re.search(r"baseline predictions kept before (\S+), scored from it", output)
    return found.group(1) if found else None


def _copy(database: Path, to: Path) -> Path:
    """`database` and its edit journal copied to `to` (a new folder): the same deployment
    under another path."""
    to.parent.mkdir()
    shutil.copy(database, to)
    shutil.copytree(journal_dir(database), journal_dir(to))
    return to


def _predictions(database: Path, table: str = PREDICTIONS) -> list[tuple]:
    return query(database, f"select * from {table} order by all")


def _restate(sales: Path, hour: dt.datetime) -> int:
    """Doubles the units of every row of `hour` (in place); returns how many rows changed."""
    with sales.open(newline="") as handle:
        rows = list(csv.reader(handle))
    stamp = f"{hour:%Y-%m-%d %H:%M:%S}"
    changed = 0
    for row in rows[1:]:
        if row[0] == stamp:
            row[3] = str(2 * int(float(row[3])) + 5)
            changed += 1
    with sales.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return changed


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_family_world(WORLD, tmp_path_factory.mktemp("kept") / "world").inputs


def test_kept_and_computed_days_equal_computing_every_day(inputs: Path, tmp_path: Path) -> None:
    start = WORLD.detection_start
    first_as_of = start + dt.timedelta(days=70, hours=5)
    kept = tmp_path / "kept" / "mrs.duckdb"
    kept.parent.mkdir()
    assert _scored_from(_build(inputs, kept, first_as_of)) is None  # a first build scores all
    scored_first = _predictions(kept)
    assert len(scored_first) > 4 * 24 * 70

    # One tick later: the day totals and the hours of the last kept day's and the new day's
    # weekdays read, every other day kept; the same as a build of every day.
    tick_as_of = first_as_of + dt.timedelta(hours=1)
    one_tick = _copy(kept, tmp_path / "one-tick" / "mrs.duckdb")
    output = _build(inputs, one_tick, tick_as_of)
    assert _scored_from(output) is not None
    # (the new hour of the same day in New York: the day's earlier hours kept as scored)
    assert f"baseline predictions kept before {first_as_of}, scored from it" in output
    every_day = tmp_path / "every-day" / "mrs.duckdb"
    every_day.parent.mkdir()
    _build(inputs, every_day, tick_as_of)
    assert _predictions(one_tick) == _predictions(every_day)
    assert _predictions(one_tick, DAY_TOTALS) == _predictions(every_day, DAY_TOTALS)

    # 30 hours later, with an hour 29 days back restated: scored again from its day on (15:00
    # UTC is the morning of the same day in New York), the days before it kept.
    restated_hour = start + dt.timedelta(days=41, hours=15)
    assert _restate(inputs / "unified_sales_data.csv", restated_hour) > 0
    second_as_of = first_as_of + dt.timedelta(hours=30)
    output = _build(inputs, kept, second_as_of)
    assert _scored_from(output) == f"{restated_hour:%Y-%m-%d}"
    assert f"sales series kept before {restated_hour:%Y-%m-%d}, filled from it" in output

    fresh = tmp_path / "fresh" / "mrs.duckdb"
    fresh.parent.mkdir()
    _build(inputs, fresh, second_as_of)
    scored = _predictions(fresh)
    assert _predictions(kept) == scored
    series = "sales_timeseries_data"
    assert _predictions(kept, series) == _predictions(fresh, series)
    # The day totals the predictions look back at were added up again from the same day.
    assert f"day totals kept before {restated_hour:%Y-%m-%d}, added up from it" in output
    assert _predictions(kept, DAY_TOTALS) == _predictions(fresh, DAY_TOTALS)
    assert f"candidate scan kept before {restated_hour:%Y-%m-%d}, scanned from it" in output
    assert _predictions(kept, SCAN) == _predictions(fresh, SCAN)
    # Windows open and close after the restated day: the carried state is put to work.
    windows_after = query(
        fresh,
        f"select count(distinct candidate_window_id) from {CANDIDATES} "
        f"where first_elevated_ts > '{restated_hour:%Y-%m-%d %H:%M}'",
    )[0][0]
    assert windows_after > 0
    assert _predictions(kept, CANDIDATES) == _predictions(fresh, CANDIDATES)
    # The windows were assembled again from the restated day's open windows on, the scan read
    # from their context: the windows and day marks kept before equal assembling every day.
    assert f"candidate windows kept before {restated_hour:%Y-%m-%d}, assembled again" in output
    assembly = "anomaly_candidate_window_hours"
    assert _predictions(kept, assembly) == _predictions(fresh, assembly)
    # The classifier decided again only the windows of the series whose hours changed, from
    # the first changed window's chain on, and kept the other decisions: they equal deciding
    # every window.
    decided = re.search(r"classifier decisions kept, (\d+) window\(s\) of (\d+) series", output)
    assert decided is not None, output
    all_windows = query(fresh, f"select count(*) from {DECISIONS}")[0][0]
    assert 0 < int(decided.group(1)) < all_windows
    assert _predictions(kept, DECISIONS) == _predictions(fresh, DECISIONS)
    # With their ids, corroboration and ticks, written by their changed rows only: the same.
    assert _predictions(kept, IDENTIFIED_DECISIONS) == _predictions(fresh, IDENTIFIED_DECISIONS)
    # The restated hour moved its scores; the hours kept before its day are the first build's.
    assert [row for row in scored if row[2] == restated_hour] != [
        row for row in scored_first if row[2] == restated_hour
    ]

    # The same database under another file name (the name qualifies every relation in the
    # SQL the kept models digest) keeps its rows: nothing is computed again from the start.
    moved = _copy(kept, tmp_path / "moved" / "renamed.duckdb")
    output = _build(inputs, moved, second_as_of)
    assert "again from the first day" not in output, output
    assert "baseline fit kept" in output
    assert _scored_from(output) is not None
    assert _predictions(moved, SCAN) == _predictions(fresh, SCAN)


def _tick_within_the_day(
    inputs: Path, tmp_path: Path, options: FamilyOptions, first_as_of: dt.datetime
) -> tuple[Path, Path]:
    """A build to `first_as_of`, then one tick later in a copy of it, which keeps the day's
    earlier hours and scores and scans the new one only; that copy equals a build of every
    day. Returns the first build and the build of every day."""
    tick_as_of = first_as_of + dt.timedelta(hours=1)
    kept = tmp_path / "kept" / "mrs.duckdb"
    kept.parent.mkdir()
    _build(inputs, kept, first_as_of, options, f"+{SCAN}")
    one_tick = _copy(kept, tmp_path / "one-tick" / "mrs.duckdb")
    output = _build(inputs, one_tick, tick_as_of, options, f"+{SCAN}")
    assert f"baseline predictions kept before {first_as_of}, scored from it" in output
    assert f"candidate scan kept before {first_as_of}, scanned from it" in output
    fresh = tmp_path / "fresh" / "mrs.duckdb"
    fresh.parent.mkdir()
    _build(inputs, fresh, tick_as_of, options, f"+{SCAN}")
    assert _predictions(one_tick) == _predictions(fresh)
    assert _predictions(one_tick, SCAN) == _predictions(fresh, SCAN)
    return kept, fresh


def _new_york_world(tmp_path: Path, seed: int) -> tuple[FamilyOptions, Path]:
    """A small family world of stores on New York time (ten detection days), and its inputs."""
    options = FamilyOptions(
        seed=seed, stores=2, products=2, detection_days=10, store_timezone=WORLD.store_timezone
    )
    return options, write_family_world(options, tmp_path / "world").inputs


def test_an_hourly_tick_scores_its_new_hours_and_keeps_the_earlier_hours_of_its_day(
    tmp_path: Path,
) -> None:
    # A tick that adds an hour to the last kept day scores and scans that hour only: every
    # value of an hour depends on the days before its own and its own sales, and the scan is
    # causal, so the day's kept hours are taken as they were, and the result equals a build
    # of every day. Once one of those hours is restated, the whole day is done again.
    # New York's stores read on UTC (a feed whose zone was left unset): UTC midnight falls in
    # their evening, so the baseline's day starts at the feed's quietest hour instead, and
    # "the day" of the tick and of the restated hour, both between UTC midnight and that
    # hour, is the day before their UTC date.
    options = FamilyOptions(
        seed=7,
        stores=2,
        products=2,
        detection_days=10,
        store_timezone=WORLD.store_timezone,
        read_timezone="UTC",
    )
    inputs = write_family_world(options, tmp_path / "world").inputs
    first_as_of = options.detection_start + dt.timedelta(days=8, hours=3)  # evening in New York
    kept, fresh = _tick_within_the_day(inputs, tmp_path, options, first_as_of)
    day_start, quietest_cut = query(
        fresh, "select day_start_hour, quietest_cut_hour from baseline_day_start"
    )[0]
    assert day_start == quietest_cut and 7 <= day_start <= 12, day_start  # New York's night
    # The bench's hand-written reference reads the same calendar and flags the same hours.
    with open_database(fresh, read_only=False) as con:
        reference = run_reference(con)
    assert reference.flagged_hours_pipeline > 0
    assert reference.flagged_hours_reference == reference.flagged_hours_pipeline

    restated_hour = first_as_of - dt.timedelta(hours=2)
    assert _restate(inputs / "unified_sales_data.csv", restated_hour) > 0
    tick_as_of = first_as_of + dt.timedelta(hours=1)
    output = _build(inputs, kept, tick_as_of, options, f"+{SCAN}")
    assert _scored_from(output) == f"{restated_hour - dt.timedelta(days=1):%Y-%m-%d}"
    # The build says so, and what to do if the feed's zone was left unset.
    assert f"the baseline's day starts at {day_start:02d}:00 on the stores' clock" in output
    assert "Give their zone (mrs build --store-timezone" in output
    assert re.search(r"kept before \S+ \S+, (scored|scanned) from it", output) is None
    restated = tmp_path / "restated" / "mrs.duckdb"
    restated.parent.mkdir()
    _build(inputs, restated, tick_as_of, options, f"+{SCAN}")
    assert _predictions(kept) == _predictions(restated)
    assert _predictions(kept, SCAN) == _predictions(restated, SCAN)
    assert _predictions(kept) != _predictions(fresh)


def test_an_hourly_tick_on_the_night_the_clocks_go_back_keeps_the_earlier_hours_too(
    tmp_path: Path,
) -> None:
    # On 2026-11-01 New York's clock goes from 01:59 back to 01:00 (06:00 UTC): a tick that
    # adds 01:00 (05:00 UTC), the hour after midnight, reads the context at that clock hour,
    # counted in UTC hours (counted on the local clock, the hours scored ran backwards and
    # were none: every kept prediction went). Its kept hour and new hour equal a build of
    # every day.
    options, inputs = _new_york_world(tmp_path, seed=399)
    first_as_of = dt.datetime(2026, 11, 1, 5)  # midnight in New York scored, 01:00 next
    assert options.detection_start < first_as_of < options.end
    _tick_within_the_day(inputs, tmp_path, options, first_as_of)


def test_a_window_open_across_the_first_changed_day_is_assembled_again_whole(
    inputs: Path, tmp_path: Path
) -> None:
    """A restated hour inside a window that began on an earlier day of the stores: the build
    assembles again from that window's start (the scan says where it began), not from the
    restated day, and its windows equal assembling every day."""
    as_of = WORLD.detection_start + dt.timedelta(days=72, hours=5)
    kept = tmp_path / "kept" / "mrs.duckdb"
    kept.parent.mkdir()
    _build(inputs, kept, as_of)
    local = f"timezone('{WORLD.store_timezone}', cast(sales_ts as timestamptz))"
    spanning = query(
        kept,
        f"select max(sales_ts) filter (where is_closure_hour) as closure_ts "
        f"from {CANDIDATES} group by candidate_window_id "
        f"having cast(min({local}) filter (where is_in_window) as date) "
        f"< cast(max({local}) filter (where is_closure_hour) as date) order by closure_ts",
    )
    assert spanning, "the world should hold a window open across a stores' midnight"
    restated_hour = spanning[0][0]
    assert _restate(inputs / "unified_sales_data.csv", restated_hour) > 0
    output = _build(inputs, kept, as_of)
    assert "candidate windows kept before" in output, output
    fresh = tmp_path / "fresh" / "mrs.duckdb"
    fresh.parent.mkdir()
    _build(inputs, fresh, as_of)
    assert _predictions(kept, CANDIDATES) != []
    assert _predictions(kept, CANDIDATES) == _predictions(fresh, CANDIDATES)
    assert _predictions(kept, DECISIONS) == _predictions(fresh, DECISIONS)


def _drop_rows(sales: Path, drop) -> int:
    """Removes the rows for which `drop(sales_ts, store_id, sku)` holds (in place); returns
    how many went."""
    with sales.open(newline="") as handle:
        rows = list(csv.reader(handle))
    kept = [rows[0]] + [row for row in rows[1:] if not drop(row[0], row[1], row[2])]
    with sales.open("w", newline="") as handle:
        csv.writer(handle).writerows(kept)
    return len(rows) - len(kept)


def test_a_kept_build_fills_a_new_series_and_a_late_stores_hours_like_a_full_one(
    tmp_path: Path,
) -> None:
    # A one-tick build reads the sales of its filled days and of the reference weeks before
    # them only, and the other series from the kept hours: a series whose first sale comes
    # after the first build, one that has sold nothing for longer than those weeks (its
    # hours zero), and a store whose last rows have not come yet (its busy hours gaps,
    # judged against the four weeks before) are filled as a build of every day fills them.
    options = FamilyOptions(
        seed=7, stores=2, products=2, detection_days=40, store_timezone=WORLD.store_timezone
    )
    sales = write_family_world(options, tmp_path / "world").inputs / "unified_sales_data.csv"
    # ST-002 sells 20 units or more an hour from 16:00 to 21:00 UTC; ST-001 less.
    tick_as_of = options.detection_start + dt.timedelta(days=36, hours=22)
    first_as_of = tick_as_of - dt.timedelta(hours=20)
    new_series_from = first_as_of + dt.timedelta(hours=6)
    late_from = tick_as_of - dt.timedelta(hours=6)

    def before(stamp: str, hour: dt.datetime) -> bool:
        return dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S") < hour

    new_series = _drop_rows(
        sales, lambda ts, store, sku: (store, sku) == ("ST-001", "SKU-002")
        and before(ts, new_series_from)
    )  # fmt: skip
    assert new_series > 24 * 60
    silent_from = options.detection_start + dt.timedelta(days=2)
    assert _drop_rows(
        sales, lambda ts, store, sku: (store, sku) == ("ST-001", "SKU-001")
        and not before(ts, silent_from)
    )  # fmt: skip
    kept = tmp_path / "kept" / "mrs.duckdb"
    kept.parent.mkdir()
    _build(sales.parent, kept, first_as_of, options, PREDICTED)
    first_sale = (
        "select min(sales_ts) from sales_timeseries_data "
        "where (store_id, sku) = ('ST-001', 'SKU-002')"
    )
    assert query(kept, first_sale) == [(None,)]

    assert _drop_rows(sales, lambda ts, store, sku: store == "ST-002" and not before(ts, late_from))
    output = _build(sales.parent, kept, tick_as_of, options, PREDICTED)
    assert "sales series kept before" in output
    fresh = tmp_path / "fresh" / "mrs.duckdb"
    fresh.parent.mkdir()
    _build(sales.parent, fresh, tick_as_of, options, PREDICTED)
    series = "sales_timeseries_data"
    gaps = "select store_id, count(*) from sales_timeseries_data where is_feed_gap group by all"
    assert [store for store, _ in query(fresh, gaps)] == ["ST-002"]  # its usual busy hours
    assert query(fresh, first_sale) == [(new_series_from,)]
    silent_hours = (
        "select count(*), sum(units) from sales_timeseries_data "
        f"where (store_id, sku) = ('ST-001', 'SKU-001') and sales_ts >= '{first_as_of}'"
    )
    assert query(fresh, silent_hours) == [(20, 0)]
    assert _predictions(kept, series) == _predictions(fresh, series)
    assert _predictions(kept) == _predictions(fresh)


def test_a_scan_that_finds_no_carried_hours_in_its_last_days_reads_every_kept_day(
    tmp_path: Path,
) -> None:
    # A one-tick scan looks for each series' last kept hours (its CUSUM state and closure
    # block) in the last `anomaly_scan_tail_days` kept days first, and in every kept day when
    # a series has none there (a store closed for longer). With none looked in first, every
    # series is such a series: the scan kept and carried still equals scanning every day.
    options = FamilyOptions(seed=7, stores=2, products=2, detection_days=10)
    inputs = write_family_world(options, tmp_path / "world").inputs
    tick_as_of = options.detection_start + dt.timedelta(days=8, hours=13)
    settings = {"anomaly_scan_tail_days": 0, "as_of": f"{tick_as_of - dt.timedelta(hours=5)}"}
    kept = tmp_path / "kept" / "mrs.duckdb"
    build_family_world(options, inputs, kept, f"+{SCAN}", settings)
    settings["as_of"] = f"{tick_as_of}"
    build_family_world(options, inputs, kept, f"+{SCAN}", settings)
    fresh = tmp_path / "fresh" / "mrs.duckdb"
    build_family_world(options, inputs, fresh, f"+{SCAN}", settings)
    assert query(kept, f"select min(trading_hour_index) from {SCAN} where sales_ts >= "
                 f"'{tick_as_of - dt.timedelta(hours=5)}'")[0][0] > 1  # fmt: skip
    assert _predictions(kept, SCAN) == _predictions(fresh, SCAN)
