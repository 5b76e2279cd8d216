"""The order-free digests a build compares to keep what it computed before (issue 18): the
xor of a hash per row, so the order of the rows changes nothing, and a change of any column
is seen, even of the last one on an even number of rows (DuckDB's hash of several values
xors in the last one's, which such a change once cancelled out of the digest)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from conftest import run_dbt

# A series' sales hours (sales_timeseries_data) and their predictions (the scan's input),
# digested by the macros the kept models use.
DIGESTS = (
    "select (select {{ mrs_series_day_digest('hours') }} from hours) as hours_digest, "
    "(select bit_xor({{ mrs_prediction_row_digest('predicted') }}) from predicted) "
    "as predicted_digest"
)
HOURS = """
    create or replace table hours as
    select * from (values
        ('ST-001', 'SKU-001', timestamp '2025-03-04 10:00', 3, true, false),
        ('ST-001', 'SKU-001', timestamp '2025-03-04 11:00', 5, true, false)
    ) as t (store_id, sku, sales_ts, units, is_reported, is_feed_gap)
"""
PREDICTED = """
    create or replace table predicted as
    select * from (values
        ('ST-001', 'SKU-001', timestamp '2025-03-04 10:00', 3, 4.0, 4.5, -1.0, -0.5, 2.0, 0.1, 0.2),
        ('ST-001', 'SKU-001', timestamp '2025-03-04 11:00', 5, 4.0, 4.5, 1.0, 0.5, 2.0, 0.1, 0.2)
    ) as t (store_id, sku, sales_ts, actual_units, expected_units, variance_units,
        residual_units, residual_z, day_inflation, within_day_correlation, hour_persistence)
"""
# Each change a kept model must see, as an update of one of the tables.
CHANGES = {
    "a feed gap on both hours (the last column, two rows)": (
        "hours",
        "update hours set is_feed_gap = true",
    ),
    "one hour's units": ("hours", "update hours set units = 4 where units = 3"),
    "the hour persistence of both hours (the last column, two rows)": (
        "predicted",
        "update predicted set hour_persistence = 0.3",
    ),
    "one hour's expected units": (
        "predicted",
        "update predicted set expected_units = 4.5 where actual_units = 5",
    ),
}


@pytest.fixture(scope="module")
def digests_sql(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("digests")
    compiled = run_dbt(
        folder / "compile.duckdb",
        "compile", "--inline", DIGESTS, "--output", "json", "--quiet",
        "--target-path", str(folder / "target"),
    )  # fmt: skip
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    return json.loads(compiled.stdout[compiled.stdout.index("{") :])["compiled"]


def _digests(connection: duckdb.DuckDBPyConnection, sql: str) -> tuple[int, int]:
    return connection.execute(sql).fetchone()


def _tables(database: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(database))
    connection.execute(HOURS)
    connection.execute(PREDICTED)
    return connection


def test_a_digest_does_not_depend_on_the_order_of_its_rows(
    digests_sql: str, tmp_path: Path
) -> None:
    with _tables(tmp_path / "digests.duckdb") as connection:
        before = _digests(connection, digests_sql)
        for table in ("hours", "predicted"):
            connection.execute(
                f"create or replace table {table} as select * from {table} order by sales_ts desc"
            )
        assert _digests(connection, digests_sql) == before


@pytest.mark.parametrize("change", CHANGES)
def test_a_digest_changes_with_any_column_of_its_rows(
    digests_sql: str, tmp_path: Path, change: str
) -> None:
    table, statement = CHANGES[change]
    with _tables(tmp_path / "digests.duckdb") as connection:
        hours_before, predicted_before = _digests(connection, digests_sql)
        connection.execute(statement)
        hours_after, predicted_after = _digests(connection, digests_sql)
    if table == "hours":
        assert hours_after != hours_before and predicted_after == predicted_before
    else:
        assert predicted_after != predicted_before and hours_after == hours_before
