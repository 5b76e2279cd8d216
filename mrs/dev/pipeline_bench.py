"""`mrs bench`: the whole pipeline on generated worlds of about 1 M, 10 M and 20 M sales rows.

For each world, in a fresh database in a temporary folder:

1. the full build: `dbt build` of every model (tests excluded) up to `as_of` = noon of the
   data's last day, on the sales before it;
2. the hand-written reference query (`mrs.dev.bench.REFERENCE_QUERY`) on that database, so the
   detection stage and the reference see the same data and the same `as_of`;
3. the one-tick build: the same command with the default `as_of` (13:00), the noon hour's rows
   delivered, which appends exactly one tick to the logs; in a process of its own, and as an
   hourly loop (`mrs build --every`) runs it, the second build of one process. With several
   worlds, their one-tick builds run in rounds (one of every world per round), after every
   world's full build.

Every dbt build runs under its own child interpreter (`mrs.dev.measured_dbt`), which reports the
exact peak resident memory of that dbt process (the reference query runs in this process and
is not part of the figure). dbt writes its target folder (run_results.json,
manifest.json) into the world's temporary folder, so per-model times are read from the build
that produced them, and builds run in the project folder at the same time neither overwrite
them nor are overwritten. Timings are printed and compared with targets, never asserted.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

import duckdb

from mrs.dev.bench import DETECTION_MODELS, ReferenceRun, run_reference
from mrs.dev.build_timings import node_timings
from mrs.dev.measured_dbt import MeasuredRun, MeasureError, run_measured
from mrs.dev.world import WorldOptions, build_vars, write_world
from mrs.pipeline.database_copy import copy_database
from mrs.pipeline.database_lock import open_database
from mrs.pipeline.project import WITHOUT_TESTS, Project
from mrs.pipeline.sql_text import sql_string
from mrs.review.journal import ensure_journal

DEFAULT_SIZES = "1M,10M,20M"
DEFAULT_PRODUCTS = 10
DEFAULT_DAYS = 41
DETECTED_LOG = "minority_reports_detected_log"
TIMESTAMP = "%Y-%m-%d %H:%M:%S"
GIB = 1024**3

# Targets (issue 7). Each is printed as met / not met / not measured, never asserted.
TARGET_FULL_SECONDS = 60.0
TARGET_FULL_ROWS = 20_000_000
TARGET_PEAK_BYTES = 4 * GIB
TARGET_DETECTION_RATIO = 2.0
TARGET_INCREMENTAL_RATIO = 0.10
TARGET_LINEARITY_RATIO = 1.5
TARGET_HISTORY_RATIO = 1.2
TARGET_LOOP_TICK_SECONDS = 10.0
# History axis: a month of hourly ticks, and the training weeks every world starts with.
DAYS_PER_MONTH = 30
HISTORY_TRAINING_DAYS = 28

Say = Callable[[str], None]


class BenchFailed(Exception):
    """A step of the benchmark failed; the message says which and where to look."""


@dataclass(frozen=True)
class WorldSize:
    label: str
    stores: int
    products: int
    days: int
    # History axis: detection runs over every day after the first `training_days` (None:
    # the world's own six-day detection window).
    training_days: int | None = None
    # Report density: the demo's narratives in every block of 24 stores (WorldOptions
    # .anomaly_tiles), not only in the first.
    dense: bool = False
    # How the sales file is delivered: Parquet, or CSV (read row by row, so whatever a build
    # reads of it shows in its time).
    sales_format: str = "parquet"

    @property
    def rows(self) -> int:
        return self.stores * self.products * self.days * 24


def parse_history(
    text: str, stores: int, products: int, dense: bool = False, sales_format: str = "parquet"
) -> list[WorldSize]:
    """`1,3,6,12` as worlds of the same series with that many months of hourly detection
    ticks after four training weeks: what a build's cost does as history grows."""
    labels = [part.strip() for part in text.split(",") if part.strip()]
    try:
        months = [float(label) for label in labels]
    except ValueError:
        months = []
    if not months or any(not 0 < month <= 60 for month in months):
        raise ValueError(f"--history: expected months like 1,3,6,12 (at most 60), got {text!r}")
    WorldOptions(stores=stores, products=products)  # raises on bad stores or products
    return [
        WorldSize(
            label=f"{label}mo",
            stores=stores,
            products=products,
            days=HISTORY_TRAINING_DAYS + max(1, round(month * DAYS_PER_MONTH)),
            training_days=HISTORY_TRAINING_DAYS,
            dense=dense,
            sales_format=sales_format,
        )
        for label, month in zip(labels, months, strict=True)
    ]


def parse_sizes(
    text: str, products: int, days: int, dense: bool = False, sales_format: str = "parquet"
) -> list[WorldSize]:
    """`1M,10M,20M` (or `0.2M`, `500K`, `200000`) as worlds of at least that many sales rows:
    the products and days are fixed and the stores are rounded up."""
    WorldOptions(stores=1, products=products, days=days)  # raises on bad products or days
    labels = [part.strip() for part in text.split(",") if part.strip()]
    if not labels:
        raise ValueError("--sizes: expected sizes like 1M,10M,20M or 0.2M")
    per_store = products * days * 24
    sizes = []
    for label in labels:
        stores = max(1, math.ceil(_rows_of(label) / per_store))
        sizes.append(
            WorldSize(
                label=label,
                stores=stores,
                products=products,
                days=days,
                dense=dense,
                sales_format=sales_format,
            )
        )
    return sizes


def _rows_of(label: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", label)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"--sizes: expected sizes like 1M,10M,20M or 0.2M, got {label!r}")
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    return float(match.group(1)) * scale


@dataclass(frozen=True)
class BuildFigures:
    """One dbt build: wall time and peak memory of the dbt process, and the models' own
    execution times from its run_results.json (summed per stage folder)."""

    as_of: str
    exit_code: int
    wall_seconds: float
    peak_rss_bytes: int
    stage_seconds: dict[str, float]
    model_seconds: dict[str, float]


@dataclass(frozen=True)
class LogState:
    rows: int
    ticks: int
    newest_written_at: str | None


@dataclass(frozen=True)
class WorldFigures:
    size: WorldSize
    sales_rows: int
    generate_seconds: float
    full: BuildFigures
    incremental: BuildFigures
    reference_seconds: float
    flagged_hours_pipeline: int
    flagged_hours_reference: int
    logs_after_full: dict[str, LogState]
    logs_after_incremental: dict[str, LogState]
    # Distinct reports the full build logged (MRDL): what the per-report models work on.
    reports: int = 0
    # Wall seconds of every one-tick build (each from the full build's state); `incremental`
    # is the median one.
    incremental_walls: tuple[float, ...] = ()
    # The one-tick build as an hourly loop (`mrs build --every`) runs it: the second build of
    # one process, after a first from the same state (the median one, and every wall).
    loop_incremental: BuildFigures | None = None
    loop_incremental_walls: tuple[float, ...] = ()

    @property
    def reports_per_million_rows(self) -> float:
        return self.reports / (self.sales_rows / 1_000_000)

    @property
    def detection_seconds(self) -> float:
        """The detection models of the full build (the same set as `mrs bench-detection`)."""
        return sum(self.full.model_seconds.get(model, 0.0) for model in DETECTION_MODELS)

    @property
    def detection_ratio(self) -> float:
        return self.detection_seconds / self.reference_seconds

    @property
    def rows_per_second(self) -> float:
        return self.sales_rows / self.full.wall_seconds

    @property
    def seconds_per_million_rows(self) -> float:
        return self.full.wall_seconds / (self.sales_rows / 1_000_000)

    @property
    def incremental_ratio(self) -> float:
        return self.incremental.wall_seconds / self.full.wall_seconds

    @property
    def peak_rss_bytes(self) -> int:
        builds = (self.full, self.incremental, self.loop_incremental)
        return max(build.peak_rss_bytes for build in builds if build is not None)

    @property
    def appended_rows(self) -> dict[str, int]:
        """Rows each log gained in the one-tick build."""
        return {
            log: state.rows - self.logs_after_full.get(log, LogState(0, 0, None)).rows
            for log, state in self.logs_after_incremental.items()
        }

    def to_json(self) -> dict[str, object]:
        return {
            "label": self.size.label,
            "stores": self.size.stores,
            "products": self.size.products,
            "days": self.size.days,
            "training_days": self.size.training_days,
            "dense": self.size.dense,
            "sales_format": self.size.sales_format,
            "sales_rows": self.sales_rows,
            "reports": self.reports,
            "reports_per_million_rows": self.reports_per_million_rows,
            "generate_seconds": self.generate_seconds,
            "full_build": asdict(self.full),
            "incremental_build": asdict(self.incremental),
            "incremental_walls": list(self.incremental_walls),
            "loop_incremental_build": None
            if self.loop_incremental is None
            else asdict(self.loop_incremental),
            "loop_incremental_walls": list(self.loop_incremental_walls),
            "reference_seconds": self.reference_seconds,
            "detection_seconds": self.detection_seconds,
            "detection_ratio": self.detection_ratio,
            "flagged_hours_pipeline": self.flagged_hours_pipeline,
            "flagged_hours_reference": self.flagged_hours_reference,
            "rows_per_second": self.rows_per_second,
            "seconds_per_million_rows": self.seconds_per_million_rows,
            "incremental_ratio": self.incremental_ratio,
            "peak_rss_bytes": self.peak_rss_bytes,
            "logs_after_full": {k: asdict(v) for k, v in self.logs_after_full.items()},
            "logs_after_incremental": {
                k: asdict(v) for k, v in self.logs_after_incremental.items()
            },
            "incremental_appended_rows": self.appended_rows,
        }


@dataclass(frozen=True)
class Linearity:
    """Full-build cost per million sales rows at each size. `cost_ratio` compares the marginal
    cost (seconds per extra million rows) between the two largest worlds with that between the
    two smallest, so dbt's fixed cost cannot hide a super-linear stage; with two worlds it is
    the largest world's per-row cost over the smallest's. The least-squares line wall = fixed
    + marginal x millions separates the fixed cost (start-up, parsing, small models) from the
    per-row cost."""

    seconds_per_million_rows: dict[str, float]
    smallest: str | None
    largest: str | None
    cost_ratio: float | None
    fixed_seconds: float | None
    marginal_seconds_per_million_rows: float | None


@dataclass(frozen=True)
class Target:
    name: str
    rule: str
    world: str | None
    value: float | None
    limit: float
    met: bool | None
    # Why there is no figure, when met is None.
    missing: str = ""

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "not measured"
        return "met" if self.met else "not met"

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "verdict": self.verdict}


@dataclass(frozen=True)
class BenchReport:
    worlds: list[WorldFigures]
    linearity: Linearity
    targets: list[Target]

    def to_json(self) -> dict[str, object]:
        return {
            "worlds": [world.to_json() for world in self.worlds],
            "linearity": asdict(self.linearity),
            "targets": [target.to_json() for target in self.targets],
        }


@dataclass(frozen=True)
class GeneratedWorld:
    size: WorldSize
    options: WorldOptions
    inputs: Path
    sales_rows: int
    generate_seconds: float


@dataclass(frozen=True)
class BenchRun:
    """The figures of every world measured, and why the others failed (none when every world
    was measured)."""

    worlds: list[WorldFigures]
    failures: tuple[str, ...] = ()


def bench_worlds(
    sizes: list[WorldSize],
    project_root: Path,
    say_for: Callable[[WorldSize], Say],
    work_dir: Path | None,
    tick_repeats: int = 1,
) -> BenchRun:
    """Generate each world and measure its full build and the reference, one world after the
    other; then the one-tick builds (`tick_repeats` of each world, each from its full
    build's state: the median is reported) in rounds, one of every world per round, so a
    slow spell of a shared machine falls on every world's ticks alike and the ratio of two
    worlds' ticks is measured under the same conditions. Each world lives in a temporary
    folder (world, database, dbt target folders) removed afterwards. A world whose full
    build fails ends the run there, and one whose one-tick build fails is ticked no more:
    the other worlds are still measured."""
    with ExitStack() as folders:
        prepared: list[PreparedTick] = []
        failures: dict[int, str] = {}
        for size in sizes:
            root = Path(
                folders.enter_context(
                    tempfile.TemporaryDirectory(prefix=f"mrs-bench-{size.label}-", dir=work_dir)
                )
            )
            try:
                world = generate_bench_world(size, root / "world", say_for(size))
                project = Project(project_root, root / "bench.duckdb")
                prepared.append(_prepare_tick(world, project, say_for(size)))
            except (BenchFailed, MeasureError) as error:
                failures[len(prepared)] = str(error)
                break

        def tick(numbered: tuple[int, PreparedTick], repeat: int) -> TickRepeat | None:
            number, world = numbered
            if number in failures:
                return None
            try:
                return world.tick(repeat)
            except (BenchFailed, MeasureError) as error:
                failures[number] = str(error)
                return None

        ticks = tick_rounds(list(enumerate(prepared)), tick_repeats, tick)
        figures = []
        for number, (world, repeats) in enumerate(zip(prepared, ticks, strict=True)):
            if number in failures:
                continue
            try:
                figures.append(world.figures([repeat for repeat in repeats if repeat is not None]))
            except BenchFailed as error:
                failures[number] = str(error)
        return BenchRun(figures, tuple(failures[number] for number in sorted(failures)))


_World = TypeVar("_World")
_Tick = TypeVar("_Tick")


def tick_rounds(
    worlds: list[_World], repeats: int, tick: Callable[[_World, int], _Tick]
) -> list[list[_Tick]]:
    """`tick(world, repeat)` for every repeat, round by round (every world once per round,
    in order): each world's results, in the order of its repeats."""
    results: list[list[_Tick]] = [[] for _ in worlds]
    for repeat in range(repeats):
        for world, done in zip(worlds, results, strict=True):
            done.append(tick(world, repeat))
    return results


def generate_bench_world(size: WorldSize, inputs: Path, say: Say) -> GeneratedWorld:
    options = WorldOptions(
        stores=size.stores, products=size.products, days=size.days, anomaly_tiles=size.dense
    )
    say(
        f"generating {size.rows:,} sales rows ({size.stores} stores, delivered as "
        f"{size.sales_format}) in {inputs}"
    )
    started = time.perf_counter()
    counts = write_world(options, inputs, "parquet")
    seconds = time.perf_counter() - started
    say(f"generated in {seconds:.1f} s")
    return GeneratedWorld(size, options, inputs, counts["unified_sales_data"], seconds)


# The hours of the data's last day after the one the one-tick build delivers (23:00 -> 12:00).
HOURS_AFTER_THE_TICK = 11


def _prepare_tick(world: GeneratedWorld, project: Project, say: Say) -> PreparedTick:
    """Full build and reference query into project.database (a fresh file), and the one
    tick's sales delivered; the dbt target folders go beside it."""
    scratch = project.database.parent
    ensure_journal(project.database)  # as `mrs build` does: edits are read, none exist
    # The tick delivered is the last day's noon, when the stores trade, so it reaches the
    # open candidate windows and reports as an hourly tick does (the data's last hour, 23:00,
    # is closed everywhere: a tick there reached none); the rows after it are never read.
    last_hour = world.options.start + dt.timedelta(
        hours=world.options.hours - 1 - HOURS_AFTER_THE_TICK
    )
    base_vars = build_vars(world.options, world.inputs)
    if world.size.training_days is not None:
        detection_start = world.options.start + dt.timedelta(days=world.size.training_days)
        base_vars.update(
            training_start=f"{world.options.start:%Y-%m-%d}",
            detection_start=f"{detection_start:%Y-%m-%d}",
        )

    full_as_of = f"{last_hour:{TIMESTAMP}}"
    # As an hourly feed delivers: the full build reads the sales without their last hour,
    # the one-tick build the same file with that hour's rows appended, so staging checks
    # the one sales day that changed (the rows before it keep their positions).
    # The world is generated as Parquet; the sales are delivered in the size's format.
    sales_file = world.inputs / f"unified_sales_data.{world.size.sales_format}"
    whole_sales = scratch / "unified_sales_data.whole.parquet"
    delivered_sales = scratch / f"unified_sales_data.delivered.{world.size.sales_format}"
    (world.inputs / "unified_sales_data.parquet").replace(whole_sales)
    write_sales_before(whole_sales, delivered_sales, last_hour + dt.timedelta(hours=1))
    write_sales_before(whole_sales, sales_file, last_hour)
    say(f"full build up to as_of {full_as_of} (every model, tests excluded)")
    # Both builds share one dbt target folder, as hourly builds in production do: the
    # one-tick build then re-uses the full build's parse (partial parsing), which a fresh
    # folder would re-do. Each build's timings are read before the next one starts.
    dbt_folder = scratch / "dbt"
    full = _build(project, {**base_vars, "as_of": full_as_of}, full_as_of, dbt_folder)
    _check(full, "full build", world.size)
    say(_build_line("full build", full))
    logs = append_only_logs(dbt_folder / "target")
    logs_full = log_states(project.database, logs)
    reports = logged_reports(project.database)
    say(f"reports logged: {reports:,}")

    say("hand-written reference query on the same database")
    with open_database(project.database, read_only=False) as con:
        reference = run_reference(con)
    say(f"reference query: {reference.seconds:.1f} s")

    delivered_sales.replace(sales_file)
    next_as_of = f"{last_hour + dt.timedelta(hours=1):{TIMESTAMP}}"
    say(f"the noon hour's rows delivered for the one-tick build (as_of {next_as_of})")
    # A shared machine's noise moves one build by a third: the one-tick build is repeated from
    # the same state and its median reported. Every repeat writes the same logs.
    before_tick = copy_database(project.database, scratch / "before_tick")
    return PreparedTick(
        world=world,
        project=project,
        say=say,
        tick_vars=base_vars,
        as_of=next_as_of,
        dbt_folder=dbt_folder,
        before_tick=before_tick,
        logs=logs,
        full=full,
        logs_after_full=logs_full,
        reports=reports,
        reference=reference,
    )


@dataclass(frozen=True)
class PreparedTick:
    """A world built in full, its reference measured and its tick's sales delivered: what its
    one-tick builds start from."""

    world: GeneratedWorld
    project: Project
    say: Say
    tick_vars: dict[str, object]
    as_of: str
    dbt_folder: Path
    before_tick: Path
    logs: list[str]
    full: BuildFigures
    logs_after_full: dict[str, LogState]
    reports: int
    reference: ReferenceRun

    def tick(self, repeat: int) -> TickRepeat:
        """One one-tick build from the full build's state (restored after the first), in a
        process of its own as `mrs build` runs it; then, from the same state, the same build
        as an hourly loop runs it (`mrs build --every`: the second build of one process)."""
        if repeat:
            copy_database(self.before_tick, self.project.database.parent)
        build = _build(self.project, self.tick_vars, self.as_of, self.dbt_folder)
        _check(build, "one-tick build", self.world.size)
        self.say(_build_line(f"one-tick build {repeat + 1}", build))
        state = log_states(self.project.database, self.logs)
        copy_database(self.before_tick, self.project.database.parent)
        loop = _build(self.project, self.tick_vars, self.as_of, self.dbt_folder, self.before_tick)
        _check(loop, "one-tick build in a loop", self.world.size)
        self.say(_build_line(f"one-tick build {repeat + 1} in a loop", loop))
        return TickRepeat(build, state, loop, log_states(self.project.database, self.logs))

    def figures(self, ticks: list[TickRepeat]) -> WorldFigures:
        states = [state for tick in ticks for state in (tick.state, tick.loop_state)]
        if any(state != states[0] for state in states):
            raise BenchFailed(
                f"{self.world.size.label}: the repeated one-tick builds wrote different logs"
            )
        incremental, walls = _median_build([tick.build for tick in ticks])
        loop, loop_walls = _median_build([tick.loop for tick in ticks])
        if len(ticks) > 1:
            self.say(
                f"one-tick build median {incremental.wall_seconds:.1f} s of {_seconds_list(walls)}"
                f"; in a loop {loop.wall_seconds:.1f} s of {_seconds_list(loop_walls)}"
            )
        return WorldFigures(
            size=self.world.size,
            sales_rows=self.world.sales_rows,
            generate_seconds=self.world.generate_seconds,
            full=self.full,
            incremental=incremental,
            reference_seconds=self.reference.seconds,
            flagged_hours_pipeline=self.reference.flagged_hours_pipeline,
            flagged_hours_reference=self.reference.flagged_hours_reference,
            logs_after_full=self.logs_after_full,
            logs_after_incremental=states[0],
            reports=self.reports,
            incremental_walls=tuple(walls),
            loop_incremental=loop,
            loop_incremental_walls=tuple(loop_walls),
        )


@dataclass(frozen=True)
class TickRepeat:
    """One repeat of a world's one-tick build: in a process of its own and in a loop, each
    with the logs it left."""

    build: BuildFigures
    state: dict[str, LogState]
    loop: BuildFigures
    loop_state: dict[str, LogState]


def _median_build(builds: list[BuildFigures]) -> tuple[BuildFigures, list[float]]:
    """The median build by wall seconds (the lower of the middle two), and every wall."""
    walls = [build.wall_seconds for build in builds]
    return sorted(builds, key=lambda build: build.wall_seconds)[(len(builds) - 1) // 2], walls


def _seconds_list(walls: list[float]) -> str:
    return ", ".join(f"{wall:.1f}" for wall in walls) + " s"


def write_sales_before(whole: Path, path: Path, hour: dt.datetime) -> None:
    """The sales rows of `whole` before `hour`, in their order, at `path` (Parquet, or CSV
    with a header when the path ends in .csv)."""
    options = "(format csv, header)" if path.suffix == ".csv" else "(format parquet)"
    with duckdb.connect() as con:
        con.execute(
            "copy (select * exclude (file_row_number)"
            " from read_parquet(?, file_row_number = true)"
            " where sales_ts < ? order by file_row_number)"
            " to " + sql_string(str(path)) + " " + options,
            [str(whole), hour],
        )


def _build(
    project: Project,
    dbt_vars: dict[str, object],
    as_of: str,
    scratch: Path,
    loop_restore: Path | None = None,
) -> BuildFigures:
    """`dbt build` of the whole project without tests, its target folder in `scratch`; with
    `loop_restore`, as an hourly loop runs it (mrs.dev.measured_dbt)."""
    target = scratch / "target"
    arguments = [
        "build",
        *WITHOUT_TESTS,
        "--quiet",
        "--write-json",  # node_timings reads run_results.json and manifest.json
        "--target-path",
        str(target),
        "--log-path",
        str(scratch / "logs"),
    ]
    run: MeasuredRun = run_measured(
        project, arguments, dbt_vars, scratch, loop_restore=loop_restore
    )
    models, stages = ({}, {}) if run.exit_code != 0 else node_timings(target)
    return BuildFigures(
        as_of=as_of,
        exit_code=run.exit_code,
        wall_seconds=run.wall_seconds,
        peak_rss_bytes=run.peak_rss_bytes,
        stage_seconds=stages,
        model_seconds=models,
    )


def _check(build: BuildFigures, step: str, size: WorldSize) -> None:
    if build.exit_code != 0:
        raise BenchFailed(
            f"the {step} of the {size.label} world failed (dbt exit code {build.exit_code}); "
            "see dbt's output above"
        )


def _build_line(step: str, build: BuildFigures) -> str:
    return (
        f"{step}: {build.wall_seconds:.1f} s wall, peak memory {build.peak_rss_bytes / GIB:.2f} GiB"
    )


def append_only_logs(target: Path) -> list[str]:
    """The tables of the incremental (append-only log) models, from a build's manifest.json."""
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    return sorted(
        node.get("alias") or node["name"]
        for node in nodes.values()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"
    )


def log_states(database: Path, logs: list[str]) -> dict[str, LogState]:
    """Rows, distinct written_at ticks and newest tick of each log that has a written_at."""
    with open_database(database) as con:
        stamped = {
            row[0]
            for row in con.execute(
                "select table_name from information_schema.columns where column_name = 'written_at'"
            ).fetchall()
        }
        return {log: _log_state(con, log) for log in logs if log in stamped}


def logged_reports(database: Path) -> int:
    """Distinct reports in the detection log (MRDL)."""
    with open_database(database) as con:
        (count,) = con.execute(
            "select count(distinct report_id) from minority_reports_detected_log"
        ).fetchone()
    return int(count)


def _log_state(con: duckdb.DuckDBPyConnection, table: str) -> LogState:
    rows, ticks, newest = con.execute(
        f"select count(*), count(distinct written_at), strftime(max(written_at), "
        f"'{TIMESTAMP}') from \"{table}\""
    ).fetchone()
    return LogState(rows=int(rows), ticks=int(ticks), newest_written_at=newest)


def summarise(worlds: list[WorldFigures]) -> BenchReport:
    linearity = measure_linearity(worlds)
    return BenchReport(worlds=worlds, linearity=linearity, targets=targets(worlds, linearity))


def measure_linearity(worlds: list[WorldFigures]) -> Linearity:
    ordered = sorted(worlds, key=lambda world: world.sales_rows)
    per_million = {world.size.label: world.seconds_per_million_rows for world in ordered}
    if len({world.sales_rows for world in ordered}) < 2:
        return Linearity(per_million, None, None, None, None, None)
    smallest, largest = ordered[0], ordered[-1]
    fit = statistics.linear_regression(
        [world.sales_rows / 1_000_000 for world in ordered],
        [world.full.wall_seconds for world in ordered],
    )
    return Linearity(
        seconds_per_million_rows=per_million,
        smallest=smallest.size.label,
        largest=largest.size.label,
        cost_ratio=_cost_ratio(ordered),
        fixed_seconds=fit.intercept,
        marginal_seconds_per_million_rows=fit.slope,
    )


def _cost_ratio(ordered: list[WorldFigures]) -> float:
    """Marginal cost of the two largest worlds over that of the two smallest (three or more
    worlds); the per-row cost of the largest over the smallest's otherwise."""
    if len(ordered) >= 3:
        lower = _marginal_seconds(ordered[0], ordered[1])
        upper = _marginal_seconds(ordered[-2], ordered[-1])
        if lower > 0:
            return upper / lower
    return ordered[-1].seconds_per_million_rows / ordered[0].seconds_per_million_rows


def _marginal_seconds(smaller: WorldFigures, larger: WorldFigures) -> float:
    """Full-build seconds per extra million sales rows from one world to a larger one."""
    extra_millions = (larger.sales_rows - smaller.sales_rows) / 1_000_000
    return (larger.full.wall_seconds - smaller.full.wall_seconds) / extra_millions


def targets(worlds: list[WorldFigures], linearity: Linearity) -> list[Target]:
    """The issue's targets. Per-world targets are judged on the largest world run."""
    if not worlds:
        return []
    largest = max(worlds, key=lambda world: world.sales_rows)
    return [
        _full_build_target(largest),
        _memory_target(worlds),
        _ratio_target(
            "detection within 2x the reference",
            "detection-stage seconds (full build) <= 2 x the reference query's seconds, "
            "on the largest world",
            largest,
            largest.detection_ratio,
            TARGET_DETECTION_RATIO,
        ),
        _ratio_target(
            "one-tick build within 10% of the full build",
            "one-tick build wall seconds <= 0.10 x full build wall seconds, on the largest world",
            largest,
            largest.incremental_ratio,
            TARGET_INCREMENTAL_RATIO,
        ),
        _linearity_target(linearity),
        _history_target(worlds),
        _loop_tick_target(worlds),
    ]


def _history_target(worlds: list[WorldFigures]) -> Target:
    """One-tick build on the longest history over that on the shortest, same series."""
    name = "one-tick build independent of history"
    rule = (
        "one-tick build wall seconds with 12 months of ticks <= 1.2 x with 1 month "
        "(mrs bench --history 1,12: the longest history run over the shortest)"
    )
    histories = [world for world in worlds if world.size.training_days is not None]
    if len({world.size.days for world in histories}) < 2:
        return Target(name, rule, None, None, TARGET_HISTORY_RATIO, None,
                      missing="no history axis was run (mrs bench --history 1,12)")  # fmt: skip
    shortest = min(histories, key=lambda world: world.size.days)
    longest = max(histories, key=lambda world: world.size.days)
    ratio = longest.incremental.wall_seconds / shortest.incremental.wall_seconds
    world = f"{longest.size.label} vs {shortest.size.label}"
    return Target(name, rule, world, ratio, TARGET_HISTORY_RATIO, ratio <= TARGET_HISTORY_RATIO)


def _loop_tick_target(worlds: list[WorldFigures]) -> Target:
    """The one-tick build of a year of ticks as the hourly loop runs it."""
    name = "one-tick build at 12 months within 10 s"
    rule = (
        "one-tick build wall seconds in a loop (mrs build --every: the second build of one "
        "process) <= 10, on the longest --history world of at least 12 months (the issue's: "
        "500 series, --stores 50 --products 10)"
    )
    year = [
        (world, world.loop_incremental)
        for world in worlds
        if world.size.training_days is not None
        and world.loop_incremental is not None
        and world.size.days - world.size.training_days >= round(12 * DAYS_PER_MONTH)
    ]
    if not year:
        return Target(name, rule, None, None, TARGET_LOOP_TICK_SECONDS, None,
                      missing="no --history world of 12 months was run")  # fmt: skip
    longest, loop = max(year, key=lambda pair: pair[0].size.days)
    seconds = loop.wall_seconds
    label = f"{longest.size.label}, {longest.size.stores * longest.size.products} series"
    return Target(
        name, rule, label, seconds, TARGET_LOOP_TICK_SECONDS, seconds <= TARGET_LOOP_TICK_SECONDS
    )


def _full_build_target(largest: WorldFigures) -> Target:
    measured = largest.sales_rows >= TARGET_FULL_ROWS
    return Target(
        name="full build of 20 M rows within 60 s",
        rule="full build wall seconds <= 60 on a world of at least 20 M sales rows",
        world=largest.size.label if measured else None,
        value=largest.full.wall_seconds if measured else None,
        limit=TARGET_FULL_SECONDS,
        met=largest.full.wall_seconds <= TARGET_FULL_SECONDS if measured else None,
        missing="" if measured else "no world of 20 M rows was run",
    )


def _memory_target(worlds: list[WorldFigures]) -> Target:
    heaviest = max(worlds, key=lambda world: world.peak_rss_bytes)
    return Target(
        name="peak memory within 4 GB",
        rule="peak RSS of every dbt build <= 4 GiB (figures in GiB)",
        world=heaviest.size.label,
        value=heaviest.peak_rss_bytes / GIB,
        limit=TARGET_PEAK_BYTES / GIB,
        met=heaviest.peak_rss_bytes <= TARGET_PEAK_BYTES,
    )


def _ratio_target(name: str, rule: str, world: WorldFigures, value: float, limit: float) -> Target:
    return Target(name, rule, world.size.label, value, limit, value <= limit)


def _linearity_target(linearity: Linearity) -> Target:
    ratio = linearity.cost_ratio
    return Target(
        name="cost roughly linear from 1 M to 20 M rows",
        rule="seconds per extra million rows between the two largest worlds <= 1.5 x that "
        "between the two smallest (10M-20M vs 1M-10M by default; with two worlds, per-row "
        "cost of the largest <= 1.5 x the smallest's)",
        world=f"{linearity.largest} vs {linearity.smallest}" if ratio is not None else None,
        value=ratio,
        limit=TARGET_LINEARITY_RATIO,
        met=ratio <= TARGET_LINEARITY_RATIO if ratio is not None else None,
        missing="" if ratio is not None else "only one world size was run",
    )


def write_report(report: BenchReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_json(), indent=2) + "\n")
