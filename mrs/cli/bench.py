"""`mrs bench`: the command line of the pipeline benchmark (logic in mrs.dev.pipeline_bench)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mrs.dev.measured_dbt import MeasureError
from mrs.dev.pipeline_bench import (
    DEFAULT_DAYS,
    DEFAULT_PRODUCTS,
    DEFAULT_SIZES,
    GIB,
    BenchFailed,
    BenchReport,
    Say,
    WorldFigures,
    WorldSize,
    bench_worlds,
    parse_history,
    parse_sizes,
    summarise,
    write_report,
)
from mrs.pipeline.project import MrsError, Project

DEFAULT_JSON = Path("target") / "bench.json"
DEFAULT_SHARDS_JSON = Path("target") / "bench_shards.json"


def add_bench_parser(commands: argparse._SubParsersAction) -> None:
    bench = commands.add_parser(
        "bench",
        help="time full and one-tick builds of the whole pipeline on 1 M / 10 M / 20 M rows",
        description="For each world size: generate the world (Parquet), build every model into "
        "a fresh database up to one tick before the end of the data, run the hand-written "
        "detection reference query, then build again one tick later. Prints wall times, "
        "per-stage times, peak memory, rows per second, the ratios and the targets, and "
        "writes them all as JSON.",
    )
    bench.add_argument(
        "--sizes",
        default=DEFAULT_SIZES,
        help=f"comma-separated sales-row counts, e.g. 0.2M for a quick run (default "
        f"{DEFAULT_SIZES}); the stores are chosen to reach each size",
    )
    bench.add_argument(
        "--products", type=int, default=DEFAULT_PRODUCTS, help="products (default 10)"
    )
    bench.add_argument("--days", type=int, default=DEFAULT_DAYS, help="days of sales (default 41)")
    bench.add_argument(
        "--history",
        help="the history axis instead of --sizes: comma-separated months of hourly ticks "
        "after four training weeks (e.g. 1,3,6,12), each a world of the same --stores x "
        "--products series whose detection runs over all of them",
    )
    bench.add_argument(
        "--stores", type=int, default=20, help="stores of each --history world (default 20)"
    )
    bench.add_argument(
        "--dense",
        action="store_true",
        help="replay the demo's eight narratives in every block of 24 stores: about as many "
        "reports per million rows as a real feed (the default world has them in the first 24 "
        "stores only, which flatters the models that work per report)",
    )
    bench.add_argument(
        "--sales-format",
        choices=("parquet", "csv"),
        default="parquet",
        help="how the sales file is delivered (default parquet); csv shows what a build "
        "reads of a text feed that grows every hour",
    )
    bench.add_argument(
        "--tick-repeats",
        type=positive_count,
        default=3,
        help="one-tick builds per world, each from the full build's state, in rounds of one "
        "build of every world (so a slow spell falls on every world alike), each timed in a "
        "process of its own and as `mrs build --every` runs it (the second build of one "
        "process); the medians are reported (default 3: a shared machine moves one build "
        "by a third)",
    )
    bench.add_argument(
        "--shards",
        help="the scale-out axis instead of the one-tick builds: comma-separated shard counts "
        "(e.g. 1,2), each a full build of every --sizes world as that many shards, each "
        "shard's phases and the global stage timed and measured apart (docs/scale_out.md)",
    )
    bench.add_argument(
        "--work-dir", type=work_folder, help="where the temporary worlds go (created if missing)"
    )
    bench.add_argument(
        "--json",
        type=Path,
        help=f"where the figures go (default {DEFAULT_JSON} in the project)",
    )
    bench.set_defaults(handler=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    try:
        sizes = (
            parse_history(args.history, args.stores, args.products, args.dense, args.sales_format)
            if args.history
            else parse_sizes(args.sizes, args.products, args.days, args.dense, args.sales_format)
        )
    except ValueError as error:
        raise MrsError(str(error)) from error
    project = Project.locate()
    if args.shards:
        return _run_shard_bench(args, sizes, project)
    output = args.json or project.root / DEFAULT_JSON
    for size in sizes:
        print(f"mrs bench: world {size.label} ({size.rows:,} sales rows)", flush=True)
    try:
        run = bench_worlds(
            sizes,
            project.root,
            lambda size: _progress(size.label),
            args.work_dir,
            args.tick_repeats,
        )
    except (BenchFailed, MeasureError) as error:
        print(f"mrs bench: {error}", file=sys.stderr)
        return 1
    if run.worlds:
        report = summarise(run.worlds)
        write_report(report, output)
        for line in report_lines(report):
            print(line)
        print(f"figures written to {output}")
    for failure in run.failures:
        print(f"mrs bench: {failure}", file=sys.stderr)
    if run.failures:
        if run.worlds:
            print(f"mrs bench: the figures of the other worlds are in {output}")
        return 1
    return 0


def _run_shard_bench(args: argparse.Namespace, sizes: list[WorldSize], project: Project) -> int:
    from mrs.dev.shard_bench import bench_shards, shard_report_lines, write_shard_report

    counts = _shard_counts(args.shards)
    output = args.json or project.root / DEFAULT_SHARDS_JSON
    for size in sizes:
        print(f"mrs bench: world {size.label} ({size.rows:,} sales rows), shards {counts}")
        try:
            report = bench_shards(size, counts, project.root, _progress(size.label), args.work_dir)
        except (BenchFailed, MeasureError) as error:
            print(f"mrs bench: {error}", file=sys.stderr)
            return 1
        for line in shard_report_lines(report):
            print(line)
        write_shard_report(report, output.with_name(f"{output.stem}-{size.label}{output.suffix}"))
    print(f"figures written beside {output}")
    return 0


def _shard_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise MrsError(f"--shards {text!r}: expected shard counts like 1,2 (each 1 or more)")
    return counts


def _progress(label: str) -> Say:
    return lambda message: print(f"  [{label}] {message}", flush=True)


def report_lines(report: BenchReport) -> list[str]:
    return [
        "",
        *_world_table(report.worlds),
        "",
        *_stage_table(report.worlds),
        "",
        *_linearity_lines(report),
        "",
        *_target_lines(report),
    ]


# (heading, format of a cell); each column is as wide as its heading or its widest cell.
WORLD_COLUMNS = (
    ("world", "{}"),
    ("sales rows", "{:,}"),
    ("reports", "{:,}"),
    ("gen s", "{:.1f}"),
    ("full s", "{:.1f}"),
    ("1-tick s", "{:.1f}"),
    ("1-tick loop s", "{}"),
    ("1-tick/full", "{:.2f}"),
    ("rows/s", "{:,.0f}"),
    ("detect s", "{:.1f}"),
    ("ref s", "{:.1f}"),
    ("detect/ref", "{:.2f}"),
    ("peak GiB", "{:.2f}"),
    ("s per M rows", "{:.2f}"),
)


def _world_cells(world: WorldFigures) -> list[str]:
    values = [
        world.size.label,
        world.sales_rows,
        world.reports,
        world.generate_seconds,
        world.full.wall_seconds,
        world.incremental.wall_seconds,
        "-" if world.loop_incremental is None else f"{world.loop_incremental.wall_seconds:.1f}",
        world.incremental_ratio,
        world.rows_per_second,
        world.detection_seconds,
        world.reference_seconds,
        world.detection_ratio,
        world.peak_rss_bytes / GIB,
        world.seconds_per_million_rows,
    ]
    return [fmt.format(value) for (_, fmt), value in zip(WORLD_COLUMNS, values, strict=True)]


def _world_table(worlds: list[WorldFigures]) -> list[str]:
    rows = [[name for name, _ in WORLD_COLUMNS], *(_world_cells(world) for world in worlds)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(WORLD_COLUMNS))]
    return [
        "  ".join(f"{cell:>{width}}" for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]


def _stage_table(worlds: list[WorldFigures]) -> list[str]:
    stages: list[str] = []
    for world in worlds:
        for build in (world.full, world.incremental):
            stages += [stage for stage in build.stage_seconds if stage not in stages]
    columns = [f"{w.size.label} {kind}" for w in worlds for kind in ("full", "1-tick")]
    width = max([12, *(len(column) for column in columns)])
    lines = ["seconds per stage (sum of model times; 2 dbt threads can overlap):"]
    lines.append(f"  {'stage':<12}" + "".join(f"{column:>{width + 1}}" for column in columns))
    for stage in stages:
        cells = [
            build.stage_seconds.get(stage, 0.0)
            for world in worlds
            for build in (world.full, world.incremental)
        ]
        lines.append(f"  {stage:<12}" + "".join(f"{cell:>{width + 1}.1f}" for cell in cells))
    return lines


def _linearity_lines(report: BenchReport) -> list[str]:
    linearity = report.linearity
    lines = [
        "full-build seconds per million rows: "
        + ", ".join(
            f"{label} {value:.2f}" for label, value in linearity.seconds_per_million_rows.items()
        )
    ]
    if linearity.cost_ratio is not None:
        lines.append(
            f"cost growth {linearity.largest} vs {linearity.smallest} (marginal seconds per "
            f"million rows, upper pair / lower pair): {linearity.cost_ratio:.2f}x; "
            "least-squares fit: "
            f"{linearity.fixed_seconds:.1f} s fixed + "
            f"{linearity.marginal_seconds_per_million_rows:.2f} s per million rows"
        )
    return lines


def _target_lines(report: BenchReport) -> list[str]:
    lines = ["targets:"]
    for target in report.targets:
        measured = (
            f"{target.value:.2f} (limit {target.limit:g}, world {target.world})"
            if target.value is not None
            else target.missing
        )
        lines.append(f"  {target.verdict:<13} {target.name}: {measured}")
        lines.append(f"  {'':<13}   rule: {target.rule}")
    return lines


def work_folder(text: str) -> Path:
    """A scratch folder for temporary worlds, created if missing (tempfile will not)."""
    folder = Path(text)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise argparse.ArgumentTypeError(f"cannot create work folder {folder}: {error}") from error
    return folder


def positive_count(text: str) -> int:
    """A whole number of at least 1 (argparse type)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)
