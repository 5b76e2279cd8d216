"""Times given on the command line: UTC without an offset, as every MRS time is (DESIGN.md
section 4), checked before anything runs."""

from __future__ import annotations

import datetime as dt

import duckdb

from mrs.pipeline.project import MrsError


def utc_timestamp(flag: str, text: str) -> dt.datetime:
    """`text` as a naive UTC timestamp ('YYYY-MM-DD' or 'YYYY-MM-DD HH:MM[:SS]'), or an error
    naming `flag`."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        value = None
    if value is None or value.tzinfo is not None:
        raise MrsError(f"{flag} expects 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM' in UTC, got {text!r}")
    return value.replace(microsecond=0)


def checked_timezone(text: str, flag: str = "--store-timezone") -> str:
    """`text` as a time zone name the build's DuckDB knows (IANA, such as Europe/Berlin: the
    stores keep their hours in it), or an error that names `flag`."""
    zone = text.strip()
    try:
        with duckdb.connect() as con:
            con.execute("select timezone(?, timestamptz '2025-01-01 00:00:00+00')", [zone])
    except duckdb.Error:
        raise MrsError(
            f"{flag} expects an IANA time zone such as Europe/Berlin, got {text!r}"
        ) from None
    return zone
