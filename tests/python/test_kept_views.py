"""A view is built again only when what it is changes (macros/materializations/kept_view.sql):
its compiled SQL, its contract or the columns its query gives; a build that changes none of
them keeps it, which saves dbt's four statements per view on every build. A seed is loaded
again only when its file, its settings or dbt change (kept_seed.sql), which saves reading
the file into dbt's agate table (2.3 s for the demo's sales) on every build."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import copy_database, query, run_dbt

from mrs.pipeline.database_lock import open_database

VIEWS = "config.materialized:view"
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def _digests(database: Path, catalog: str, name: str, marker: str) -> dict[str, str | None]:
    """The comments of the project's relations listed in `catalog` (DuckDB's duckdb_views
    or duckdb_tables, `name` its name column) that keep a digest starting with `marker`."""
    rows = query(
        database,
        f"select schema_name || '.' || {name}, comment from {catalog}() "
        f"where schema_name in ('main', 'staging', 'logs') and comment like '{marker} %'",
    )
    return dict(rows)


def _view_comments(database: Path) -> dict[str, str | None]:
    return _digests(database, "duckdb_views", "view_name", "mrs-view-definition")


def _seed_tables(database: Path) -> dict[str, str | None]:
    return _digests(database, "duckdb_tables", "table_name", "mrs-seed-definition")


def _views_run(database: Path, *options: str) -> tuple[set[str], set[str]]:
    """Build the project's views; return those it built and those it kept (from dbt's debug
    log, which names both)."""
    result = run_dbt(database, "--debug", "run", "--select", VIEWS, *options)
    assert result.returncode == 0, result.stdout
    kept = set(re.findall(r'mrs: view "[^"]+"\."([^"]+)"\."([^"]+)" kept', result.stdout))
    built = set(re.findall(r'create view "[^"]+"\."([^"]+)"\."([^"]+)__dbt_tmp"', result.stdout))
    return {".".join(name) for name in built}, {".".join(name) for name in kept}


@pytest.fixture
def demo_copy(demo_database: tuple[Path, str], tmp_path: Path) -> Path:
    return copy_database(demo_database[0], tmp_path)


def test_an_unchanged_view_is_kept_and_a_dropped_one_built_again(demo_copy: Path) -> None:
    comments = _view_comments(demo_copy)
    assert len(comments) >= 30, "every view keeps the digest of its definition"
    with open_database(demo_copy, read_only=False) as connection:
        connection.execute("drop view main.anomaly_candidate_hours")

    built, kept = _views_run(demo_copy)

    assert built == {"main.anomaly_candidate_hours"}
    assert kept == comments.keys() - built
    assert _view_comments(demo_copy) == comments


def test_a_full_refresh_builds_every_view_again(demo_copy: Path) -> None:
    comments = _view_comments(demo_copy)

    built, kept = _views_run(demo_copy, "--full-refresh")

    assert (built, kept) == (comments.keys(), set())


def test_a_kept_view_meets_its_contract_again_when_an_upstream_type_changes(
    demo_copy: Path,
) -> None:
    # The view's SQL is the same, but the log under it now gives another type: a view kept
    # on its SQL alone would pass the contract it no longer meets.
    with open_database(demo_copy, read_only=False) as connection:
        connection.execute(
            "alter table logs.minority_event_log alter column report_count type varchar"
        )

    rebuilt = run_dbt(demo_copy, "run", "--select", "minority_event_log_current")

    assert rebuilt.returncode != 0
    assert "contract" in rebuilt.stdout.lower()


def _seeds_run(database: Path, *options: str) -> tuple[set[str], set[str]]:
    """Load the project's seeds; return those loaded and those kept (from dbt's debug log)."""
    result = run_dbt(database, "--debug", "seed", *options)
    assert result.returncode == 0, result.stdout
    output = ANSI_COLOUR.sub("", result.stdout)
    kept = re.findall(r'mrs: seed "[^"]+"\."([^"]+)"\."([^"]+)" kept', output)
    loaded = re.findall(r"OK loaded seed file (\w+)\.(\w+) \.+ \[(?:INSERT|CREATE)", output)
    return {".".join(name) for name in loaded}, {".".join(name) for name in kept}


def test_an_unchanged_seed_is_kept_and_a_stale_or_dropped_one_loaded_again(
    demo_copy: Path,
) -> None:
    seeds = _seed_tables(demo_copy)
    assert {"main.unified_sales_data", "main.cause_taxonomy", "main.stores"} <= seeds.keys()
    taxonomy = query(demo_copy, "select * from main.cause_taxonomy order by all")
    with open_database(demo_copy, read_only=False) as connection:
        # As if the file had changed since the table was loaded: its digest no longer holds.
        connection.execute("delete from main.cause_taxonomy")
        connection.execute("comment on table main.cause_taxonomy is 'mrs-seed-definition old'")
        connection.execute("drop table main.stores")

    loaded, kept = _seeds_run(demo_copy)

    assert loaded == {"main.cause_taxonomy", "main.stores"}
    assert kept == seeds.keys() - loaded
    assert query(demo_copy, "select * from main.cause_taxonomy order by all") == taxonomy
    assert _seed_tables(demo_copy) == seeds


def test_a_full_refresh_loads_every_seed_again(demo_copy: Path) -> None:
    seeds = _seed_tables(demo_copy)

    loaded, kept = _seeds_run(demo_copy, "--full-refresh")

    assert (loaded, kept) == (seeds.keys(), set())
