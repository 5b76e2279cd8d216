"""`mrs build --every`'s loop, with a stand-in build: how Ctrl-C and SIGTERM stop it."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from mrs.pipeline.build_loop import build_every


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_between_builds_ends_the_wait_and_the_loop(signum: int) -> None:
    said: list[str] = []
    # Sent from another thread while the loop waits 30 s for its next build.
    sender = threading.Timer(0.3, os.kill, (os.getpid(), signum))
    before = signal.getsignal(signum)
    code = build_every(lambda: 0 if sender.start() is None else 1, 30, builds=2, say=said.append)
    sender.join()
    assert code == 0
    assert said == [
        "mrs: build 1 done in 0.0 s; the next starts in 30 s",
        "mrs: stopped after 1 build(s)",
    ]
    # The process's own handlers are back (the suite's Ctrl-C, a caller's SIGTERM).
    assert signal.getsignal(signum) is before


def test_a_stop_a_build_swallowed_still_ends_the_loop_after_that_build() -> None:
    # Ctrl-C interrupts the build; code the build runs may catch the KeyboardInterrupt and
    # return a failure (or it is raised inside a finaliser and lost): the loop still stops
    # instead of starting build 2 (the suite once waited out a 600 s loop so).
    interrupted: list[bool] = []

    def build() -> int:
        try:
            signal.raise_signal(signal.SIGINT)  # its handler runs before this returns
        except KeyboardInterrupt:
            interrupted.append(True)
            return 1
        return 0

    said: list[str] = []
    code = build_every(build, every_seconds=0, builds=3, say=said.append)
    assert interrupted == [True]
    assert code == 1
    assert said == ["mrs: build 1 failed (exit 1) in 0.0 s", "mrs: stopped after 1 build(s)"]


def test_ctrl_c_during_a_build_stops_it_and_the_loop() -> None:
    def build() -> int:
        signal.raise_signal(signal.SIGINT)
        raise AssertionError("the build went on after Ctrl-C")

    said: list[str] = []
    assert build_every(build, every_seconds=0, builds=None, say=said.append) == 0
    assert said == ["mrs: stopped after 0 build(s)"]
