"""`mrs build --every`: build on a schedule in one long-lived process.

An hourly scheduler that starts `mrs build` pays for Python, for importing dbt and for
finding the project again at every tick; this loop pays for them once and runs each build
through dbt's programmatic runner (Project.dbt_in_process). The builds are the same as
`mrs build`'s: each one reads the settings, the active run and the inputs afresh.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mrs.pipeline.project import MrsError


def build_every(
    build: Callable[[], int],
    every_seconds: float,
    builds: int | None,
    say: Callable[[str], None],
) -> int:
    """Run `build` every `every_seconds` (a build that takes longer starts the next at once)
    until `builds` have run, or for ever; Ctrl-C stops between or during builds. Exit code 1
    if any build failed, else 0. A build that cannot start (the database stays locked) is
    reported and the loop goes on: one missed tick is caught up by the next build."""
    done = failed = 0
    next_start = time.monotonic()
    try:
        while builds is None or done < builds:
            delay = next_start - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            started = time.monotonic()
            next_start = started + every_seconds
            try:
                code = build()
            except MrsError as error:
                say(f"mrs: build {done + 1} did not start: {error}")
                code = 2
            done += 1
            failed += code != 0
            outcome = "done" if code == 0 else f"failed (exit {code})"
            line = f"mrs: build {done} {outcome} in {time.monotonic() - started:.1f} s"
            if builds is None or done < builds:
                line += f"; the next starts in {max(next_start - time.monotonic(), 0):.0f} s"
            say(line)
    except KeyboardInterrupt:
        say(f"mrs: stopped after {done} build(s)")
    return 1 if failed else 0
