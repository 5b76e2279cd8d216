"""input_files: whether each input file of `mrs_input_dir` can be read (DESIGN.md section 4).

A file DuckDB cannot read (not Parquet, not UTF-8, truncated) would otherwise fail the whole
build when staging scans it. Reading is tried here, where a failure can be caught; staging
then reads an unreadable file as absent (an empty input, or the project's own seed for the
reference tables) and `input_sources` says why.

A CSV field that opens a quote and never closes it swallows every line after it up to the
next quote: the probe counts the fields read with a line break in them (no input column
holds one), and staging then reads that file with quotes off, one line one row.

Kept from build to build (issue 18): trying a CSV file reads all of it, and the sales file
grows every hour. A file whose path, reader, size and modification time (nanoseconds) are
those of the last build's probe keeps that probe's answers instead of being read again, as
`make` and `rsync` take a file with the same size and time as unchanged (a file rewritten to
the same size with its time set back by hand is not seen). A CSV file that still starts with
the bytes the last probe read (their length and SHA-1), with lines appended, has only those
lines tried, under its header (mrs.pipeline.appended_file).
"""

import os
import tempfile
from pathlib import Path

import pandas as pd

from mrs.pipeline.appended_file import appended_lines, file_sha1
from mrs.pipeline.sql_text import sql_string

COLUMNS = {
    "input_name": "string",
    "file_path": "string",
    "reader_sql": "string",
    "read_error": "string",
    "is_blank": "boolean",
    "has_unclosed_quote": "boolean",
    "file_bytes": "Int64",
    "file_modified_ns": "Int64",
    "file_sha1": "string",
}
# The probe's answers, and what must match the last probe for them to stand.
ANSWERS = ("read_error", "is_blank", "has_unclosed_quote")
FILE_IDENTITY = ("file_path", "reader_sql", "file_bytes", "file_modified_ns")


def model(dbt, session):
    # A table, written whole each build (an input gone from the contract leaves no row); the
    # last build's rows are read before it is replaced.
    dbt.config(materialized="table")
    candidates = dbt.ref("input_file_candidates").df().sort_values("input_name")
    kept = _kept_probes(session, dbt.this)
    rows = []
    unchanged = []
    appended = []
    for candidate in candidates.itertuples(index=False):
        row = {
            "input_name": candidate.input_name,
            "file_path": _text(candidate.file_path),
            "reader_sql": _text(candidate.reader_sql),
            **_file_stamp(_text(candidate.file_path)),
        }
        last = kept.get(candidate.input_name)
        if row["file_bytes"] is not None and last and _identity(last) == _identity(row):
            row.update({answer: last[answer] for answer in (*ANSWERS, "file_sha1")})
            unchanged.append(candidate.input_name)
        elif (probe := _probe_appended_lines(session, row, last)) is not None:
            row.update(probe)
            appended.append(candidate.input_name)
        else:
            row.update(_probe_file(session, row["file_path"], row["reader_sql"]))
        rows.append(row)
    if unchanged:
        print(f"mrs: input files unchanged since the last probe, not read again: {unchanged}")
    if appended:
        print(f"mrs: input files with lines appended since the last probe, those tried: {appended}")
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return frame.astype(COLUMNS)


def _kept_probes(session, this):
    """The last build's row per input, its missing values as None; none on a first build,
    or when the table was built by a version without these columns."""
    kept_columns = session.execute(
        "select column_name from duckdb_columns() "
        "where database_name = ? and schema_name = ? and table_name = ?",
        [this.database, this.schema, this.identifier],
    ).fetchall()
    if not set(COLUMNS) <= {column for (column,) in kept_columns}:
        return {}
    kept = session.sql(f"select {', '.join(COLUMNS)} from {this!r}").df()
    return {
        record["input_name"]: {k: None if pd.isna(v) else v for k, v in record.items()}
        for record in kept.to_dict("records")
    }


def _identity(row):
    return tuple(row[column] for column in FILE_IDENTITY)


def _text(value):
    return value if isinstance(value, str) else None


def _file_stamp(path):
    """The file's size in bytes and modification time in nanoseconds (None without a file)."""
    if path is None:
        return {"file_bytes": None, "file_modified_ns": None}
    try:
        stat = os.stat(path)
    except OSError:
        return {"file_bytes": None, "file_modified_ns": None}
    return {"file_bytes": int(stat.st_size), "file_modified_ns": int(stat.st_mtime_ns)}


def _probe_file(session, path, reader_sql):
    """Try the reader: DuckDB's error, whether the file is blank and whether a CSV field
    opens a quote it never closes; and a CSV file's SHA-1, for the next build."""
    is_csv = path is not None and not path.endswith(".parquet")
    error, unclosed_quote = _try_reader(session, reader_sql, is_csv)
    return {
        "read_error": error,
        "is_blank": _is_blank(path) if path else None,
        "has_unclosed_quote": unclosed_quote,
        "file_sha1": file_sha1(Path(path)) if is_csv and reader_sql is not None else None,
    }


def _probe_appended_lines(session, row, last):
    """The answers for a CSV file that is the last probe's, read without error and without
    an unclosed quote, with lines appended: those lines tried under the file's header with the
    same reader (a file of their own), or None when the file is not such a file."""
    path = row["file_path"]
    if (
        path is None
        or path.endswith(".parquet")
        or row["reader_sql"] is None
        or not last
        or (last["file_path"], last["reader_sql"]) != (path, row["reader_sql"])
        or last["read_error"] is not None
        or last["has_unclosed_quote"] is None
        or bool(last["has_unclosed_quote"])
        or last["file_sha1"] is None
        or last["file_bytes"] is None
        or sql_string(path) not in row["reader_sql"]
    ):
        return None
    lines = appended_lines(Path(path), int(last["file_bytes"]), last["file_sha1"])
    if lines is None:
        return None
    with tempfile.TemporaryDirectory(prefix="mrs-appended-") as folder:
        appended_file = Path(folder) / Path(path).name
        appended_file.write_bytes(lines.header + lines.lines)
        reader_sql = row["reader_sql"].replace(sql_string(path), sql_string(str(appended_file)))
        error, unclosed_quote = _try_reader(session, reader_sql, True)
    if error is not None:
        # DuckDB names the file it read and counts lines in it: say which file that was.
        error = (
            f"in the lines appended after byte {int(last['file_bytes'])} (lines counted from "
            f"the header): {error.replace(str(appended_file), path)}"
        )[:500]
    return {
        "read_error": error,
        "is_blank": False,
        "has_unclosed_quote": unclosed_quote,
        "file_sha1": lines.file_sha1,
    }


def _try_reader(session, reader_sql, is_csv):
    """DuckDB's error reading with `reader_sql` (None when it reads) and whether a CSV field
    came back with a line break in it."""
    if reader_sql is None:
        return None, None
    try:
        return None, _probe(session, reader_sql, is_csv)
    # Any read failure is reported as data, whatever DuckDB raises.
    except Exception as failure:
        return " ".join(str(failure).split())[:500], None


def _probe(session, reader_sql, is_csv):
    """Read the whole file (DuckDB raises on what it cannot read); for a CSV file, whether a
    field came back with a line break in it (None for Parquet)."""
    if not is_csv:
        session.sql(f"select count(*) from {reader_sql}").fetchall()
        return None
    line_breaks = session.sql(
        "select count(*) filter (where contains(concat_ws('', *columns(*)), chr(10))) "
        f"from {reader_sql}"
    ).fetchall()[0][0]
    return bool(line_breaks)


def _is_blank(path):
    """No byte but whitespace (a 0-byte file has not even a header): the file is no table."""
    with open(path, "rb") as handle:
        return not handle.read(4096).strip()
