"""Opening the DuckDB file while another process holds its lock: say so once, wait, give up
with a clear error (exit 2). DuckDB lets one writer or many readers in, never both, so a
build waits for a BI client's read-only connection and a reader waits for a build."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

import duckdb

from mrs.pipeline.project import MrsError

DEFAULT_WAIT_SECONDS = 600.0


class DatabaseBusy(MrsError):
    """Another process kept the lock longer than we were willing to wait."""


# The working file's schemas (dbt_project.yml): the logs in logs, the staged inputs and their
# rejected rows in staging, everything derived in main. MRS's own readers resolve all by name.
STAGING_SCHEMA = "staging"
LOGS_SCHEMA = "logs"


def open_database(database: Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection to a working file that finds the logs and the staged inputs by name, as
    the tables of main (set search_path; a BI tool names them `logs.<log>`,
    `staging.<table>`)."""
    connection = duckdb.connect(str(database), read_only=read_only)
    try:
        # A file no build has written yet (or a hand-made one) lacks those schemas, and
        # DuckDB refuses a search path through a schema that does not exist.
        present = connection.execute(
            "select schema_name from information_schema.schemata "
            "where catalog_name = current_database() and schema_name in (?, ?) "
            "order by schema_name",
            [LOGS_SCHEMA, STAGING_SCHEMA],
        ).fetchall()
        if present:
            path = ",".join(["main", *(schema for (schema,) in present)])
            connection.execute(f"set search_path = '{path}'")
    except duckdb.Error:
        connection.close()
        raise
    return connection


def connect_waiting(
    database: Path,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    stderr: TextIO | None = None,
    read_only: bool = True,
) -> duckdb.DuckDBPyConnection:
    """A connection to `database`, retried every second while another process holds it."""
    stderr = stderr or sys.stderr
    deadline = time.monotonic() + wait_seconds
    announced = False
    holder = "a build is running?" if read_only else "a BI tool, the app or a build has it open?"
    while True:
        try:
            return open_database(database, read_only=read_only)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower():
                raise MrsError(f"cannot open {database}: {error}") from error
            if time.monotonic() >= deadline:
                raise DatabaseBusy(
                    f"the database {database} is still busy after {wait_seconds:g} s; "
                    "try again when the other process has let go of it, or pass --wait SECONDS"
                ) from error
            if not announced:
                print(
                    f"mrs: the database is busy ({holder}); waiting up to {wait_seconds:g} s ...",
                    file=stderr,
                    flush=True,
                )
                announced = True
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        except duckdb.Error as error:
            raise MrsError(f"cannot open {database}: {error}") from error


def wait_for_write_access(database: Path, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> None:
    """Before a build: wait until no other process holds the file (a read-only BI connection
    would make dbt fail halfway with a traceback). A new file needs no waiting."""
    if database.exists():
        connect_waiting(database, wait_seconds, read_only=False).close()
