"""input_files: whether each input file of `mrs_input_dir` can be read (DESIGN.md section 4).

A file DuckDB cannot read (not Parquet, not UTF-8, truncated) would otherwise fail the whole
build when staging scans it. Reading is tried here, where a failure can be caught; staging
then reads an unreadable file as absent (an empty input, or the project's own seed for the
reference tables) and `input_sources` says why.

A CSV field that opens a quote and never closes it swallows every line after it up to the
next quote: the probe counts the fields read with a line break in them (no input column
holds one), and staging then reads that file with quotes off, one line one row.
"""

import pandas as pd


def model(dbt, session):
    dbt.config(materialized="table")
    candidates = dbt.ref("input_file_candidates").df().sort_values("input_name")
    rows = []
    for candidate in candidates.itertuples(index=False):
        error = None
        unclosed_quote = None
        path = candidate.file_path if isinstance(candidate.file_path, str) else None
        if isinstance(candidate.reader_sql, str):
            is_csv = path is not None and not path.endswith(".parquet")
            try:
                unclosed_quote = _probe(session, candidate.reader_sql, is_csv)
            # Any read failure is reported as data, whatever DuckDB raises.
            except Exception as failure:
                error = " ".join(str(failure).split())[:500]
        rows.append(
            {
                "input_name": candidate.input_name,
                "file_path": path,
                "read_error": error,
                "is_blank": _is_blank(path) if path else None,
                "has_unclosed_quote": unclosed_quote,
            }
        )
    types = {"input_name": "string", "file_path": "string", "read_error": "string"}
    frame = pd.DataFrame(rows, columns=[*types, "is_blank", "has_unclosed_quote"])
    return frame.astype({**types, "is_blank": "boolean", "has_unclosed_quote": "boolean"})


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
