"""Run one dbt command in a child Python process and report its wall time and peak memory.

How the peak is measured: `getrusage(RUSAGE_CHILDREN).ru_maxrss` is the largest peak resident
set size of any descendant a process has waited for, over the whole life of that process. In
the benchmark's own process it would mix every build (and the world generator's children) into
one figure, so each dbt command runs under a fresh child interpreter (`python -m
mrs.dev.measured_dbt REQUEST RESULT`) that calls `Project.dbt` once and then reads its own
RUSAGE_CHILDREN: the figure is exactly the peak of that one dbt process. It is exact, not
sampled, so short spikes are not missed. dbt-duckdb runs DuckDB and the Python models inside
the dbt process, so that process is the whole build; were dbt ever to start memory-hungry
children of its own, the figure would be the largest single process, not their sum.

As an hourly loop runs it (`loop_restore`): the child runs the command twice through dbt's
programmatic runner in its own process, as `mrs build --every` does, the database restored
from `loop_restore` between the two. The first build warms the process up as the loop's
previous build did; the second is the one measured, and the peak is the child's own (its
memory map's high-water mark, VmHWM, on Linux: dbt runs inside it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from mrs.pipeline.project import Project


class MeasureError(Exception):
    """The measuring child process itself failed (not dbt); the message says what to do."""


@dataclass(frozen=True)
class MeasuredRun:
    exit_code: int
    wall_seconds: float
    peak_rss_bytes: int


def run_measured(
    project: Project,
    arguments: list[str],
    dbt_vars: dict[str, object],
    scratch: Path,
    environment: dict[str, str] | None = None,
    loop_restore: Path | None = None,
) -> MeasuredRun:
    """Run `dbt <arguments>` through `Project.dbt` in a child interpreter; dbt's output is
    shown as usual. `scratch` is a folder for the request and result files; `environment`:
    more environment variables for the command; `loop_restore`: measure the command as an
    hourly loop runs it, the second of two builds in one process, the database copied back
    from this file between them (see the module's docstring)."""
    scratch.mkdir(parents=True, exist_ok=True)
    request = scratch / "dbt_request.json"
    result = scratch / "dbt_result.json"
    result.unlink(missing_ok=True)
    request.write_text(
        json.dumps(
            {
                "root": str(project.root),
                "database": str(project.database),
                "arguments": arguments,
                "vars": dbt_vars,
                "environment": environment or {},
                "loop_restore": None if loop_restore is None else str(loop_restore),
            }
        )
    )
    command = [sys.executable, "-m", "mrs.dev.measured_dbt", str(request), str(result)]
    settle_writes()
    completed = subprocess.run(command, check=False)
    if completed.returncode != 0 or not result.exists():
        raise MeasureError(
            f"the process measuring dbt exited {completed.returncode} without a result; "
            "see its output above (is the `mrs` package importable by this Python?)"
        )
    return MeasuredRun(**json.loads(result.read_text()))


def settle_writes() -> None:
    """Write what the page cache holds to disk before a measured build starts. A build
    measured right after the bench restored its database (a copy of 1 GB at 12 months)
    began with that copy's pages still to write, and its commits that sync the disk can wait
    for them (on ext4, ordered data, a journal commit writes new files' data first); an
    hourly build, an hour after the last, does not start so. On a kept 12-month world, ticks
    alternating in one process: 10.7, 10.1, 8.9 and 9.6 s without, 9.8, 9.7, 9.2 and 9.7 s
    with (2026-12-05): the spread, not the level."""
    if hasattr(os, "sync"):  # Unix
        os.sync()


def _peak_rss_of_children() -> int:
    """The largest peak resident set of this process's waited-for children."""
    import resource  # Unix only: imported here so the package still imports elsewhere.

    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # Linux reports kibibytes, macOS bytes.
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def _own_peak_rss() -> int:
    """This process's own peak resident set. On Linux a process's ru_maxrss carries over an
    exec: a child started from the bench's process began with the bench's peak (4.65 GiB
    after the 12-month reference query, whatever it built). Its memory map's high-water
    mark (VmHWM) starts afresh; elsewhere ru_maxrss is all there is."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def main(argv: Sequence[str]) -> int:
    """The child side: run the requested dbt command (once, or twice as a loop) and write a
    MeasuredRun."""
    if len(argv) != 2:
        print("usage: python -m mrs.dev.measured_dbt REQUEST.json RESULT.json", file=sys.stderr)
        return 2
    request = json.loads(Path(argv[0]).read_text())
    project = Project(root=Path(request["root"]), database=Path(request["database"]))
    arguments = list(request["arguments"])
    dbt_vars = dict(request["vars"])
    environment = dict(request.get("environment", {}))
    if request.get("loop_restore"):
        run = _measure_in_loop(project, arguments, dbt_vars, environment, request["loop_restore"])
    else:
        started = time.perf_counter()
        code = project.dbt(arguments, dbt_vars, environment)
        run = MeasuredRun(
            exit_code=code,
            wall_seconds=time.perf_counter() - started,
            peak_rss_bytes=_peak_rss_of_children(),
        )
    Path(argv[1]).write_text(json.dumps(asdict(run)))
    return 0


def _measure_in_loop(
    project: Project,
    arguments: list[str],
    dbt_vars: dict[str, object],
    environment: dict[str, str],
    restore_from: str,
) -> MeasuredRun:
    """Two builds in this process, the database restored between them; the second measured."""
    from mrs.pipeline.database_copy import copy_database

    started = time.perf_counter()
    code = project.dbt_in_process(arguments, dbt_vars, environment)
    if code == 0:
        copy_database(Path(restore_from), project.database.parent)
        settle_writes()
        started = time.perf_counter()
        code = project.dbt_in_process(arguments, dbt_vars, environment)
    return MeasuredRun(
        exit_code=code,
        wall_seconds=time.perf_counter() - started,
        peak_rss_bytes=_own_peak_rss(),
    )


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
