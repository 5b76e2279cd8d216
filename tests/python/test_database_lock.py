"""Commands that meet another process's lock on the DuckDB file: one line, then wait or exit 2.

A BI client's read-only connection and a build's write lock exclude each other in DuckDB;
without these checks `mrs build` failed halfway through dbt and `mrs summary` died with a
traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from conftest import run_mrs

HOLD = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "read-only")
    print("holding", flush=True)
    time.sleep(float(sys.argv[3]))
    con.close()
    """
)


@contextmanager
def held(database: Path, mode: str, seconds: float) -> Iterator[None]:
    """Another process with `database` open (a BI client read-only, a build read-write)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(database), mode, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        yield
    finally:
        holder.wait(timeout=60)


def empty_database(tmp_path: Path) -> Path:
    database = tmp_path / "mrs.duckdb"
    duckdb.connect(str(database)).close()
    return database


def test_a_build_under_an_open_bi_connection_exits_2_before_dbt_starts(tmp_path):
    database = empty_database(tmp_path)
    with held(database, "read-only", 5):
        result = run_mrs("build", "--database", str(database), "--wait", "0", check=False)
    assert result.returncode == 2
    assert "still busy" in result.stderr and "--wait SECONDS" in result.stderr
    assert "Traceback" not in result.stderr
    # dbt never ran: the file holds no tables.
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*) from information_schema.tables").fetchone() == (0,)


def test_summary_during_a_build_says_so_once_and_waits(tmp_path):
    database = empty_database(tmp_path)
    with held(database, "read-write", 3):
        result = run_mrs("summary", "--database", str(database), "--wait", "60", check=False)
    assert result.returncode == 0, result.stderr
    waiting = [line for line in result.stderr.splitlines() if "busy" in line]
    assert waiting == ["mrs: the database is busy (a build is running?); waiting up to 60 s ..."]
    assert result.stdout.startswith("inputs: 0 rows accepted")
