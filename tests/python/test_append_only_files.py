"""The edit and registry journals under concurrent writers (issue 15): N writers, N files."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
from pathlib import Path

from mrs.registry.records import RECORDS, records, write_record
from mrs.review.journal import Edit, edits_folder, write_edit

WRITERS = 100
STAMP = dt.datetime(2025, 8, 12, 6, 0)


def _write_one_edit(arguments: tuple[str, int]) -> str:
    database, writer = arguments
    edit = Edit(
        target_id="MR-000000000001",
        action="approve",
        actor=f"analyst-{writer:03d}",
        user_role="marketer",
        edited_at=STAMP,  # every writer the same second: the worst case for names
        run_id="demo-run-001",
    )
    return write_edit(Path(database), edit).name


def _write_one_record(arguments: tuple[str, int]) -> str:
    folder, writer = arguments
    record = {"record_type": "candidate", "model_name": "attribution_model", "writer": writer}
    return write_record(Path(folder), record).name


def _all_at_once(function, arguments: list[tuple[str, int]]) -> list[str]:
    # One process per writer, all released together.
    with multiprocessing.get_context("fork").Pool(processes=WRITERS) as pool:
        return pool.map(function, arguments, chunksize=1)


def test_a_hundred_concurrent_edits_leave_a_hundred_files(tmp_path: Path) -> None:
    database = tmp_path / "mrs.duckdb"
    names = _all_at_once(_write_one_edit, [(str(database), w) for w in range(WRITERS)])
    assert len(set(names)) == WRITERS
    folder = edits_folder(database, event=False)
    files = sorted(folder.glob("*.json"))
    assert len(files) == WRITERS
    actors = {json.loads(file.read_text())["actor"] for file in files}
    assert actors == {f"analyst-{w:03d}" for w in range(WRITERS)}
    # Names keep the order edits are read in: the time, then a sequence with no gaps.
    assert [file.name for file in files] == [
        f"{STAMP:%Y%m%dT%H%M%S}-{sequence:08d}.json" for sequence in range(1, WRITERS + 1)
    ]
    # No temporary file is left behind.
    assert sorted(path.name for path in folder.iterdir()) == [file.name for file in files]


def test_a_hundred_concurrent_registry_records_leave_a_hundred_files(tmp_path: Path) -> None:
    _all_at_once(_write_one_record, [(str(tmp_path), w) for w in range(WRITERS)])
    files = sorted((tmp_path / RECORDS).glob("*.json"))
    assert len(files) == WRITERS
    assert sorted(record["writer"] for record in records(tmp_path)) == list(range(WRITERS))
