"""`mrs build --every`: build on a schedule in one long-lived process.

An hourly scheduler that starts `mrs build` pays for Python, for importing dbt and for
finding the project again at every tick; this loop pays for them once and runs each build
through dbt's programmatic runner (Project.dbt_in_process). The builds are the same as
`mrs build`'s: each one reads the settings, the active run and the inputs afresh.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from mrs.pipeline.project import MrsError

# Ctrl-C, and what a scheduler or service manager sends to stop a process.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# How often a wait between builds looks at the stop request: an interrupted sleep is resumed
# by Python (PEP 475) when the handler only records the request.
_WAIT_SLICE_SECONDS = 0.2


class _StopRequest:
    """A stop asked for by signal. The request is recorded before anything is raised: a
    KeyboardInterrupt can be lost (raised inside a finaliser, or caught by the code a build
    runs), and the loop then still stops after that build instead of starting the next one."""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.building = False

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.asked.set()
        if self.building:
            raise KeyboardInterrupt  # stop the build itself, as Ctrl-C always did

    @contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach only the main thread: keep the process's handlers
            return
        previous = {signum: signal.signal(signum, self.handle) for signum in STOP_SIGNALS}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def wait(self, seconds: float) -> None:
        """Sleep `seconds`, or less if a stop is asked for meanwhile."""
        end = time.monotonic() + seconds
        while not self.asked.is_set() and (left := end - time.monotonic()) > 0:
            time.sleep(min(left, _WAIT_SLICE_SECONDS))


def build_every(
    build: Callable[[], int],
    every_seconds: float,
    builds: int | None,
    say: Callable[[str], None],
) -> int:
    """Run `build` every `every_seconds` (a build that takes longer starts the next at once)
    until `builds` have run, or for ever; Ctrl-C or SIGTERM stops between builds, or during
    one (it is interrupted). Exit code 1 if any build failed, else 0. A build that cannot start
    (the database stays locked) is reported and the loop goes on: one missed tick is caught up
    by the next build."""
    stop = _StopRequest()
    done = failed = 0
    next_start = time.monotonic()
    with stop.installed():
        try:
            while (builds is None or done < builds) and not stop.asked.is_set():
                stop.wait(next_start - time.monotonic())
                if stop.asked.is_set():
                    break
                started = time.monotonic()
                next_start = started + every_seconds
                stop.building = True
                try:
                    code = build()
                except MrsError as error:
                    say(f"mrs: build {done + 1} did not start: {error}")
                    code = 2
                finally:
                    stop.building = False
                done += 1
                failed += code != 0
                outcome = "done" if code == 0 else f"failed (exit {code})"
                line = f"mrs: build {done} {outcome} in {time.monotonic() - started:.1f} s"
                if (builds is None or done < builds) and not stop.asked.is_set():
                    line += f"; the next starts in {max(next_start - time.monotonic(), 0):.0f} s"
                say(line)
        except KeyboardInterrupt:
            stop.asked.set()
        if stop.asked.is_set():
            say(f"mrs: stopped after {done} build(s)")
    return 1 if failed else 0
