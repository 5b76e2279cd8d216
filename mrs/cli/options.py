"""The options several commands share, defined once."""

from __future__ import annotations

import argparse

from mrs.pipeline.database_lock import DEFAULT_WAIT_SECONDS


def add_database_option(
    parser: argparse.ArgumentParser,
    help_text: str = "DuckDB file (default mrs.duckdb in the project)",
) -> None:
    """The `--database PATH` option of every command that works on one MRS database."""
    parser.add_argument("--database", help=help_text)


def add_wait_option(parser: argparse.ArgumentParser, while_what: str) -> None:
    """The `--wait SECONDS` option of every command that opens the database."""
    parser.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT_SECONDS,
        metavar="SECONDS",
        help=f"how long to wait while {while_what} (default {DEFAULT_WAIT_SECONDS:g}; then exit 2)",
    )
