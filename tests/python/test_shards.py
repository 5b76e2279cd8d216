"""Scale-out by store (issue 17; docs/scale_out.md): the demo built as two shards on a
two-node local Ray cluster whose one CPU is on the node the driver is not on (`mrs build
--shards 2 --ray-address ...`), in two builds 15 ticks apart, then reviewed by the demo's
scenarios and built again, records exactly what `mrs demo` records in one process: every
log, every table of the published record (EXCEPT ALL empty both ways). A shard stages only
its stores' sales; the feed's statistics, the baseline fit's pooled medians and the
predictions' score scale come out of every shard as one process computes them, from every
shard's partials."""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from conftest import LOGS, as_reviewer, query, run_dbt, run_mrs

from mrs.dev.demo_scenarios import run_review_scenarios
from mrs.dev.row_differences import row_differences
from mrs.pipeline.project import MrsError
from mrs.pipeline.publication import published_database
from mrs.pipeline.shards import ShardLayout

# More shards than the cluster has CPUs: each phase takes two rounds in one Ray worker, which
# runs dbt for one shard's database after the other's.
SHARDS = 2
# The first sharded build stops this many ticks before the demo's as_of.
EARLIER_TICKS = 15
FEED_STATISTICS = (
    "stg_unified_sales_data_hour_totals",
    "stg_unified_sales_data_frontier",
    "run_settings",
    "sales_feed_delivered_hours",
    "sales_feed_hours",
    "baseline_day_start",
    "baseline_clock_change",
)
# Digests of what a build computed from: a shard's digest its own rows, by design.
OWN_DIGESTS = ("input_day_digest", "prediction_digest", "fit_fingerprint")
# The published copy's folder of its build's own Parquet files, numbered by the builds the
# copy has seen (the demo builds twice, the sharded deployment three times), not by its rows.
OWN_BUILD_FOLDER = ("build_parquet_file",)


def _rows(database: Path, relation: str) -> list[tuple]:
    return sorted(query(database, f"select * from {relation}"), key=repr)


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """A two-node local Ray cluster, its one CPU on the node the driver is not on: every
    shard's phase runs on another node than the build's, one shard after the other (the
    suite's other worker keeps the machine's second core): its address."""
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    cluster.add_node(num_cpus=1)
    try:
        yield cluster.address
    finally:
        ray.shutdown()
        cluster.shutdown()


@pytest.fixture(scope="module")
def deployments(
    tmp_path_factory: pytest.TempPathFactory, demo_database: tuple[Path, str], ray_cluster: str
) -> tuple[Path, Path]:
    """The demo as `mrs demo` builds it in one process, and as two shards on the Ray
    cluster: a build 15 ticks short of the demo's as_of, a build of those 15 ticks, the
    demo's review scenarios, and a build of what they changed. (One sharded deployment
    for every test here: each sharded build is the module's longest step.)"""
    one = demo_database[0]
    [(as_of,)] = query(one, "select as_of from run_settings")
    database = tmp_path_factory.mktemp("sharded_demo") / "mrs.duckdb"
    as_reviewer(database, "admin")  # the demo's reviewers, as `mrs demo` writes them
    ray_shards = ("--shards", str(SHARDS), "--ray-address", ray_cluster)
    earlier = as_of - dt.timedelta(hours=EARLIER_TICKS)
    run_mrs(
        "build", "--database", str(database), "--as-of", f"{earlier:%Y-%m-%d %H:%M}",
        "--no-tests", *ray_shards,
    )  # fmt: skip
    layout = ShardLayout(database, SHARDS)
    assert query(layout.shard_database(0), "select as_of from run_settings") == [(earlier,)]
    run_mrs("build", "--database", str(database), "--no-tests", *ray_shards)
    assert [error for _, error in run_review_scenarios(database) if error] == []
    run_mrs("build", "--database", str(database), "--no-tests", *ray_shards)
    return one, database


def _difference(
    one: duckdb.DuckDBPyConnection, sharded: duckdb.DuckDBPyConnection, relation: str
) -> tuple[int, int, int]:
    """Rows of `relation` only one process has, only the sharded build has, and in all."""
    columns = [
        column
        for (column,) in one.execute(
            "select column_name from (describe select * from " + relation + ")"
        ).fetchall()
        if column not in OWN_DIGESTS + OWN_BUILD_FOLDER
    ]
    select = f"select {', '.join(columns)} from {relation}"
    left = one.execute(select).to_arrow_table()
    only_one, only_sharded = row_differences(left, sharded.execute(select).to_arrow_table())
    return only_one, only_sharded, left.num_rows


def _differing(one: Path, sharded: Path) -> tuple[dict[str, tuple[int, int, int]], ...]:
    """Every log of the two databases (each table of schema `logs`, the review's included)
    and every table of their published copies that differ (EXCEPT ALL both ways), and what
    was found of each."""
    with (
        duckdb.connect(str(one), read_only=True) as one_db,
        duckdb.connect(str(sharded), read_only=True) as sharded_db,
    ):
        logs = one_db.execute(
            "select 'logs.' || table_name from information_schema.tables "
            "where table_catalog = current_database() and table_schema = 'logs' "
            "and table_type = 'BASE TABLE' order by all"
        ).fetchall()
        assert {f"logs.{log}" for log in LOGS} <= {log for (log,) in logs}
        found = {log: _difference(one_db, sharded_db, log) for (log,) in logs}
    with (
        duckdb.connect(str(published_database(one)), read_only=True) as one_db,
        duckdb.connect(str(published_database(sharded)), read_only=True) as sharded_db,
    ):
        tables = one_db.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_catalog = current_database() order by all"
        ).fetchall()
        assert len(tables) > 5
        for (table,) in tables:
            found["published " + table] = _difference(one_db, sharded_db, table)
    return {name: rows for name, rows in found.items() if rows[:2] != (0, 0)}, found


def test_the_sharded_demo_records_what_the_demo_records(
    deployments: tuple[Path, Path],
) -> None:
    differing, found = _differing(*deployments)
    assert differing == {}
    assert found["logs.minority_reports_detected_log"][2] > 0, "the demo has reports"
    assert found["logs.user_edits_log"][2] > 0, "the scenarios' report edits"
    assert found["logs.user_minority_events_edits_log"][2] > 0, "the scenarios' event edits"
    assert found["published main.minority_reports"][2] > 0
    assert found["published main.minority_events"][2] > 0


def test_each_store_is_staged_by_exactly_one_shard(deployments: tuple[Path, Path]) -> None:
    one, sharded = deployments
    layout = ShardLayout(sharded, SHARDS)
    shard_rows = [
        _rows(layout.shard_database(shard), "stg_unified_sales_data") for shard in range(SHARDS)
    ]
    assert sorted(row for rows in shard_rows for row in rows) == sorted(
        _rows(one, "stg_unified_sales_data")
    )
    stores = [{row[1] for row in rows} for rows in shard_rows]
    assert all(stores), "every shard has stores of this world"
    assert (
        collections.Counter(store for found in stores for store in found).most_common(1)[0][1] == 1
    )


@pytest.mark.parametrize("relation", FEED_STATISTICS)
def test_every_shard_judges_the_feed_as_one_process_does(
    deployments: tuple[Path, Path], relation: str
) -> None:
    one, sharded = deployments
    layout = ShardLayout(sharded, SHARDS)
    expected = _rows(one, relation)
    assert expected
    for shard in range(SHARDS):
        assert _rows(layout.shard_database(shard), relation) == expected


@pytest.mark.parametrize(
    "relation",
    [
        "(select * exclude (fit_fingerprint) from baseline_sales_model_fit)",
        "(select * exclude (input_day_digest, prediction_digest) from baseline_sales_predictions)",
    ],
    ids=["fit", "predictions"],
)
def test_the_baseline_pools_every_shards_series(
    deployments: tuple[Path, Path], relation: str
) -> None:
    # The fit's three pooled medians and each day's score scale are over every store's
    # series: each shard's own would give other spreads and scores.
    one, sharded = deployments
    layout = ShardLayout(sharded, SHARDS)
    shard_rows = [_rows(layout.shard_database(shard), relation) for shard in range(SHARDS)]
    assert all(shard_rows)
    assert sorted(row for rows in shard_rows for row in rows) == sorted(_rows(one, relation))


@pytest.mark.parametrize(
    ("model", "dbt_vars", "message"),
    [
        (
            "stg_unified_sales_data_hour_partials",
            "{mrs_shard: 3, mrs_shard_count: 3, mrs_shard_exchange_dir: /tmp}",
            "name no shard",
        ),
        (
            "stg_unified_sales_data_hour_totals",
            "{mrs_shard: 1, mrs_shard_count: 2}",
            "mrs_shard_exchange_dir",
        ),
        ("baseline_sales_model_fit", "{mrs_fit_pass: day_noise}", "is a pass of a sharded build"),
        (
            "baseline_sales_predictions",
            "{mrs_score_pass: scale}",
            "is a pass of a sharded build",
        ),
    ],
    ids=["a shard outside its count", "no exchange folder", "a fit pass", "a score pass"],
)
def test_shard_settings_that_name_no_shard_are_refused_with_what_to_set(
    tmp_path: Path, model: str, dbt_vars: str, message: str
) -> None:
    result = run_dbt(
        tmp_path / "mrs.duckdb",
        "compile", "--select", model, "--vars", dbt_vars,
        "--target-path", str(tmp_path / "target"),
    )  # fmt: skip
    assert result.returncode != 0
    assert message in result.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--ray-address", "auto"), "give both"),
        (("--shards", "2", "--select", "run_settings"), "leave --select out"),
    ],
    ids=["a cluster without shards", "a selection of a sharded build"],
)
def test_a_sharded_build_refuses_options_it_cannot_honour(
    tmp_path: Path, options: tuple[str, ...], message: str
) -> None:
    result = run_mrs("build", "--database", str(tmp_path / "mrs.duckdb"), *options, check=False)
    assert result.returncode != 0
    assert message in result.stderr


def test_a_shard_count_below_one_is_refused() -> None:
    with pytest.raises(MrsError, match="1 or more"):
        ShardLayout(Path("mrs.duckdb"), 0)


def test_a_deployment_keeps_the_shard_count_it_was_first_built_with(tmp_path: Path) -> None:
    # A shard's logs stay in its own file: one process, or another count, would start the
    # record again without them.
    database = tmp_path / "mrs.duckdb"
    ShardLayout(database, 3).exchange.mkdir(parents=True)
    one_process = run_mrs("build", "--database", str(database), check=False)
    assert one_process.returncode != 0
    assert "build it with --shards 3 again" in one_process.stderr
    other_count = run_mrs("build", "--database", str(database), "--shards", "2", check=False)
    assert other_count.returncode != 0
    assert "another count would lose them" in other_count.stderr


def test_a_database_built_by_one_process_is_not_sharded(tmp_path: Path) -> None:
    database = tmp_path / "mrs.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create schema logs")
        con.execute("create table logs.minority_reports_detected_log (report_id varchar)")
    result = run_mrs("build", "--database", str(database), "--shards", "2", check=False)
    assert result.returncode != 0
    assert "holds the logs of builds by one process" in result.stderr
    assert not ShardLayout(database, 2).folder.exists(), "refused before any shard was built"
