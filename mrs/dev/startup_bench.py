"""`mrs bench-startup`: what dbt's fixed cost is in a build, and what a long-lived process
(`mrs build --every`) saves of it.

On the demo world, built into a temporary folder and then rebuilt with nothing new to
build, so that what is measured is the cost every hourly build pays whatever its data: dbt parsing
the project (partial parsing, as every build after the first; and a full parse, as after a
change of the project), an unchanged rebuild started as a new process (`mrs build`), and the
same rebuild through dbt's programmatic runner in this process (`mrs build --every`; its
first build also imports dbt).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mrs.pipeline.project import WITHOUT_TESTS, MrsError, Project
from mrs.review.journal import ensure_journal

Say = Callable[[str], None]


@dataclass(frozen=True)
class StartupFigures:
    parse_partial_seconds: float
    parse_full_seconds: float
    process_builds: tuple[float, ...]  # each unchanged rebuild as a new dbt process
    in_process_builds: tuple[float, ...]  # the same in this process; the first imports dbt

    @property
    def saving_per_build(self) -> float:
        """Median new-process rebuild less the median warm in-process one."""
        warm = self.in_process_builds[1:] or self.in_process_builds
        return statistics.median(self.process_builds) - statistics.median(warm)


def bench_startup(builds: int, say: Say, work_dir: Path | None) -> StartupFigures:
    """Build the demo world (seeds and models, no tests) into a temporary folder, then measure."""
    with tempfile.TemporaryDirectory(prefix="mrs-bench-startup-", dir=work_dir) as folder:
        project = Project.locate(Path(folder) / "startup.duckdb")
        ensure_journal(project.database)
        scratch = ["--target-path", f"{folder}/target", "--log-path", f"{folder}/logs"]
        build = ["build", *WITHOUT_TESTS, "--quiet", *scratch]

        def timed(step: str, run: Callable[[], int]) -> float:
            started = time.perf_counter()
            code = run()
            seconds = time.perf_counter() - started
            if code != 0:
                raise MrsError(f"{step} failed (dbt exit code {code}); see dbt's output above")
            say(f"{step}: {seconds:.1f} s")
            return seconds

        timed("full build of the demo world", lambda: project.dbt(build))
        partial = timed("dbt parse, partial", lambda: project.dbt(["parse", "-q", *scratch]))
        full = timed(
            "dbt parse, full", lambda: project.dbt(["parse", "-q", "--no-partial-parse", *scratch])
        )
        process = tuple(
            timed(f"unchanged rebuild {n + 1}, a new dbt process", lambda: project.dbt(build))
            for n in range(builds)
        )
        in_process = tuple(
            timed(
                f"unchanged rebuild {n + 1}, in this process",
                lambda: project.dbt_in_process(build),
            )
            for n in range(builds + 1)
        )
    return StartupFigures(partial, full, process, in_process)


def summary_lines(figures: StartupFigures) -> list[str]:
    warm = figures.in_process_builds[1:] or figures.in_process_builds
    rows = [
        ("dbt parse, partial (every build after the first)", figures.parse_partial_seconds),
        ("dbt parse, full (after a change of the project)", figures.parse_full_seconds),
        ("unchanged rebuild as a new dbt process (mrs build)",
         statistics.median(figures.process_builds)),
        ("unchanged rebuild in one process (mrs build --every)", statistics.median(warm)),
        ("  its first build, importing dbt", figures.in_process_builds[0]),
        ("saved per build by the long-lived process", figures.saving_per_build),
    ]  # fmt: skip
    return ["fixed cost of a build (seconds; medians of the rebuilds):"] + [
        f"  {label:<54}{seconds:6.1f}" for label, seconds in rows
    ]
