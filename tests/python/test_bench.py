"""`mrs bench` on one tiny world (about 0.2 M sales rows): the machinery, never the timings."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import run_mrs

from mrs.cli.bench import work_folder
from mrs.dev import pipeline_bench
from mrs.dev.build_timings import STAGES
from mrs.dev.pipeline_bench import parse_history, parse_sizes, tick_rounds, write_sales_before

WORLD_FIELDS = {
    "label",
    "stores",
    "products",
    "days",
    "training_days",
    "dense",
    "sales_format",
    "sales_rows",
    "reports",
    "reports_per_million_rows",
    "generate_seconds",
    "full_build",
    "incremental_build",
    "incremental_walls",
    "loop_incremental_build",
    "loop_incremental_walls",
    "reference_seconds",
    "detection_seconds",
    "detection_ratio",
    "flagged_hours_pipeline",
    "flagged_hours_reference",
    "rows_per_second",
    "seconds_per_million_rows",
    "incremental_ratio",
    "peak_rss_bytes",
    "logs_after_full",
    "logs_after_incremental",
    "incremental_appended_rows",
}
BUILD_FIELDS = {
    "as_of",
    "exit_code",
    "wall_seconds",
    "peak_rss_bytes",
    "stage_seconds",
    "model_seconds",
}
LINEARITY_FIELDS = {
    "seconds_per_million_rows",
    "smallest",
    "largest",
    "cost_ratio",
    "fixed_seconds",
    "marginal_seconds_per_million_rows",
}
TARGET_FIELDS = {"name", "rule", "world", "value", "limit", "met", "missing", "verdict"}
DETECTED_LOG = "minority_reports_detected_log"


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    """One run of `mrs bench --sizes 0.2M --dense --tick-repeats 1` (21 stores x 10 products
    x 41 days: one block of stores, so the demo's narratives once). Its one repeat is two
    one-tick builds from the same state, one in a process of its own and one as an hourly
    loop runs it."""
    folder = tmp_path_factory.mktemp("bench")
    output = folder / "bench.json"
    result = run_mrs(
        "bench", "--sizes", "0.2M", "--dense", "--tick-repeats", "1",
        "--work-dir", str(folder), "--json", str(output),
    )  # fmt: skip
    return json.loads(output.read_text()), result.stdout


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_json_has_every_field(bench: tuple[dict, str]) -> None:
    figures, _ = bench
    assert set(figures) == {"worlds", "linearity", "targets"}
    (world,) = figures["worlds"]
    assert set(world) == WORLD_FIELDS
    for build in ("full_build", "incremental_build", "loop_incremental_build"):
        assert set(world[build]) == BUILD_FIELDS
        assert set(STAGES) <= set(world[build]["stage_seconds"])
        assert world[build]["model_seconds"]
    assert set(figures["linearity"]) == LINEARITY_FIELDS
    assert len(figures["targets"]) == 7
    for target in figures["targets"]:
        assert set(target) == TARGET_FIELDS
        assert target["verdict"] in ("met", "not met", "not measured")


def test_both_builds_succeeded_on_the_world_asked_for(bench: tuple[dict, str]) -> None:
    (world,) = bench[0]["worlds"]
    assert world["full_build"]["exit_code"] == 0
    assert world["incremental_build"]["exit_code"] == 0
    assert world["stores"] == 21
    assert world["sales_rows"] == 21 * 10 * 41 * 24
    assert world["dense"] is True
    assert world["sales_format"] == "parquet"
    # The reports the full build logged, as the detection log holds them.
    assert world["reports"] > 0
    assert world["reports_per_million_rows"] == world["reports"] / (world["sales_rows"] / 1e6)
    # The tick is the last day's noon, a trading hour (the rows after it are not delivered).
    assert world["full_build"]["as_of"] == "2025-08-12 12:00:00"
    assert world["incremental_build"]["as_of"] == "2025-08-12 13:00:00"


def test_the_reference_query_flags_the_same_hours_as_the_pipeline(bench: tuple[dict, str]) -> None:
    # The yardstick only means something if it computes what detection computes.
    (world,) = bench[0]["worlds"]
    assert world["flagged_hours_pipeline"] > 0
    assert world["flagged_hours_reference"] == world["flagged_hours_pipeline"]


def test_one_tick_build_appends_exactly_the_next_tick(bench: tuple[dict, str]) -> None:
    (world,) = bench[0]["worlds"]
    # From the full build's state, in a process of its own and as an hourly loop runs it (the
    # second build of one process): the bench fails if the two log differently.
    (wall,) = world["incremental_walls"]
    (loop_wall,) = world["loop_incremental_walls"]
    assert _positive(wall) and _positive(loop_wall)
    assert world["incremental_build"]["wall_seconds"] == wall
    assert world["loop_incremental_build"]["wall_seconds"] == loop_wall
    assert world["loop_incremental_build"]["as_of"] == world["incremental_build"]["as_of"]
    assert "one-tick build 1: " in bench[1] and "one-tick build 1 in a loop: " in bench[1]
    full_as_of = world["full_build"]["as_of"]
    next_as_of = world["incremental_build"]["as_of"]
    # These logs write rows at every tick (MRDL only while a report is live, so it is
    # checked below for never running ahead of as_of).
    for log in ("baseline_sales_model_prediction_log", "model_monitoring_log"):
        before, after = world["logs_after_full"][log], world["logs_after_incremental"][log]
        assert before["newest_written_at"] == full_as_of, log
        assert after["newest_written_at"] == next_as_of, log
        assert after["ticks"] == before["ticks"] + 1, log
        assert world["incremental_appended_rows"][log] > 0, log
    detected = world["logs_after_incremental"][DETECTED_LOG]
    assert detected["rows"] > 0
    assert detected["newest_written_at"] <= next_as_of
    # Append-only: no log lost rows.
    assert all(rows >= 0 for rows in world["incremental_appended_rows"].values())


def test_rates_and_ratios_are_positive(bench: tuple[dict, str]) -> None:
    (world,) = bench[0]["worlds"]
    for field in (
        "rows_per_second",
        "seconds_per_million_rows",
        "incremental_ratio",
        "detection_ratio",
        "detection_seconds",
        "reference_seconds",
        "peak_rss_bytes",
    ):
        assert _positive(world[field]), field


def test_prints_progress_table_and_targets(bench: tuple[dict, str]) -> None:
    _, printed = bench
    for expected in ("[0.2M] full build", "[0.2M] one-tick build", "sales rows", "targets:"):
        assert expected in printed
    assert "not measured  full build of 20 M rows within 60 s" in printed
    assert "not measured  one-tick build independent of history" in printed
    assert "not measured  one-tick build at 12 months within 10 s" in printed
    assert "figures written to" in printed


def test_the_one_tick_builds_run_in_rounds_over_the_worlds() -> None:
    """Every world's first tick before any world's second: a slow spell of the machine falls
    on the worlds alike, so their ratio is measured under the same conditions."""
    order: list[tuple[str, int]] = []

    def tick(world: str, repeat: int) -> str:
        order.append((world, repeat))
        return f"{world}{repeat}"

    results = tick_rounds(["1mo", "12mo"], 3, tick)
    assert order == [("1mo", 0), ("12mo", 0), ("1mo", 1), ("12mo", 1), ("1mo", 2), ("12mo", 2)]
    assert results == [["1mo0", "1mo1", "1mo2"], ["12mo0", "12mo1", "12mo2"]]


# The high-water mark read is Linux's /proc (CI and the development machine run Linux, so it
# runs there); elsewhere the child falls back on ru_maxrss, which this test would not hold.
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux's /proc only")
def test_a_loop_childs_peak_memory_is_its_own_not_its_parents() -> None:
    """The loop's peak is read in the measuring child itself; on Linux a process's own
    ru_maxrss carries over an exec, so a child of a large parent would report the parent's."""
    ballast = bytearray(400 * 1024 * 1024)  # the parent's peak, touched page by page
    ballast[::4096] = b"x" * len(ballast[::4096])
    read_peak = "from mrs.dev.measured_dbt import _own_peak_rss; print(_own_peak_rss())"
    child = subprocess.run(
        [sys.executable, "-c", read_peak], capture_output=True, text=True, check=True
    )
    del ballast
    assert int(child.stdout) < 300 * 1024 * 1024


def test_a_failing_world_leaves_the_other_worlds_measured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Nothing measured is lost: a world whose full build fails ends the run there (the
    worlds after it are not built), one whose one-tick build fails is ticked no more, and the
    other worlds are still ticked and reported (the CLI writes their figures, then the
    failures)."""
    ticked: list[tuple[str, int]] = []

    class MeasuredWorld:
        def __init__(self, label: str) -> None:
            self.label = label

        def tick(self, repeat: int) -> int:
            ticked.append((self.label, repeat))
            if self.label == "2mo" and repeat == 1:
                raise pipeline_bench.BenchFailed("the one-tick build of the 2mo world failed")
            return repeat

        def figures(self, ticks: list[int]) -> tuple[str, list[int]]:
            return self.label, ticks

    def prepare(size: pipeline_bench.WorldSize, *_: object) -> MeasuredWorld:
        # (the generator is replaced by one that hands the size on as the world)
        if size.label == "3mo":
            raise pipeline_bench.BenchFailed("the full build of the 3mo world failed")
        return MeasuredWorld(size.label)

    monkeypatch.setattr(pipeline_bench, "generate_bench_world", lambda size, *_: size)
    monkeypatch.setattr(pipeline_bench, "_prepare_tick", prepare)
    sizes = parse_history("1,2,3,6", stores=2, products=1)
    run = pipeline_bench.bench_worlds(sizes, tmp_path, lambda size: print, tmp_path, 3)
    assert run.worlds == [("1mo", [0, 1, 2])]
    assert run.failures == (
        "the one-tick build of the 2mo world failed",
        "the full build of the 3mo world failed",
    )
    assert ticked == [("1mo", 0), ("2mo", 0), ("1mo", 1), ("2mo", 1), ("1mo", 2)]


def test_sizes_round_the_stores_up() -> None:
    sizes = parse_sizes("1M,10M,20M", products=10, days=41)
    assert [size.stores for size in sizes] == [102, 1017, 2033]
    assert all(size.rows >= rows for size, rows in zip(sizes, (1e6, 1e7, 2e7), strict=True))
    with pytest.raises(ValueError, match="expected sizes like"):
        parse_sizes("twenty", products=10, days=41)
    assert not any(size.dense for size in sizes)
    assert all(size.dense for size in parse_sizes("1M,10M", products=10, days=41, dense=True))


def test_the_history_axis_keeps_the_series_and_grows_the_ticks() -> None:
    worlds = parse_history("1,3,12", stores=20, products=10)
    assert [world.label for world in worlds] == ["1mo", "3mo", "12mo"]
    assert {(world.stores, world.products, world.training_days) for world in worlds} == {
        (20, 10, 28)
    }
    assert [world.days - 28 for world in worlds] == [30, 90, 360]
    for bad in ("a year", "0", "-1", ""):
        with pytest.raises(ValueError, match="expected months like"):
            parse_history(bad, stores=20, products=10)


def test_a_csv_feed_is_delivered_in_its_rows_order_up_to_the_tick(tmp_path: Path) -> None:
    # `--sales-format csv` (a text feed, read row by row): the rows before the hour, in the
    # order of the whole file, with a header, as the one-tick build's file gains its hour.
    whole = tmp_path / "whole.parquet"
    with duckdb.connect() as con:
        con.execute(
            "copy (select * from (values (timestamp '2025-07-01 02:00:00', 'ST-002'), "
            "(timestamp '2025-07-01 00:00:00', 'ST-001'), "
            "(timestamp '2025-07-01 01:00:00', 'ST-003')) as t(sales_ts, store_id)) "
            f"to '{whole}' (format parquet)"
        )
    delivered = tmp_path / "unified_sales_data.csv"
    write_sales_before(whole, delivered, dt.datetime(2025, 7, 1, 2))
    assert delivered.read_text().splitlines() == [
        "sales_ts,store_id",
        "2025-07-01 00:00:00,ST-001",
        "2025-07-01 01:00:00,ST-003",
    ]
    assert parse_history("1", stores=2, products=1, sales_format="csv")[0].sales_format == "csv"


def test_work_folder_is_created_or_refused_in_one_line(tmp_path):
    # `--work-dir` of bench and evaluate: a missing folder is made (tempfile would fail with
    # a traceback), a path that cannot be one is an argparse error, not a crash.
    nested = tmp_path / "scratch" / "worlds"
    assert work_folder(str(nested)) == nested and nested.is_dir()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(argparse.ArgumentTypeError, match="cannot create work folder"):
        work_folder(str(blocker / "below"))


@pytest.mark.parametrize("counts", ["0,2", "two", ","])
def test_shard_counts_that_name_no_build_are_refused_before_any_world(
    tmp_path: Path, counts: str
) -> None:
    result = run_mrs(
        "bench", "--sizes", "0.2M", "--shards", counts, "--work-dir", str(tmp_path), check=False
    )
    assert result.returncode != 0
    assert "expected shard counts like 1,2" in result.stderr
    assert list(tmp_path.iterdir()) == []  # no world generated
