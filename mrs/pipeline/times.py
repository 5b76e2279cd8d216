"""Times given on the command line: UTC without an offset, as every MRS time is (DESIGN.md
section 4), checked before anything runs."""

from __future__ import annotations

import datetime as dt

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
