"""The published copy: what BI tools read, written where they never meet a build's lock.

DuckDB lets one process write a file or many read it, never both, so a BI client cannot
read `mrs.duckdb` while a build writes it, and a client left open on it makes the next build
wait. After each build the public models are therefore also copied, whole, to

- `<stem>_published.duckdb`: one DuckDB file with every public table and `publication`
  (which run and tick it holds, and the rows of each table), and
- `<stem>_published/<table>.parquet`: the same tables as Parquet files,

each written under a `.next` name first and then moved over the previous one with an
atomic rename. A reader that opens them during a build gets the previous build's state, one
that holds them open keeps what it opened, and no reader can make a build fail: the build
never opens the published files themselves.

The DuckDB file also holds, in schema `review_index`, the few other tables the review app and
`mrs review` need beside the public ones (the active run, the ids a build has logged, the
latest decision per report, the stores, clusters and cause categories, the journal files a
build rejected): they read this file, never the database a build writes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pandas as pd

# The schema the staged copy is attached as while the build writes it.
_STAGING_ALIAS = "mrs_publication_next"
_NEXT = ".next"
# The schema of the published DuckDB file that holds the review app's other tables.
REVIEW_INDEX_SCHEMA = "review_index"


def published_database(database: Path) -> Path:
    """mrs.duckdb -> mrs_published.duckdb beside it."""
    return database.parent / f"{database.stem}_published.duckdb"


def published_folder(database: Path) -> Path:
    """mrs.duckdb -> mrs_published/ beside it (the Parquet files)."""
    return database.parent / f"{database.stem}_published"


def connect_published(database: Path) -> duckdb.DuckDBPyConnection | None:
    """A read-only connection to the published copy of `database`, resolving the review index
    tables by name as well as the public ones; None when no build has published one with its
    review index yet. A build never holds this file, so nothing here waits."""
    path = published_database(database)
    if not path.exists():
        return None
    connection = duckdb.connect(str(path), read_only=True)
    try:
        schemas = connection.execute(
            "select count(*) from information_schema.schemata "
            "where catalog_name = current_database() and schema_name = ?",
            [REVIEW_INDEX_SCHEMA],
        ).fetchone()[0]
        if not schemas:
            connection.close()
            return None
        connection.execute(f"set search_path = 'main,{REVIEW_INDEX_SCHEMA}'")
    except duckdb.Error:
        connection.close()
        raise
    return connection


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _row_count(connection: duckdb.DuckDBPyConnection, name: str) -> int:
    return int(connection.execute(f"select count(*) from {_STAGING_ALIAS}.{name}").fetchone()[0])


def publish(
    connection: duckdb.DuckDBPyConnection,
    tables: Mapping[str, duckdb.DuckDBPyRelation],
    run_id: str | None,
    as_of: object,
    review_index: Mapping[str, duckdb.DuckDBPyRelation] | None = None,
) -> pd.DataFrame:
    """Copy `tables` into the published DuckDB file and Parquet folder beside the database
    `connection` writes, and `review_index` into that file's schema `review_index`; return
    the manifest (one row per public table) also stored there as `publication`."""
    database = Path(
        connection.execute(
            "select path from duckdb_databases() where database_name = current_database()"
        ).fetchone()[0]
    )
    target = published_database(database)
    folder = published_folder(database)
    folder.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(target.name + _NEXT)
    staged_files = {name: folder / f"{name}.parquet{_NEXT}" for name in tables}
    # A build killed while publishing leaves its `.next` files: never append to them.
    for leftover in (staged, staged.with_name(staged.name + ".wal"), *staged_files.values()):
        leftover.unlink(missing_ok=True)
    connection.execute(f"attach {_sql_string(str(staged))} as {_STAGING_ALIAS}")
    try:
        for name, relation in tables.items():
            relation.create(f"{_STAGING_ALIAS}.{name}")
            connection.execute(
                f"copy {_STAGING_ALIAS}.{name} to {_sql_string(str(staged_files[name]))}"
                " (format parquet)"
            )
        # Counted on the copies: what readers get, without reading the models again.
        manifest = pd.DataFrame(
            {
                "table_name": list(tables),
                "row_count": [_row_count(connection, name) for name in tables],
                "parquet_file": [f"{name}.parquet" for name in tables],
                "run_id": run_id,
                "as_of": pd.to_datetime(as_of),
            }
        ).astype({"row_count": "int64"})
        connection.register("mrs_publication_manifest", manifest)
        connection.execute(
            f"create table {_STAGING_ALIAS}.publication as select * from mrs_publication_manifest"
        )
        connection.unregister("mrs_publication_manifest")
        connection.execute(f"create schema {_STAGING_ALIAS}.{REVIEW_INDEX_SCHEMA}")
        for name, relation in (review_index or {}).items():
            # relation.create() takes no catalog-qualified schema: its SQL does.
            connection.execute(
                f"create table {_STAGING_ALIAS}.{REVIEW_INDEX_SCHEMA}.{name} as "
                f"{relation.sql_query()}"
            )
    finally:
        connection.execute(f"detach {_STAGING_ALIAS}")
    # Every file is complete before the first one replaces its predecessor.
    for name, staged_file in staged_files.items():
        os.replace(staged_file, folder / f"{name}.parquet")
    os.replace(staged, target)
    return manifest
