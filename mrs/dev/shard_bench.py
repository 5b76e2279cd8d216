"""`mrs bench --shards 1,2`: the same world built by one process and as N shards (issue 17),
each dbt command of a shard phase and the global stage measured apart (wall time and peak
memory, mrs.dev.measured_dbt), so that the figures say what each machine of a cluster would
do. The shards run one after another here (one machine); on N machines a phase lasts as long
as its slowest shard, so a sharded build's wall there is the sum over phases of the slowest
shard, plus the global stage (`on_n_machines_seconds`)."""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from mrs.dev.measured_dbt import MeasuredRun, run_measured
from mrs.dev.pipeline_bench import GIB, BenchFailed, Say, WorldSize, generate_bench_world
from mrs.dev.row_differences import row_differences
from mrs.dev.world import build_vars
from mrs.pipeline.project import WITHOUT_TESTS, Project
from mrs.pipeline.shards import (
    SHARD_PHASES,
    DbtCommand,
    ShardLayout,
    ShardWork,
    build_shards,
    global_stage_command,
    shard_phase_command,
)


@dataclass
class ShardFigures:
    """One full build of the world (without tests) by `shards` shards (1: one process)."""

    shards: int
    wall_seconds: float = 0.0
    on_n_machines_seconds: float = 0.0
    shard_seconds: list[float] = field(default_factory=list)
    shard_peak_bytes: list[int] = field(default_factory=list)
    phase_seconds: dict[str, list[float]] = field(default_factory=dict)
    global_seconds: float = 0.0
    global_peak_bytes: int = 0
    detected_rows: int = 0
    same_detected_log: bool | None = None


@dataclass(frozen=True)
class ShardBenchReport:
    world: str
    sales_rows: int
    stores: int
    products: int
    builds: list[ShardFigures]


def bench_shards(
    size: WorldSize, counts: list[int], project_root: Path, say: Say, work_dir: Path | None
) -> ShardBenchReport:
    """Generate the world once and build it for each shard count, in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix=f"mrs-shards-{size.label}-", dir=work_dir) as folder:
        root = Path(folder)
        world = generate_bench_world(size, root / "world", say)
        settings = build_vars(world.options, world.inputs)
        builds = []
        first: Path | None = None
        for count in counts:
            database = root / f"shards-{count}" / "bench.duckdb"
            say(f"full build as {count} shard(s)" if count > 1 else "full build, one process")
            figures = (
                _one_process(project_root, database, settings)
                if count == 1
                else _sharded(project_root, database, settings, count, say)
            )
            figures.detected_rows = _detected_rows(database)
            if first is None:
                first = database
            else:
                figures.same_detected_log = _same_detected_log(first, database)
            say(
                f"{count} shard(s): {figures.wall_seconds:.1f} s here, "
                f"{figures.on_n_machines_seconds:.1f} s on {count} machine(s)"
            )
            builds.append(figures)
        return ShardBenchReport(size.label, world.sales_rows, size.stores, size.products, builds)


def _checked(run: MeasuredRun, what: str, database: Path) -> MeasuredRun:
    if run.exit_code != 0:
        raise BenchFailed(f"{what} failed (exit {run.exit_code}; dbt's output above) on {database}")
    return run


def _one_process(project_root: Path, database: Path, settings: dict[str, object]) -> ShardFigures:
    project = Project(project_root, database)
    arguments = ["build", *WITHOUT_TESTS, "--target-path", str(database.parent / "target")]
    run = _checked(
        run_measured(project, arguments, settings, database.parent / "scratch"),
        "the one-process build",
        database,
    )
    return ShardFigures(
        shards=1,
        wall_seconds=run.wall_seconds,
        on_n_machines_seconds=run.wall_seconds,
        shard_seconds=[run.wall_seconds],
        shard_peak_bytes=[run.peak_rss_bytes],
    )


def _sharded(
    project_root: Path, database: Path, settings: dict[str, object], count: int, say: Say
) -> ShardFigures:
    layout = ShardLayout(database, count)
    figures = ShardFigures(shards=count, shard_seconds=[0.0] * count, shard_peak_bytes=[0] * count)

    def measured(work: list[ShardWork]) -> list[int]:
        codes = []
        for one in work:
            run = _measured_command(
                shard_phase_command(one), project_root, layout.shard_folder(one.shard)
            )
            figures.phase_seconds.setdefault(one.phase.name, []).append(run.wall_seconds)
            figures.shard_seconds[one.shard] += run.wall_seconds
            figures.shard_peak_bytes[one.shard] = max(
                figures.shard_peak_bytes[one.shard], run.peak_rss_bytes
            )
            codes.append(run.exit_code)
        return codes

    build_shards(layout, settings, runner=measured, progress=say)
    run = _checked(
        _measured_command(global_stage_command(layout, settings), project_root, database.parent),
        "the global stage",
        database,
    )
    figures.global_seconds = run.wall_seconds
    figures.global_peak_bytes = run.peak_rss_bytes
    figures.wall_seconds = sum(figures.shard_seconds) + run.wall_seconds
    figures.on_n_machines_seconds = (
        sum(max(seconds) for seconds in figures.phase_seconds.values()) + run.wall_seconds
    )
    return figures


def _measured_command(command: DbtCommand, project_root: Path, folder: Path) -> MeasuredRun:
    """`command` in a child interpreter, measured (its scratch files in `folder`), with the
    project at `project_root`."""
    return run_measured(
        Project(project_root, command.project.database),
        command.arguments,
        command.dbt_vars,
        folder / "scratch",
        command.environment,
    )


def _detected_rows(database: Path) -> int:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute("select count(*) from logs.minority_reports_detected_log").fetchone()[0]


def _same_detected_log(first: Path, other: Path) -> bool:
    """Whether the detected log of `other` has exactly the rows of `first`'s (EXCEPT ALL)."""
    tables = []
    for database in (first, other):
        with duckdb.connect(str(database), read_only=True) as con:
            tables.append(
                con.execute("select * from logs.minority_reports_detected_log").to_arrow_table()
            )
    return row_differences(tables[0], tables[1]) == (0, 0)


def shard_report_lines(report: ShardBenchReport) -> list[str]:
    """The figures as a table: one row per shard count."""
    lines = [
        f"world {report.world}: {report.sales_rows:,} sales rows, {report.stores} stores x "
        f"{report.products} products; full builds without tests, shards one after another",
        "",
        "| shards | wall here (s) | on N machines (s) | slowest shard (s) | shard peak (GiB) "
        "| global stage (s) | global peak (GiB) | detected log rows | same as 1 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for build in report.builds:
        same = "-" if build.same_detected_log is None else str(build.same_detected_log).lower()
        lines.append(
            f"| {build.shards} | {build.wall_seconds:.1f} | {build.on_n_machines_seconds:.1f} "
            f"| {max(build.shard_seconds):.1f} | {max(build.shard_peak_bytes) / GIB:.2f} "
            f"| {build.global_seconds:.1f} | {build.global_peak_bytes / GIB:.2f} "
            f"| {build.detected_rows:,} | {same} |"
        )
    for build in report.builds:
        if build.phase_seconds:
            phases = ", ".join(
                f"{name} {'/'.join(f'{s:.1f}' for s in seconds)}"
                for name, seconds in build.phase_seconds.items()
            )
            lines.append(f"{build.shards} shards, seconds per phase and shard: {phases}")
    names = [phase.name for phase in SHARD_PHASES]
    lines.append(f"phases: {', '.join(names)}, then the global stage")
    return lines


def write_shard_report(report: ShardBenchReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
