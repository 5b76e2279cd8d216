"""Careless command lines are refused before anything runs or is deleted (issue 15, item 10):
each exits 2 with one `mrs:` line saying what to do, and leaves files as they were."""

from __future__ import annotations

import socket

import pytest
from conftest import run_mrs


@pytest.mark.parametrize(
    "option, value",
    [
        ("--as-of", "notadate"),
        ("--as-of", "2024-06-01 14:00+02:00"),
        ("--training-start", "June"),
        ("--detection-start", "2024-13-01"),
    ],
)
def test_a_bad_time_setting_stops_the_build_before_dbt(tmp_path, option, value):
    database = tmp_path / "mrs.duckdb"
    result = run_mrs("build", "--database", str(database), option, value, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"mrs: {option} expects 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM' in UTC, got {value!r}"
    ]
    assert list(tmp_path.iterdir()) == []  # neither a database nor an edit journal


def test_summary_of_a_missing_database_exits_2(tmp_path):
    result = run_mrs("summary", "--database", str(tmp_path / "none.duckdb"), check=False)
    assert result.returncode == 2
    assert "no database at" in result.stderr and "mrs demo" in result.stderr


def test_demo_never_deletes_a_file_that_is_not_a_duckdb_database(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    result = run_mrs("demo", "--database", str(notes), check=False)
    assert result.returncode == 2
    assert "is not a DuckDB database" in result.stderr
    assert notes.read_text() == "my notes\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]


def test_app_on_a_busy_port_says_so_before_announcing_anything(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_mrs(
            "app", "--database", str(tmp_path / "mrs.duckdb"), "--port", str(port), check=False
        )
    assert result.returncode == 2
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr
    assert "serving" not in result.stdout
