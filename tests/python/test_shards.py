"""Scale-out by store (issue 17; docs/scale_out.md): a shard stages only its stores' sales,
and the statistics of the whole feed (its frontier, the build's as_of, its gaps) and the
baseline fit's pooled medians come out of every shard exactly as one process computes them,
from every shard's partials. Built so far: staging, the feed's statistics and the fit; the
predictions' score scale is next."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
from conftest import query, run_dbt

from mrs.dev.world import WorldOptions, build_vars, write_world
from mrs.pipeline.project import WITHOUT_TESTS, Project
from mrs.pipeline.shards import (
    FEED_PARTIALS,
    SHARD_PHASES,
    Phase,
    ShardLayout,
    build_shards,
    run_on_ray,
)

WORLD = WorldOptions(stores=6, products=3, days=26)
# Two shards, one per node of the test's cluster: each phase runs both at once.
SHARDS = 2
# What a shard builds today exactly as one process does: its staged sales, the feed's
# statistics and the baseline fit (the predictions' score scale is not two-phase yet).
BUILT = "+baseline_sales_model_fit +stg_unified_sales_data +unified_sales_data_errors"
PHASES = (*SHARD_PHASES[:-1], Phase("fit", BUILT, FEED_PARTIALS))
FEED_STATISTICS = (
    "stg_unified_sales_data_hour_totals",
    "stg_unified_sales_data_frontier",
    "run_settings",
    "sales_feed_hours",
)


def _rows(database: Path, relation: str) -> list[tuple]:
    return sorted(query(database, f"select * from {relation}"), key=repr)


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ShardLayout]:
    """The world built by one process and, on a two-node local Ray cluster, as three shards."""
    from ray.cluster_utils import Cluster

    root = tmp_path_factory.mktemp("shards")
    write_world(WORLD, root / "world", file_format="parquet")
    settings = build_vars(WORLD, root / "world")
    one = root / "one" / "mrs.duckdb"
    selection = ["--select", *BUILT.split()]
    assert Project.locate(one).dbt(["build", *selection, *WITHOUT_TESTS], settings) == 0
    layout = ShardLayout(root / "sharded" / "mrs.duckdb", SHARDS)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    try:
        build_shards(layout, settings, runner=run_on_ray(cluster.address), phases=PHASES)
    finally:
        import ray

        ray.shutdown()
        cluster.shutdown()
    return one, layout


def test_each_store_is_staged_by_exactly_one_shard(sharded: tuple[Path, ShardLayout]) -> None:
    one, layout = sharded
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
    sharded: tuple[Path, ShardLayout], relation: str
) -> None:
    one, layout = sharded
    expected = _rows(one, relation)
    assert expected
    for shard in range(SHARDS):
        assert _rows(layout.shard_database(shard), relation) == expected


def test_the_baseline_fit_pools_every_shards_series(sharded: tuple[Path, ShardLayout]) -> None:
    # Its three pooled medians are over every store's series: each shard's own would give
    # other profiles' spreads. The fingerprint digests each build's own SQL and inputs.
    one, layout = sharded
    fit = "(select * exclude (fit_fingerprint) from baseline_sales_model_fit)"
    shard_fits = [_rows(layout.shard_database(shard), fit) for shard in range(SHARDS)]
    assert all(shard_fits)
    assert sorted(row for rows in shard_fits for row in rows) == sorted(_rows(one, fit))


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
    ],
    ids=["a shard outside its count", "no exchange folder", "a fit pass in one process"],
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
