"""The sales input is staged hour by hour (issue 18): a build checks only the sales hours
whose rows changed (new, restated, or after a restated hour of their day) or whose checks
changed, removes the days gone from the input, and the staged result equals a build that
checks every row; a file staged before hours had digests is checked again in full."""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import query, run_mrs

from mrs.dev.world import WorldOptions, write_world
from mrs.pipeline.database_lock import open_database
from mrs.pipeline.sql_text import sql_string

WORLD = WorldOptions(stores=3, products=2, days=13)
STAGING = ("--select", "+stg_unified_sales_data +unified_sales_data_errors", "--no-tests")
STAGED_TABLES = (
    "stg_unified_sales_data_checked",
    "stg_unified_sales_data",
    "unified_sales_data_errors",
    "stg_unified_sales_data_hour_partials",
)
BAD_ROWS = [
    ["not-a-time", "ST-001", "SKU-001", "3", "3.75"],
    ["2025-07-04 10:00:00", "ST-001", "SKU-001", "5", "6.25"],  # a duplicate key
]


def _stage(folder: Path, database: Path) -> str:
    result = run_mrs("build", "--input-dir", str(folder), "--database", str(database), *STAGING)
    return result.stdout


def _staged_days(output: str) -> tuple[int, int, int, int]:
    found = re.search(
        r"unified_sales_data: (\d+) new and (\d+) restated sales day\(s\) checked, "
        r"(\d+) removed, (\d+) kept as staged",
        output,
    )
    assert found, output
    return tuple(int(count) for count in found.groups())


def _checked_hours(output: str) -> int:
    found = re.search(r"; (\d+) hour\(s\) of them checked", output)
    assert found, output
    return int(found.group(1))


def _read(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def _write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)


def _rows_differ(first: Path, second: Path, table: str) -> tuple[int, int]:
    rows_first = query(first, f"select * from {table}")
    rows_second = query(second, f"select * from {table}")
    only_first = [row for row in rows_first if row not in rows_second]
    only_second = [row for row in rows_second if row not in rows_first]
    return len(only_first), len(only_second)


def _check_fresh(folder: Path, database: Path, fresh: Path) -> None:
    """The same inputs checked in full in a file of its own (`fresh`) stage what `database`
    holds, table for table."""
    fresh.parent.mkdir()
    assert "every sales day checked" in _stage(folder, fresh)
    for table in STAGED_TABLES:
        assert _rows_differ(database, fresh, table) == (0, 0), table


def _staged_units(database: Path, row: list[str]) -> list[tuple]:
    """The staged units of the sales row `row` (time, store, sku, ...)."""
    return query(
        database,
        "select units from stg_unified_sales_data "
        f"where sales_ts = '{row[0]}' and store_id = '{row[1]}' and sku = '{row[2]}'",
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("staged") / "inputs"
    write_world(WORLD, folder)
    sales = folder / "unified_sales_data.csv"
    _write(sales, _read(sales) + BAD_ROWS)
    return folder


def test_a_build_checks_only_the_changed_days_and_equals_checking_every_row(
    world: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "inputs"
    shutil.copytree(world, folder)
    sales = folder / "unified_sales_data.csv"
    database = tmp_path / "mrs.duckdb"
    assert "every sales day checked" in _stage(folder, database)
    days = WORLD.days + 1  # and the rows whose time does not parse

    # A restatement in place (one value of 2025-07-05, and one of the first day, rows apart
    # in the file), a duplicate of a key of 2025-07-06 and a new day's first hour, all after
    # the rows of the days before them.
    header, *rows = _read(sales)
    restated = next(n for n, row in enumerate(rows) if row[0] == "2025-07-05 12:00:00")
    rows[restated][3] = str(int(float(rows[restated][3])) + 40)
    first_day = next(
        n for n, row in enumerate(rows) if row[0] == f"{WORLD.start:%Y-%m-%d} 12:00:00"
    )
    rows[first_day][3] = str(int(float(rows[first_day][3])) + 7)
    duplicate = next(row for row in rows if row[0] == "2025-07-06 09:00:00")
    after_the_world = WORLD.start + dt.timedelta(days=WORLD.days)
    new_day = [[f"{after_the_world:%Y-%m-%d %H:%M:%S}", "ST-001", "SKU-001", "2", "2.50"]]
    _write(sales, [header, *rows, list(duplicate), *new_day])
    output = _stage(folder, database)
    # The unparseable row's position is unchanged: only the first day, 07-05, 07-06 and the
    # new day move; the rows whose time is parsed are in two ranges of the file, and the
    # staged rows equal a build that checks every row.
    assert _staged_days(output) == (1, 3, 0, days - 3)
    _check_fresh(folder, database, tmp_path / "checked_in_full" / "mrs.duckdb")
    assert _staged_units(database, rows[restated]) == [(float(rows[restated][3]),)]

    # A day gone from the input (the new day again), and a store gone from the reference:
    # its rows are unknown now, so every remaining day is checked again.
    _write(sales, [header, *rows, list(duplicate)])
    stores = folder / "stores.csv"
    store_rows = _read(stores)
    _write(stores, [row for row in store_rows if row[0] != "ST-003"])
    assert _staged_days(_stage(folder, database)) == (0, days, 1, 0)

    # The same inputs checked in full, in a file of their own.
    fresh = tmp_path / "fresh" / "mrs.duckdb"
    _check_fresh(folder, database, fresh)
    unknown = sum(row[1] == "ST-003" for row in [*rows, duplicate])
    assert query(
        database,
        "select count(*) from unified_sales_data_errors where error_reason = 'unknown store_id'",
    ) == [(unknown,)]
    assert unknown > 0

    # A file staged before days had digests (no day key, no digest) is checked again in
    # full, with a row that must not survive.
    staged = query(fresh, "select * from stg_unified_sales_data_checked order by all")
    with open_database(fresh, read_only=False) as con:
        con.execute(
            "alter table stg_unified_sales_data_checked drop column hour_digest;"
            "alter table stg_unified_sales_data_checked drop column sales_day_key;"
            "update stg_unified_sales_data_checked set units = -1 where source_row_number = 2"
        )
    output = _stage(folder, fresh)
    assert "built before it had sales_day_key, hour_digest; it is built again in full" in output
    assert "every sales day checked" in output
    assert query(fresh, "select * from stg_unified_sales_data_checked order by all") == staged


def test_a_tick_checks_its_new_hour_and_a_restated_hour_the_rest_of_its_day(
    world: Path, tmp_path: Path
) -> None:
    """Staged hour by hour: the feed's next hour, appended to a day staged up to the hour
    before, is the one hour checked (its day's earlier hours kept); a value restated at noon
    checks its day's hours from noon on, not the hours before; both equal checking every
    row."""
    folder = tmp_path / "inputs"
    shutil.copytree(world, folder)
    sales = folder / "unified_sales_data.csv"
    header, *rows = _read(sales)
    days = WORLD.days + 1  # and the rows whose time does not parse
    last_day = max(row[0] for row in rows if row[0][:4].isdigit())[:10]
    noon = f"{last_day} 12:00:00"
    before_noon = [row for row in rows if not (row[0][:10] == last_day and row[0] >= noon)]
    noon_rows = [row for row in rows if row[0] == noon]
    assert noon_rows
    database = tmp_path / "mrs.duckdb"
    _write(sales, [header, *before_noon])
    assert "every sales day checked" in _stage(folder, database)

    _write(sales, [header, *before_noon, *noon_rows])
    output = _stage(folder, database)
    assert _staged_days(output) == (0, 1, 0, days - 1)
    assert _checked_hours(output) == 1

    restated = next(n for n, row in enumerate(before_noon) if row[0] == "2025-07-05 12:00:00")
    before_noon[restated][3] = str(int(float(before_noon[restated][3])) + 40)
    _write(sales, [header, *before_noon, *noon_rows])
    output = _stage(folder, database)
    assert _staged_days(output) == (0, 1, 0, days - 1)
    hours_from_noon = {row[0] for row in before_noon if "2025-07-05 12" <= row[0] < "2025-07-06"}
    assert _checked_hours(output) == len(hours_from_noon) < 24
    _check_fresh(folder, database, tmp_path / "checked_in_full" / "mrs.duckdb")
    assert _staged_units(database, before_noon[restated]) == [(float(before_noon[restated][3]),)]


def _inputs_listed(output: str, message: str) -> set[str]:
    """The inputs input_files lists after `message` (a line of its output), or none."""
    found = re.search(re.escape(message) + r": \[(.*)\]", output)
    return set(re.findall(r"'(\w+)'", found.group(1))) if found else set()


def _not_read_again(output: str) -> set[str]:
    """The inputs whose file input_files kept from the last build's probe."""
    return _inputs_listed(output, "input files unchanged since the last probe, not read again")


def _appended(output: str) -> set[str]:
    """The inputs whose file input_files tried the appended lines of only."""
    return _inputs_listed(
        output, "input files with lines appended since the last probe, those tried"
    )


def test_an_input_file_is_tried_again_only_when_it_changed(world: Path, tmp_path: Path) -> None:
    """input_files reads every file to try it (all of a CSV file); a file with the path,
    size and modification time of the last build's probe keeps its answers instead, a CSV
    file that grew by appended lines has those lines tried only (issue 18: the sales file
    grows every hour), and a file rewritten, to the same size or in its middle, is tried
    again whole."""
    folder = tmp_path / "inputs"
    shutil.copytree(world, folder)
    database = tmp_path / "mrs.duckdb"
    assert _not_read_again(_stage(folder, database)) == set()
    inputs = {path.stem for path in folder.glob("*.csv")} & {
        name for (name,) in query(database, "select input_name from input_files")
    }
    assert {"unified_sales_data", "stores", "contextual_data"} <= inputs

    # The feed's next hour: only the sales file is read again.
    sales = folder / "unified_sales_data.csv"
    after_the_world = WORLD.start + dt.timedelta(days=WORLD.days)
    _write(
        sales,
        [*_read(sales), [f"{after_the_world:%Y-%m-%d %H:%M:%S}", "ST-001", "SKU-001", "2", "2.50"]],
    )
    output = _stage(folder, database)
    assert _not_read_again(output) == inputs - {"unified_sales_data"}
    assert _appended(output) == {"unified_sales_data"}

    # The context file rewritten to the same size, now bytes that are no UTF-8: tried again.
    context = folder / "contextual_data.csv"
    context.write_bytes(b"\xff" * context.stat().st_size)
    output = _stage(folder, database)
    assert _not_read_again(output) == inputs - {"contextual_data"}
    assert query(
        database,
        "select read_error is not null from input_files where input_name = 'contextual_data'",
    ) == [(True,)]

    # A value restated in the middle of the sales file, its length kept: tried whole.
    header, *rows = _read(sales)
    units = rows[len(rows) // 2][3]
    rows[len(rows) // 2][3] = units[:-1] + ("1" if units[-1] != "1" else "2")
    _write(sales, [header, *rows])
    output = _stage(folder, database)
    assert "unified_sales_data" not in _not_read_again(output) | _appended(output)

    # Appended lines that are no UTF-8: found in those lines (DuckDB's message names the
    # sales file, not the file of those lines).
    with sales.open("ab") as handle:
        handle.write(b"2025-07-20 10:00:00,ST-001,SKU-001,\xff\xfe,1.00\n")
    output = _stage(folder, database)
    assert _appended(output) == {"unified_sales_data"}
    ((error,),) = query(
        database, "select read_error from input_files where input_name = 'unified_sales_data'"
    )
    assert error.startswith("in the lines appended after byte")
    assert "utf-8" in error.lower() and "mrs-appended-" not in error

    # What a build kept is what trying every file again gives (DuckDB's error counts the
    # lines of what it read, so errors compare by their presence).
    fresh = tmp_path / "fresh" / "mrs.duckdb"
    fresh.parent.mkdir()
    _stage(folder, fresh)
    answers = (
        "select * exclude (read_error), read_error is null as reads from input_files "
        "order by input_name"
    )
    assert query(database, answers) == query(fresh, answers)


def _write_parquet_sales(folder: Path, rows: list[list[str]], units_type: str) -> None:
    """The sales rows (their time text parsed) as a typed Parquet file, in their order."""
    with duckdb.connect() as con:
        con.execute(
            "create table sales (sales_ts timestamp, store_id varchar, sku varchar, "
            f"units {units_type}, revenue double)"
        )
        con.executemany(
            "insert into sales values (try_cast(? as timestamp), ?, ?, ?, ?)",
            [[row[0], row[1], row[2], float(row[3]), float(row[4])] for row in rows],
        )
        con.execute(
            f"copy sales to {sql_string(str(folder / 'unified_sales_data.parquet'))} "
            "(format parquet)"
        )


def test_a_typed_parquet_file_is_checked_again_by_day_as_its_text_changes(
    world: Path, tmp_path: Path
) -> None:
    """A Parquet file's days are digested from its typed values (not the text staging casts
    them to): a value restated on one day checks that day again, a column whose type changes
    (and with it the text of every value) checks every day again, and either equals checking
    every row."""
    folder = tmp_path / "inputs"
    shutil.copytree(world, folder)
    sales_csv = folder / "unified_sales_data.csv"
    _, *rows = _read(sales_csv)
    sales_csv.unlink()
    _write_parquet_sales(folder, rows, "double")
    database = tmp_path / "mrs.duckdb"
    assert "every sales day checked" in _stage(folder, database)
    days = WORLD.days + 1  # and the rows whose time does not parse

    restated = next(n for n, row in enumerate(rows) if row[0] == "2025-07-05 12:00:00")
    rows[restated][3] = str(float(rows[restated][3]) + 40)
    _write_parquet_sales(folder, rows, "double")
    assert _staged_days(_stage(folder, database)) == (0, 1, 0, days - 1)

    # 3.0 as a decimal is the text 3.00: the same numbers, staged again from their new text.
    _write_parquet_sales(folder, rows, "decimal(18, 2)")
    assert _staged_days(_stage(folder, database)) == (0, days, 0, 0)
    _check_fresh(folder, database, tmp_path / "fresh" / "mrs.duckdb")
    assert _staged_units(database, rows[restated]) == [(float(rows[restated][3]),)]
