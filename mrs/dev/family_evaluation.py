"""`mrs evaluate --family`: generate family worlds, build detection on each, score them.

Each world is built into its own throw-away database with only what detection needs
(staging, timeline, detection; no tests), and with its own dbt target and log folders so a
dbt process running in the project at the same time never shares run results or the
partial-parse file with it. Worlds are built `jobs` at a time, each in one of `jobs` build
slots (a database path and a target folder of its own), so dbt parses the project once per
slot; the scores do not depend on how many slots there are.
"""

from __future__ import annotations

import queue
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from mrs.dev.power_curve import FamilyScores, combine, score_family_world, with_timings
from mrs.dev.world_family import FamilyOptions, family_build_vars, write_family_world
from mrs.pipeline.project import WITHOUT_TESTS, Project
from mrs.review.journal import ensure_journal

# Everything upstream of the two detection logs: staging, run settings, ticks, the baseline
# (baseline_sales_predictions) and the classifier.
DETECTION_SELECTION = "+minority_reports_detected_log +minority_event_ended_log"


class FamilyBuildError(Exception):
    """A world's dbt build failed (the work failed, not the usage: exit code 1)."""


# Worlds built at once: a world's build leaves a core idle for much of its time (dbt starts,
# runs small statements one after another), so two side by side on the 2-core machine
# score nine worlds in 70 % of the time one at a time takes (110 s against 157 s).
DEFAULT_JOBS = 2

Task = TypeVar("Task")
Result = TypeVar("Result")


def evaluate_family(
    seeds: Sequence[int],
    null_seeds: Sequence[int],
    say: Callable[[str], None],
    work_dir: Path | None = None,
    world: Mapping[str, int | float] | None = None,
    jobs: int = DEFAULT_JOBS,
) -> FamilyScores:
    """Generate, build and score the world of each seed (null worlds for `null_seeds`),
    `jobs` worlds at a time; `world` sets other FamilyOptions fields (stores, products,
    training_days, detection_days, shape_drift, hour_noise_sd, hour_noise_rho, store_noise_sd,
    store_events) for every world."""
    worlds = family_worlds(seeds, null_seeds, world)
    with tempfile.TemporaryDirectory(prefix="mrs-family-", dir=work_dir) as folder:
        scores = run_in_slots(
            worlds,
            jobs,
            lambda options, slot: _evaluate_world(options, Path(folder), slot, say),
        )
    return combine(scores)


def family_worlds(
    seeds: Sequence[int],
    null_seeds: Sequence[int],
    world: Mapping[str, int | float] | None = None,
) -> list[FamilyOptions]:
    """The options of each seed's world, then of each null seed's, `world` set on all."""
    shared = dict(world or {})
    worlds = [FamilyOptions(seed=s, **shared) for s in seeds]
    return worlds + [FamilyOptions(seed=s, null=True, **shared) for s in null_seeds]


def run_in_slots(
    tasks: Sequence[Task], jobs: int, run: Callable[[Task, int], Result]
) -> list[Result]:
    """`run(task, slot)` for every task, at most `jobs` at once, each on a slot (0 to
    jobs - 1) no other running task holds; the results in the tasks' order. The first
    failure is raised once the running tasks have finished; tasks not started are dropped."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    free_slots: queue.SimpleQueue[int] = queue.SimpleQueue()
    for slot in range(jobs):
        free_slots.put(slot)

    def in_a_slot(task: Task) -> Result:
        slot = free_slots.get()
        try:
            return run(task, slot)
        finally:
            free_slots.put(slot)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(in_a_slot, task) for task in tasks]
        try:
            return [future.result() for future in futures]
        finally:
            for future in futures:
                future.cancel()


def _evaluate_world(
    options: FamilyOptions, folder: Path, slot: int, say: Callable[[str], None]
) -> FamilyScores:
    label = f"seed {options.seed}{' (null)' if options.null else ''}"
    world = folder / f"{'null' if options.null else 'seed'}-{options.seed}"
    say(f"{label}: generating")
    started = time.perf_counter()
    paths = write_family_world(options, world)
    generated = time.perf_counter() - started
    say(f"{label}: building")
    started = time.perf_counter()
    # Every world of a slot is built at the same path, so dbt's profile is the same for all
    # of them and it re-parses the project for none but the slot's first (about 5 s a
    # world); the database moves to its world's folder once scored.
    database = folder / f"build-{slot}" / "mrs.duckdb"
    shutil.rmtree(database.parent, ignore_errors=True)
    database.parent.mkdir()
    project = Project.locate(database)
    ensure_journal(project.database)
    arguments = [
        "build",
        "--quiet",
        "--no-write-json",  # nothing reads the artifacts; writing them costs about 1.6 s
        "--select",
        DETECTION_SELECTION,
        *WITHOUT_TESTS,
        "--target-path",
        str(folder / f"target-{slot}"),
        "--log-path",
        str(folder / f"logs-{slot}"),
    ]
    code = project.dbt(arguments, family_build_vars(options, paths.inputs))
    built = time.perf_counter() - started
    if code != 0:
        raise FamilyBuildError(f"the build of {label} failed; see the dbt output above")
    scores = score_family_world(database, paths.truth, options.seed, options.null)
    shutil.move(database, world / database.name)
    world_summary = scores.worlds[0]
    say(
        f"{label}: {world_summary.detected}/{world_summary.anomalies} anomalies detected, "
        f"{world_summary.reports} reports ({generated:.1f} s generating, {built:.1f} s building)"
    )
    return with_timings(scores, generated, built)
