"""The world generator is deterministic, reproduces the committed seeds and tells the story."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_ROOT, run_mrs

from mrs.dev.world import (
    INPUT_FILES,
    STORE_TILE,
    WorldOptions,
    build_context,
    build_narratives,
    write_world,
)
from mrs.models.features import FEATURE_NAMES
from mrs.pipeline.input_contract import input_columns

SEEDS = PROJECT_ROOT / "seeds"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    first = tmp_path_factory.mktemp("world_a")
    second = tmp_path_factory.mktemp("world_b")
    run_mrs("generate-world", "--out", str(first))
    run_mrs("generate-world", "--out", str(second))
    return first, second


@pytest.mark.parametrize("name", INPUT_FILES)
def test_generating_twice_gives_identical_files_equal_to_the_seeds(
    regenerated: tuple[Path, Path], name: str
) -> None:
    first, second = regenerated
    produced = (first / f"{name}.csv").read_bytes()
    assert produced == (second / f"{name}.csv").read_bytes()
    assert produced == (SEEDS / f"{name}.csv").read_bytes(), (
        f"seeds/{name}.csv differs from what `mrs generate-world` writes; regenerate the seeds"
    )


def _csv(name: str) -> duckdb.DuckDBPyRelation:
    return duckdb.read_csv(str(SEEDS / f"{name}.csv"), header=True)


def test_demo_world_has_the_places_and_products_the_brief_asks_for() -> None:
    stores = _csv("stores")
    assert stores.count("*").fetchone()[0] >= 24
    assert stores.aggregate("count(distinct retailer)").fetchone()[0] >= 5
    assert stores.aggregate("count(distinct city)").fetchone()[0] >= 6
    assert stores.filter("latitude is null or longitude is null").count("*").fetchone()[0] == 0
    assert _csv("products").count("*").fetchone()[0] >= 6


def test_demo_sales_cover_every_hour_of_the_period_for_every_series() -> None:
    first, last, hours, series = (
        _csv("unified_sales_data")
        .aggregate(
            "min(sales_ts), max(sales_ts), count(distinct sales_ts), "
            "count(distinct (store_id, sku))"
        )
        .fetchone()
    )
    assert first == dt.datetime(2025, 7, 3, 0)
    assert last == dt.datetime(2025, 8, 12, 23)
    assert hours == 41 * 24
    assert series == 24 * 7


def test_narratives_cover_every_scenario_of_the_brief() -> None:
    categories = {
        row[0] for row in _csv("master_narratives").aggregate("cause_category").fetchall()
    }
    assert {
        "competitor_stockout",
        "social_viral",
        "weather",
        "data_error",
        "tpo_promotion",
        "traditional_media",
        "operational",
        "unknown",
    } <= categories
    drops = _csv("master_narratives").filter("magnitude < 0").count("*").fetchone()[0]
    assert drops > 0
    ids = {row[0] for row in _csv("master_narratives").aggregate("narrative_id").fetchall()}
    assert {"MRS-001", "MRS-002", "MRS-003"} <= ids


def test_evidence_explains_narratives_and_holds_decoys() -> None:
    narratives = _csv("master_narratives")
    campaigns = _csv("all_campaign_data")
    context = _csv("contextual_data")
    window = "end_ts > timestamp '2025-08-07' and start_ts < timestamp '2025-08-13'"
    decoys = campaigns.filter(f"not ({window})").count("*").fetchone()[0]
    decoys += context.filter(f"not ({window})").count("*").fetchone()[0]
    assert decoys >= 3
    assert campaigns.filter("cause_category = 'tpo_promotion'").count("*").fetchone()[0] >= 1
    assert narratives.filter("cause_category = 'unknown'").count("*").fetchone()[0] >= 1


def test_cluster_library_has_sixteen_feature_centroids_and_coordinates() -> None:
    library = _csv("cluster_library")
    assert library.count("*").fetchone()[0] >= 6
    assert len(FEATURE_NAMES) == 16
    assert set(FEATURE_NAMES) <= set(library.columns)
    assert {"tsne_x", "tsne_y"} <= set(library.columns)
    narrative_clusters = {
        r[0] for r in _csv("master_narratives").aggregate("cluster_name").fetchall()
    }
    library_clusters = {r[0] for r in library.aggregate("cluster_name").fetchall()}
    assert narrative_clusters <= library_clusters


def test_large_worlds_are_written_as_parquet(tmp_path: Path) -> None:
    options = WorldOptions(stores=30, products=3, days=14)
    counts = write_world(options, tmp_path, "parquet")
    assert counts["unified_sales_data"] == 30 * 3 * 14 * 24
    rows = duckdb.read_parquet(str(tmp_path / "unified_sales_data.parquet")).count("*").fetchone()
    assert rows[0] == counts["unified_sales_data"]


def test_a_world_of_over_999_stores_keeps_every_store_its_own_sales(tmp_path: Path) -> None:
    # The sales were written with SQL's lpad, which cut 'ST-1000' to 'ST-100': `mrs bench`'s
    # 20 M world (2,033 stores) had 999 distinct stores in its sales and half its rows were
    # staged as duplicate keys.
    options = WorldOptions(stores=1001, products=1, days=14)
    write_world(options, tmp_path, "parquet")
    checked = duckdb.sql(
        f"""
        select
            count(*) as sales_rows,
            count(distinct (sales_ts, store_id, sku)) as keys,
            count(distinct store_id) as sales_stores,
            count(*) filter (where store_id not in (
                select store_id from read_parquet('{tmp_path / "stores.parquet"}')
            )) as unknown_store_rows
        from read_parquet('{tmp_path / "unified_sales_data.parquet"}')
        """
    ).fetchone()
    assert checked == (1001 * 14 * 24, 1001 * 14 * 24, 1001, 0)


def test_a_world_of_one_series_writes_every_input_with_its_header(tmp_path: Path) -> None:
    # One store has no narrative, campaign or context row (`mrs bench --history 4 --stores 1
    # --products 1`, issue 18's one-series world, crashed on the empty frames): each such
    # input is written with the contract's columns and no row.
    options = WorldOptions(stores=1, products=1, days=14)
    counts = write_world(options, tmp_path, "parquet")
    assert counts["master_narratives"] == 0
    for name in ("master_narratives", "all_campaign_data", "contextual_data"):
        written = duckdb.read_parquet(str(tmp_path / f"{name}.parquet"))
        assert tuple(written.columns) == input_columns(name), name


def test_a_different_seed_gives_different_sales(tmp_path: Path) -> None:
    write_world(WorldOptions(seed=8, stores=2, products=2, days=14), tmp_path / "a")
    write_world(WorldOptions(seed=9, stores=2, products=2, days=14), tmp_path / "b")
    a = (tmp_path / "a" / "unified_sales_data.csv").read_bytes()
    b = (tmp_path / "b" / "unified_sales_data.csv").read_bytes()
    assert a != b


def test_bad_options_are_refused_with_a_clear_message(tmp_path: Path) -> None:
    result = run_mrs("generate-world", "--days", "3", "--out", str(tmp_path), check=False)
    assert result.returncode == 2
    assert "--days must be at least" in result.stderr


def test_anomaly_tiles_replay_the_narratives_in_every_block_of_stores() -> None:
    # A benchmark world as dense in reports as a real feed: each block of STORE_TILE stores
    # gets the demo's narratives on its own stores, with its own ids and store-level evidence.
    plain = WorldOptions(stores=60, products=7, days=20)
    tiled = WorldOptions(stores=60, products=7, days=20, anomaly_tiles=True)
    narratives = build_narratives(plain)
    dense = build_narratives(tiled)
    assert len(dense) > 2 * len(narratives)
    first_tile = dense[~dense["narrative_id"].str.contains("-T")]
    assert first_tile.reset_index(drop=True).equals(narratives)
    second = dense[dense["narrative_id"].str.endswith("-T002")]
    assert set(second["narrative_id"]) == {f"{n}-T002" for n in narratives["narrative_id"]}
    shifted = {f"ST-{int(s[3:]) + STORE_TILE:03d}" for s in narratives["store_id"]}
    assert set(second["store_id"]) == shifted
    # Each narrative stays inside its own block of stores.
    tile = dense["narrative_id"].str.extract(r"-T(\d+)$")[0].fillna("1").astype(int)
    block = (dense["store_id"].str[3:].astype(int) - 1) // STORE_TILE + 1
    assert tile.tolist() == block.tolist()
    # Store-level evidence follows its store; evidence for a city or retailer is shared.
    context, plain_context = build_context(tiled), build_context(plain)
    assert context["event_id"].is_unique
    store_level = plain_context["store_id"].dropna()
    assert set(context[context["event_id"].str.endswith("-T002")]["store_id"]) == {
        f"ST-{int(s[3:]) + STORE_TILE:03d}" for s in store_level
    }
    assert len(context[context["store_id"].isna()]) == len(plain_context) - len(store_level)
