"""`mrs evaluate --family` builds worlds side by side, each in a build slot of its own
(mrs.dev.family_evaluation.run_in_slots): no two running worlds share a database path or a
dbt target folder, and the scores come back in the worlds' order whatever finishes first."""

from __future__ import annotations

import threading
import time

import pytest

from mrs.dev.family_evaluation import run_in_slots


class SlotWatch:
    """Records which slots are held while tasks run."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.held: set[int] = set()
        self.most_at_once = 0
        self.clashes: list[int] = []

    def run(self, task: float, slot: int) -> tuple[float, int]:
        with self.lock:
            if slot in self.held:
                self.clashes.append(slot)
            self.held.add(slot)
            self.most_at_once = max(self.most_at_once, len(self.held))
        # Later tasks finish first: the results must still come back in the tasks' order.
        time.sleep(task)
        with self.lock:
            self.held.discard(slot)
        return task, slot


def test_worlds_run_side_by_side_each_in_its_own_slot_and_come_back_in_order() -> None:
    tasks = [0.05, 0.04, 0.03, 0.02, 0.01, 0.0]
    watch = SlotWatch()
    results = run_in_slots(tasks, 2, watch.run)
    assert [task for task, _ in results] == tasks
    assert {slot for _, slot in results} == {0, 1}
    assert watch.clashes == []
    assert watch.most_at_once == 2


def test_one_job_uses_one_slot() -> None:
    watch = SlotWatch()
    results = run_in_slots([0.01, 0.0, 0.01], 1, watch.run)
    assert [slot for _, slot in results] == [0, 0, 0]
    assert watch.most_at_once == 1


def test_a_failed_world_fails_the_evaluation_and_the_rest_is_not_started() -> None:
    started: list[int] = []

    def run(task: int, slot: int) -> int:
        started.append(task)
        if task == 0:
            raise RuntimeError("the build of seed 0 failed")
        time.sleep(0.5)
        return task

    with pytest.raises(RuntimeError, match="seed 0 failed"):
        run_in_slots(list(range(20)), 1, run)
    # The one worker may have taken the next world before the failure was seen; no more.
    assert started[0] == 0 and len(started) <= 2, started


def test_no_slot_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        run_in_slots([1], 0, lambda task, slot: task)
