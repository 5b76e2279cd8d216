"""The published copy: what BI tools read, written where they never meet a build's lock.

DuckDB lets one process write a file or many read it, never both, so a BI client cannot
read `mrs.duckdb` while a build writes it, and a client left open on it makes the next build
wait. After each build the public models are therefore also copied to

- `<stem>_published.duckdb`: one DuckDB file with every public table and `publication`
  (which run and tick it holds, and the rows of each table), and
- `<stem>_published/builds/<NNNNNN>/<table>.parquet`: the same tables as Parquet files, in a
  folder of the build's own (a table kept by day: `<table>/<YYYY-MM-DD>.parquet`, one file
  per UTC day), never changed once in place and kept until two builds later; the
  `build_parquet_file` column of `publication` names them, and
- `<stem>_published/<table>.parquet` (and `<table>/<YYYY-MM-DD>.parquet`): the newest build's
  files under names that stay, hard links to them,

each written under a `.next` name first and then moved over the previous one with an atomic
rename. DuckDB's `read_parquet` opens a file twice in one query (the footer when it binds,
the data when it scans), so a query that reads a name that stays at the instant a build
renames a new file over it fails ("don't know what type"); a build's own files never change,
so a reader that takes their names from the DuckDB file's `publication` reads one whole
state (until the build after the next one removes them). The `.next` DuckDB file starts as a
copy of the previous one: every table is written again whole, except the tables kept by day
(`protection_adjusted_sales`, the largest, which grows with the history), whose rows are
written again only from the first day that differs from the previous copy, and whose Parquet
files only from that day on, so an hourly build copies neither the history nor the month so
far. A reader that opens them during a build gets the previous build's state, one that holds
them open keeps what it opened, and no reader can make a build fail: the build reads the
published DuckDB file only as bytes to copy, and never opens the published files as
databases.

The DuckDB file also holds, in schema `review_index`, the few other tables the review app and
`mrs review` need beside the public ones (the active run, the ids a build has logged, the
latest decision per report, the stores, clusters and cause categories, the journal files a
build rejected): they read this file, never the database a build writes.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from mrs.pipeline.sql_text import sql_string

# Each build's own Parquet files, in a numbered folder of this folder of the copy.
_BUILDS = "builds"
# The schema the staged copy is attached as while the build writes it.
_STAGING_ALIAS = "mrs_publication_next"
_NEXT = ".next"
# The schema of the published DuckDB file that holds the review app's other tables.
REVIEW_INDEX_SCHEMA = "review_index"
# Where the copy records the day digests of its tables kept by day (what the next build
# compares the model's with).
_RECORDED_DAYS_SCHEMA = "publication_state"
_RECORDED_DAYS_TABLE = "kept_days"
_RECORDED_DAYS = f"{_STAGING_ALIAS}.{_RECORDED_DAYS_SCHEMA}.{_RECORDED_DAYS_TABLE}"


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


def parquet_glob(name: str, kept_by_day: bool) -> str:
    """Where a public table's Parquet rows are, relative to the published folder."""
    return f"{name}/*.parquet" if kept_by_day else f"{name}.parquet"


def _build_label(number: int) -> str:
    return f"{number:06d}"


def _next_build_number(builds: Path) -> int:
    """One more than the newest build folder kept (1 for the first)."""
    numbers = [int(path.name) for path in builds.glob("*") if path.name.isdigit()]
    return max(numbers, default=0) + 1


def _link(source: Path, target: Path) -> None:
    """`target` as a hard link to `source` (no bytes copied), or a copy where the file system
    has none."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _replace_by_link(source: Path, final: Path) -> None:
    """Put `source` at `final` with one rename."""
    staged = final.with_name(final.name + _NEXT)
    staged.unlink(missing_ok=True)
    _link(source, staged)
    os.replace(staged, final)


def _remove_builds_before(builds: Path, number: int) -> None:
    """Remove the build folders numbered below `number`: a reader that took the names of the
    previous build's files just before this one was published still finds them."""
    for path in builds.glob("*"):
        if path.name.isdigit() and int(path.name) < number:
            shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class _ChangedDays:
    """What a table kept by day wrote into the copy: `whole` when it was written whole,
    else the first day written again (None: unchanged)."""

    whole: bool
    first_day: dt.date | None = None
    # Whether the days compared were the copy's recorded digests (else its rows, hashed).
    recorded: bool = False


def _row_count(connection: duckdb.DuckDBPyConnection, name: str) -> int:
    return int(connection.execute(f"select count(*) from {_STAGING_ALIAS}.{name}").fetchone()[0])


def publish(
    connection: duckdb.DuckDBPyConnection,
    tables: Mapping[str, duckdb.DuckDBPyRelation],
    run_id: str | None,
    as_of: object,
    review_index: Mapping[str, duckdb.DuckDBPyRelation] | None = None,
    kept_by_day: Mapping[str, str] | None = None,
    day_digests: Mapping[str, duckdb.DuckDBPyRelation] | None = None,
) -> pd.DataFrame:
    """Copy `tables` into the published DuckDB file and Parquet folder beside the database
    `connection` writes, and `review_index` into that file's schema `review_index`; return
    the manifest (one row per public table) also stored there as `publication`. The tables
    of `kept_by_day` (name -> timestamp column) are written again in the DuckDB file only
    from the first day whose rows differ from the previous copy's. `day_digests` (name ->
    relation of sales_day, day_rows, day_digest: the sum of the hashes of the day's rows,
    their columns in order) gives a table's day digests where the model keeps them, so that
    its rows are not hashed at every build; the copy keeps the digests of the days it holds
    (schema `publication_state`) for the next build to compare."""
    database = Path(
        connection.execute(
            "select path from duckdb_databases() where database_name = current_database()"
        ).fetchone()[0]
    )
    target = published_database(database)
    folder = published_folder(database)
    builds = folder / _BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(target.name + _NEXT)
    # A build killed while publishing leaves its `.next` files: never append to them.
    for leftover in (
        staged,
        staged.with_name(staged.name + ".wal"),
        *folder.glob(f"*.parquet{_NEXT}"),
        *folder.glob(f"*/*.parquet{_NEXT}"),
    ):
        leftover.unlink(missing_ok=True)
    for leftover in builds.glob(f"*{_NEXT}"):
        shutil.rmtree(leftover)
    build_number = _next_build_number(builds)
    build_folder = builds / _build_label(build_number)
    staged_build = build_folder.with_name(build_folder.name + _NEXT)
    staged_build.mkdir()
    _attach_previous_copy(connection, target, staged)
    rewritten_days: list[Path] = []
    gone_days: list[Path] = []
    try:
        _drop_all_but(connection, set(tables))
        for name, relation in tables.items():
            day_column = (kept_by_day or {}).get(name)
            changed = (
                _ChangedDays(whole=True)
                if day_column is None
                else _write_changed_days(
                    connection, name, relation, day_column, (day_digests or {}).get(name)
                )
            )
            if changed.whole:
                connection.execute(f"drop table if exists {_STAGING_ALIAS}.{name}")
                relation.create(f"{_STAGING_ALIAS}.{name}")
            if day_column is not None:
                _record_day_digests(
                    connection, name, relation, (day_digests or {}).get(name), changed
                )
            if day_column is None:
                connection.execute(
                    f"copy {_STAGING_ALIAS}.{name} to "
                    f"{sql_string(str(staged_build / f'{name}.parquet'))} (format parquet)"
                )
            else:
                written, gone = _write_day_files(
                    connection,
                    name,
                    day_column,
                    folder / name,
                    staged_build / name,
                    changed,
                    recorded=name in (day_digests or {}),
                )
                rewritten_days.extend(written)
                gone_days.extend(gone)
        # Counted on the copies: what readers get, without reading the models again.
        manifest = pd.DataFrame(
            {
                "table_name": list(tables),
                "row_count": [_row_count(connection, name) for name in tables],
                "parquet_file": [
                    parquet_glob(name, name in (kept_by_day or {})) for name in tables
                ],
                "build_parquet_file": [
                    f"{_BUILDS}/{build_folder.name}/"
                    + parquet_glob(name, name in (kept_by_day or {}))
                    for name in tables
                ],
                "run_id": run_id,
                "as_of": pd.to_datetime(as_of),
            }
        ).astype({"row_count": "int64"})
        connection.register("mrs_publication_manifest", manifest)
        connection.execute(
            f"create or replace table {_STAGING_ALIAS}.publication as "
            "select * from mrs_publication_manifest"
        )
        connection.unregister("mrs_publication_manifest")
        connection.execute(f"drop schema if exists {_STAGING_ALIAS}.{REVIEW_INDEX_SCHEMA} cascade")
        connection.execute(f"create schema {_STAGING_ALIAS}.{REVIEW_INDEX_SCHEMA}")
        for name, relation in (review_index or {}).items():
            # relation.create() takes no catalog-qualified schema: its SQL does.
            connection.execute(
                f"create table {_STAGING_ALIAS}.{REVIEW_INDEX_SCHEMA}.{name} as "
                f"{relation.sql_query()}"
            )
    finally:
        connection.execute(f"detach {_STAGING_ALIAS}")
    # Every file of the build is complete before its folder takes its name, and that folder
    # before the first name that stays is moved to one of its files.
    os.rename(staged_build, build_folder)
    for name in tables:
        if name not in (kept_by_day or {}):
            _replace_by_link(build_folder / f"{name}.parquet", folder / f"{name}.parquet")
    for day_file in sorted(rewritten_days):
        _replace_by_link(build_folder / day_file, folder / day_file)
    for day_file in gone_days:
        day_file.unlink(missing_ok=True)
    for name in kept_by_day or {}:
        # A table kept by day is a folder of daily files; a version before wrote one file,
        # removed once the days are in place.
        (folder / f"{name}.parquet").unlink(missing_ok=True)
    os.replace(staged, target)
    _remove_builds_before(builds, build_number - 1)
    return manifest


def _attach_previous_copy(
    connection: duckdb.DuckDBPyConnection, previous: Path, staged: Path
) -> None:
    """Attach `staged` as the schema the build writes, starting from a copy of `previous`
    (the published file readers have now), or empty when there is none or it cannot be
    opened: then every table is written whole."""
    if previous.exists():
        shutil.copyfile(previous, staged)
        try:
            connection.execute(f"attach {sql_string(str(staged))} as {_STAGING_ALIAS}")
            return
        except duckdb.Error as error:
            print(f"mrs: the previous published copy cannot be opened ({error}); written whole")
            staged.unlink(missing_ok=True)
    connection.execute(f"attach {sql_string(str(staged))} as {_STAGING_ALIAS}")


def _drop_all_but(connection: duckdb.DuckDBPyConnection, names: set[str]) -> None:
    """Drop the tables and views of the copy's schema main that are not public models (any
    longer), so the copy holds what a copy written whole would."""
    found = connection.execute(
        "select table_name, table_type from information_schema.tables "
        "where table_catalog = ? and table_schema = 'main'",
        [_STAGING_ALIAS],
    ).fetchall()
    for name, kind in found:
        if name not in names and name != "publication":
            what = "view" if kind == "VIEW" else "table"
            connection.execute(f'drop {what} {_STAGING_ALIAS}."{name}"')


def _table_columns(relation: duckdb.DuckDBPyRelation) -> str:
    """A table's columns and types, in order: what its rows' digests are sums of hashes of."""
    return ", ".join(
        f"{column} {kind}".upper()
        for column, kind in zip(relation.columns, relation.types, strict=True)
    )


def _write_changed_days(
    connection: duckdb.DuckDBPyConnection,
    name: str,
    relation: duckdb.DuckDBPyRelation,
    day_column: str,
    digests: duckdb.DuckDBPyRelation | None = None,
) -> _ChangedDays:
    """Write the rows of `relation` into the copy's table `name` from the first UTC day of
    `day_column` whose rows (an order-free digest of every column) differ from the copy's,
    keeping the days before (a sum of the rows' hashes, where a xor would let two equal rows
    cancel). The model's `digests` of its days stand for its rows' where given, and the
    digests the copy recorded (`_record_day_digests`) for its rows' where it has them for
    these columns: then no row is hashed. Whole, and nothing written, when the copy has no
    such table or one of other columns, or rows without a day differ: the caller writes it
    whole."""
    columns = [
        (column, str(kind)) for column, kind in zip(relation.columns, relation.types, strict=True)
    ]
    kept_columns = connection.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = 'main' and table_name = ? "
        "order by ordinal_position",
        [_STAGING_ALIAS, name],
    ).fetchall()
    if [(column, kind.upper()) for column, kind in columns] != [
        (column, kind.upper()) for column, kind in kept_columns
    ]:
        return _ChangedDays(whole=True)
    quoted = ", ".join(f'"{column}"' for column, _ in columns)
    day = f'cast("{day_column}" as date)'

    def day_digests(source: str) -> str:
        return (
            f"select {day} as sales_day, count(*) as day_rows, sum(hash({quoted})) as digest "
            f"from {source} group by all"
        )

    recorded = _has_recorded_days(connection, name, _table_columns(relation))
    kept_days_sql = (
        f"select sales_day, day_rows, day_digest as digest from {_RECORDED_DAYS} "
        f"where table_name = {sql_string(name)}"
        if recorded
        else day_digests(f'{_STAGING_ALIAS}."{name}"')
    )
    current_days_sql = (
        "select sales_day, day_rows, day_digest as digest from mrs_publication_digests"
        if digests is not None
        else day_digests("mrs_publication_current")
    )
    connection.register("mrs_publication_current", relation)
    if digests is not None:
        connection.register("mrs_publication_digests", digests)
    try:
        first_day, undated_differ = connection.execute(
            f"""
            with
            current_days as ({current_days_sql}),
            kept_days as ({kept_days_sql}),
            differing as (
                select coalesce(current_days.sales_day, kept_days.sales_day) as sales_day
                from current_days
                full join kept_days
                    on current_days.sales_day is not distinct from kept_days.sales_day
                where
                    current_days.day_rows is distinct from kept_days.day_rows
                    or current_days.digest is distinct from kept_days.digest
            )
            select min(sales_day), bool_or(sales_day is null) from differing
            """
        ).fetchone()
        if undated_differ:
            return _ChangedDays(whole=True)
        if first_day is not None:
            connection.execute(
                f'delete from {_STAGING_ALIAS}."{name}" where {day} >= ?', [first_day]
            )
            connection.execute(
                f'insert into {_STAGING_ALIAS}."{name}" ({quoted}) '
                f"select {quoted} from mrs_publication_current where {day} >= ?",
                [first_day],
            )
        print(
            f"mrs: published {name}: "
            + (
                f"days before {first_day} kept, written from it"
                if first_day is not None
                else "unchanged, kept"
            )
        )
        return _ChangedDays(whole=False, first_day=first_day, recorded=recorded)
    finally:
        connection.unregister("mrs_publication_current")
        if digests is not None:
            connection.unregister("mrs_publication_digests")


def _has_recorded_days(connection: duckdb.DuckDBPyConnection, name: str, columns: str) -> bool:
    """Whether the copy recorded the day digests of its table `name` with these columns."""
    found = connection.execute(
        "select count(*) from information_schema.tables "
        "where table_catalog = ? and table_schema = ? and table_name = ?",
        [_STAGING_ALIAS, _RECORDED_DAYS_SCHEMA, _RECORDED_DAYS_TABLE],
    ).fetchone()[0]
    if not found:
        return False
    recorded = connection.execute(
        f"select list(distinct table_columns) from {_RECORDED_DAYS} where table_name = ?", [name]
    ).fetchone()[0]
    return recorded == [columns]


def _record_day_digests(
    connection: duckdb.DuckDBPyConnection,
    name: str,
    relation: duckdb.DuckDBPyRelation,
    digests: duckdb.DuckDBPyRelation | None,
    changed: _ChangedDays,
) -> None:
    """Keep in the copy the day digests of the days its table `name` now holds, for the next
    build to compare instead of hashing the copy's rows: the model's digests of the days
    written (every day when the table was written whole or had none recorded). Without the
    model's digests, none (the next build hashes the copy)."""
    connection.execute(f"create schema if not exists {_STAGING_ALIAS}.{_RECORDED_DAYS_SCHEMA}")
    connection.execute(
        f"create table if not exists {_RECORDED_DAYS} (table_name varchar, "
        "table_columns varchar, sales_day date, day_rows bigint, day_digest hugeint)"
    )
    every_day = changed.whole or not changed.recorded
    if digests is None or every_day:
        connection.execute(f"delete from {_RECORDED_DAYS} where table_name = ?", [name])
    elif changed.first_day is not None:
        connection.execute(
            f"delete from {_RECORDED_DAYS} where table_name = ? "
            "and (sales_day is null or sales_day >= ?)",
            [name, changed.first_day],
        )
    if digests is None or not (every_day or changed.first_day is not None):
        return
    connection.register("mrs_publication_digests", digests)
    try:
        connection.execute(
            f"insert into {_RECORDED_DAYS} "
            "select ?, ?, sales_day, day_rows, day_digest from mrs_publication_digests "
            "where ? or sales_day is null or sales_day >= ?",
            [name, _table_columns(relation), every_day, changed.first_day],
        )
    finally:
        connection.unregister("mrs_publication_digests")


def _write_day_files(
    connection: duckdb.DuckDBPyConnection,
    name: str,
    day_column: str,
    day_folder: Path,
    build_day_folder: Path,
    changed: _ChangedDays,
    recorded: bool = False,
) -> tuple[list[Path], list[Path]]:
    """Fill the build's folder of daily Parquet files of the copy's table `name` (UTC days of
    `day_column`; rows without one in `undated.parquet`): the days that must be written again
    are written there (every day when the table was written whole, else the days from the
    first changed day on and any day whose file is missing), the others are hard links to
    the files of `day_folder` (the names that stay), which hold them already. Returns the
    days written again (paths relative to the build's folder) and the files of `day_folder`
    to remove: those of days that no longer have rows, and any file of another layout (the
    monthly files of a version before). One file per day, not per month: an hourly build
    wrote its whole month again (0.3 s of a 20 M-row tick on the month's twelfth day, and
    growing to the month's end)."""
    day_folder.mkdir(parents=True, exist_ok=True)
    build_day_folder.mkdir(parents=True, exist_ok=True)
    if recorded:
        # The days the copy recorded are the days its table holds: no row is read.
        days_sql = (
            "select distinct coalesce(strftime(sales_day, '%Y-%m-%d'), 'undated') "
            f"from {_RECORDED_DAYS} where table_name = {sql_string(name)} order by 1"
        )
    else:
        day = f"coalesce(strftime(\"{day_column}\", '%Y-%m-%d'), 'undated')"
        days_sql = f'select distinct {day} from {_STAGING_ALIAS}."{name}" order by 1'
    days = [row[0] for row in connection.execute(days_sql).fetchall()]
    existing = {path.stem for path in day_folder.glob("*.parquet")}
    if changed.whole:
        first_day = ""  # every day sorts after it
    elif changed.first_day is not None:
        first_day = f"{changed.first_day:%Y-%m-%d}"
    else:
        first_day = None
    rewritten = [
        label
        for label in days
        if label not in existing or (first_day is not None and label >= first_day)
    ]
    for label in sorted(set(days) - set(rewritten)):
        _link(day_folder / f"{label}.parquet", build_day_folder / f"{label}.parquet")
    for label in rewritten:
        if label == "undated":
            rows, bounds = f'"{day_column}" is null', []
        else:
            # A range on the column itself, so the scan skips the other days' row groups.
            start = dt.date.fromisoformat(label)
            rows = f'"{day_column}" >= ? and "{day_column}" < ?'
            bounds = [start, start + dt.timedelta(days=1)]
        connection.execute(
            f'copy (select * from {_STAGING_ALIAS}."{name}" where {rows}) '
            f"to {sql_string(str(build_day_folder / f'{label}.parquet'))} (format parquet)",
            bounds,
        )
    gone = [
        day_folder / f"{label}.parquet"
        for label in sorted(existing - set(days))
        if (first_day is not None and label >= first_day) or not _is_day_label(label)
    ]
    return [Path(name) / f"{label}.parquet" for label in rewritten], gone


def _is_day_label(label: str) -> bool:
    """A daily file's name (or `undated`), not one of another layout's."""
    if label == "undated":
        return True
    try:
        return dt.date.fromisoformat(label).isoformat() == label
    except ValueError:
        return False
