"""The input switch: a folder of CSV/Parquet files with bad rows builds, and nothing is lost."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
from conftest import query, run_mrs

from mrs.dev.world import WorldOptions, write_world

BAD_SALES_ROWS = [
    # (row, reason it must be rejected with)
    (["not-a-time", "ST-001", "SKU-001", "3", "3.75"], "unparseable sales_ts"),
    (["2025-07-04 10:00:00", "ST-001", "SKU-002", "-2", "0"], "negative units"),
    (["2025-07-04 10:00:00", "ST-999", "SKU-001", "1", "1.25"], "unknown store_id"),
    (["2025-07-04 10:00:00", "ST-001", "SKU-999", "1", "1.25"], "unknown sku"),
    (
        ["2025-07-04 10:00:00", "ST-001", "SKU-001", "5", "6.25"],
        "duplicate key (sales_ts, store_id, sku)",
    ),
    (["2025-07-04 11:00:00", "", "SKU-001", "1", "1.25"], "missing store_id"),
    (["", "ST-002", "SKU-001", "1", "1.25"], "missing sales_ts"),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int, str]:
    folder = tmp_path_factory.mktemp("inputs")
    counts = write_world(WorldOptions(stores=3, products=2, days=14), folder)
    with (folder / "unified_sales_data.csv").open("a", newline="") as handle:
        writer = csv.writer(handle)
        for row, _ in BAD_SALES_ROWS:
            writer.writerow(row)
    # stores without its optional coordinates, products as Parquet, a duplicate store,
    # master_narratives and cluster_library absent.
    with (folder / "stores.csv").open() as handle:
        rows = list(csv.reader(handle))
    with (folder / "stores.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([row[:5] for row in rows] + [rows[1][:5]])
    products = folder / "products.csv"
    duckdb.sql(f"copy (from read_csv('{products}')) to '{folder / 'products.parquet'}'")
    products.unlink()
    (folder / "master_narratives.csv").unlink()
    (folder / "cluster_library.csv").unlink()

    database = folder / "mrs.duckdb"
    result = run_mrs("build", "--input-dir", str(folder), "--database", str(database))
    return folder, database, counts["unified_sales_data"], result.stdout


def test_each_bad_row_is_in_the_errors_table_with_its_reason(built) -> None:
    _, database, _, _ = built
    rejected = query(
        database,
        "select sales_ts, store_id, sku, units, error_reason from unified_sales_data_errors",
    )
    found = {(row[:4], row[4]) for row in rejected}
    expected = set()
    for row, reason in BAD_SALES_ROWS:
        raw = tuple(value or None for value in row[:4])
        expected.add((raw, reason))
    assert found == expected


def test_every_good_row_reaches_staging(built) -> None:
    _, database, generated, _ = built
    assert query(database, "select count(*) from stg_unified_sales_data")[0][0] == generated
    same_key = query(
        database,
        "select error_reason from stg_unified_sales_data_checked "
        "where sales_ts = '2025-07-04 10:00:00' and store_id = 'ST-001' and sku = 'SKU-001' "
        "order by source_row_number",
    )
    # The first row of a duplicated key (by position in the file) is kept, the later rejected.
    assert same_key == [(None,), ("duplicate key (sales_ts, store_id, sku)",)]


def test_missing_optional_columns_become_typed_nulls(built) -> None:
    _, database, _, _ = built
    rows = query(
        database,
        "select count(*), count(latitude), typeof(any_value(latitude)) from stg_stores",
    )
    assert rows == [(3, 0, "DOUBLE")]


def test_duplicate_store_is_rejected_and_the_first_kept(built) -> None:
    _, database, _, _ = built
    assert query(database, "select store_id, error_reason from stores_errors") == [
        ("ST-001", "duplicate key (store_id)")
    ]


def test_parquet_inputs_are_read(built) -> None:
    _, database, _, _ = built
    assert query(database, "select count(*) from stg_products") == [(2,)]
    assert query(
        database, "select distinct source_file like '%.parquet' from stg_products_checked"
    ) == [(True,)]


def test_absent_inputs_are_empty_but_reference_tables_fall_back_to_the_project(built) -> None:
    _, database, _, _ = built
    assert query(database, "select count(*) from stg_master_narratives") == [(0,)]
    assert query(database, "select count(*) from stg_cluster_library")[0][0] >= 6


def test_the_build_says_how_many_rows_were_rejected(built) -> None:
    _, _, _, output = built
    assert f"{len(BAD_SALES_ROWS)} row(s) rejected from unified_sales_data" in output
    assert "1 row(s) rejected from stores" in output
    assert "master_narratives not found" in output
