"""input_files: whether each input file of `mrs_input_dir` can be read (DESIGN.md section 4).

A file DuckDB cannot read (not Parquet, not UTF-8, truncated) would otherwise fail the whole
build when staging scans it. Reading is tried here, where a failure can be caught; staging
then reads an unreadable file as absent (an empty input, or the project's own seed for the
reference tables) and `input_sources` says why.
"""

import pandas as pd


def model(dbt, session):
    dbt.config(materialized="table")
    candidates = dbt.ref("input_file_candidates").df().sort_values("input_name")
    rows = []
    for candidate in candidates.itertuples(index=False):
        error = None
        path = candidate.file_path if isinstance(candidate.file_path, str) else None
        if isinstance(candidate.reader_sql, str):
            try:
                session.sql(f"select count(*) from {candidate.reader_sql}").fetchall()
            # Any read failure is reported as data, whatever DuckDB raises.
            except Exception as failure:
                error = " ".join(str(failure).split())[:500]
        rows.append(
            {
                "input_name": candidate.input_name,
                "file_path": path,
                "read_error": error,
                "is_blank": _is_blank(path) if path else None,
            }
        )
    types = {"input_name": "string", "file_path": "string", "read_error": "string"}
    frame = pd.DataFrame(rows, columns=[*types, "is_blank"])
    return frame.astype({**types, "is_blank": "boolean"})


def _is_blank(path):
    """No byte but whitespace (a 0-byte file has not even a header): the file is no table."""
    with open(path, "rb") as handle:
        return not handle.read(4096).strip()
