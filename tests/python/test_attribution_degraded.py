"""Attribution without its evidence inputs: the build succeeds and says why it is unsure."""

from __future__ import annotations

from pathlib import Path

from conftest import build_world, query

from mrs.dev.world import WorldOptions, write_world

WORLD = WorldOptions(stores=14, products=7, days=26)


def test_missing_evidence_gives_unknown_with_null_confidence_and_a_degraded_flag(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "world"
    write_world(WORLD, folder)
    (folder / "all_campaign_data.csv").unlink()
    (folder / "contextual_data.csv").unlink()
    (folder / "cluster_library.csv").unlink()
    database = tmp_path / "mrs.duckdb"
    build_world(folder, database, WORLD)
    rows = query(
        database,
        "select distinct proposed_cause_category, confidence_score, is_degraded, "
        "degraded_reasons from minority_reports_proposed_attribution_log",
    )
    assert rows == [
        ("unknown", None, True, ["all_campaign_data_missing", "contextual_data_missing"])
    ]
    sources = dict(query(database, "select input_name, source_location from input_sources"))
    assert sources["contextual_data"] == "missing"
    assert sources["cluster_library"] == "seed:cluster_library"
