"""The active run of a database (DESIGN.md section 2.6: reset).

`mrs reset` starts a new run: it records the new run_id beside the database, and every later
`mrs build` passes it to dbt, which replays all ticks into the new run. Hydrated tables
follow the active run; the logs keep every earlier run's rows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb

from mrs.pipeline.database_lock import open_database
from mrs.pipeline.project import MrsError
from mrs.pipeline.whole_files import replace_file
from mrs.review.journal import journal_dir

ACTIVE_RUN_FILE = "active_run.json"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def active_run(database: Path) -> str | None:
    """The run recorded by the last `mrs reset`, or None (the configured default run)."""
    path = journal_dir(database) / ACTIVE_RUN_FILE
    if not path.exists():
        return None
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["run_id"])
    except (ValueError, KeyError) as error:
        raise MrsError(
            f"{path} is damaged ({error}); run `mrs reset --run-id NEW_ID` to start a new run"
        ) from error


def start_run(database: Path, run_id: str) -> list[str]:
    """Record `run_id` as the active run after checking it names no earlier run."""
    if not _RUN_ID.match(run_id):
        raise MrsError(
            f"run id {run_id!r} is not valid: use up to 64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    used = _runs_in(database)
    if run_id in used:
        raise MrsError(
            f"run {run_id!r} already exists in {database.name}; a run id names one run, "
            f"so pick a new one (used: {', '.join(sorted(used))})"
        )
    replace_file(journal_dir(database) / ACTIVE_RUN_FILE, json.dumps({"run_id": run_id}) + "\n")
    return sorted(used)


def _runs_in(database: Path) -> set[str]:
    if not database.exists():
        return set()
    try:
        with open_database(database) as con:
            listed = con.execute("select table_name from duckdb_tables()").fetchall()
            tables = {row[0] for row in listed}
            if "minority_reports_detected_log" not in tables:
                return set()
            rows = con.execute(
                "select distinct run_id from minority_reports_detected_log"
            ).fetchall()
            return {row[0] for row in rows}
    except duckdb.IOException as error:
        raise MrsError(
            f"cannot read {database} ({error}); wait for the running build to finish"
        ) from error
