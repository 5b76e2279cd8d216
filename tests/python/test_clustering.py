"""Cluster comparison (mrs.models.clustering): matching, threshold, map placement, determinism, and
the event-level match on the pooled curves of an event's reports."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from mrs.dev.cluster_ceiling import best_template, drawn_multiplier
from mrs.dev.world import CLUSTER_DEFINITIONS, build_cluster_library
from mrs.models.clustering import (
    UNCLASSIFIED,
    match_clusters,
    match_event_clusters,
    narrative_clusters,
    narrative_event_clusters,
    pool_event_hours,
)
from mrs.models.shapes import excess_profile

LIBRARY = build_cluster_library()
START = pd.Timestamp("2025-08-07 08:00")


def _hours(report_id: str, actual: np.ndarray, baseline: np.ndarray) -> pd.DataFrame:
    n = len(actual)
    return pd.DataFrame(
        {
            "report_id": report_id,
            "written_at": START + pd.Timedelta(hours=n),
            "store_id": "ST-001",
            "sku": "SKU-001",
            "window_start": START,
            "sales_ts": [START + pd.Timedelta(hours=i) for i in range(n)],
            "actual_units": actual,
            "expected_units": baseline,
        }
    )


def _template(shape: str, magnitude: float, hours: int, level: float = 10.0) -> pd.DataFrame:
    baseline = np.full(hours, level)
    return _hours(shape, baseline * (1 + magnitude * excess_profile(shape, hours)), baseline)


def test_each_library_shape_matches_its_own_cluster() -> None:
    hours = pd.concat([_template(shape, m, n) for _, shape, _, m, n in CLUSTER_DEFINITIONS])
    matches = match_clusters(hours, LIBRARY, threshold=0.5).set_index("report_id")
    for _, shape, _, _, _ in CLUSTER_DEFINITIONS:
        assert matches.loc[shape, "cluster_name"] == shape


def test_a_shape_unlike_every_centroid_is_unclassified() -> None:
    baseline = np.full(24, 10.0)
    zigzag = baseline * (1 + np.tile([1.5, -0.9], 12))
    match = match_clusters(_hours("odd", zigzag, baseline), LIBRARY, threshold=0.99).iloc[0]
    assert match["cluster_name"] == UNCLASSIFIED
    assert pd.isna(match["cluster_id"])


def test_a_drop_only_matches_a_drop_cluster() -> None:
    # A fading drop has the curve of a media pulse; its direction rules the pulse out.
    baseline = np.full(10, 10.0)
    fading_drop = baseline * (1 - 0.6 * excess_profile("media_pulse", 10))
    match = match_clusters(_hours("drop", fading_drop, baseline), LIBRARY, threshold=0.0).iloc[0]
    assert match["cluster_name"] == "sudden_drop"
    uplifts_only = LIBRARY[LIBRARY["direction"] > 0]
    alone = match_clusters(_hours("drop", fading_drop, baseline), uplifts_only, threshold=0.0)
    assert alone.iloc[0]["cluster_name"] == UNCLASSIFIED
    assert alone.iloc[0]["cluster_match_confidence"] == 0.0


def test_map_positions_stay_within_the_library_layout() -> None:
    hours = pd.concat([_template(shape, m, n) for _, shape, _, m, n in CLUSTER_DEFINITIONS])
    matches = match_clusters(hours, LIBRARY, threshold=0.0)
    assert matches["tsne_x"].between(LIBRARY["tsne_x"].min(), LIBRARY["tsne_x"].max()).all()
    assert matches["tsne_y"].between(LIBRARY["tsne_y"].min(), LIBRARY["tsne_y"].max()).all()
    assert matches["cluster_match_confidence"].between(0, 1).all()


def test_matching_is_deterministic_and_scale_free() -> None:
    small = _template("sharp_spike", 2.2, 17, level=3.0)
    large = _template("sharp_spike", 2.2, 17, level=3000.0)
    a = match_clusters(small, LIBRARY, 0.75)
    b = match_clusters(large, LIBRARY, 0.75)
    pd.testing.assert_frame_equal(
        a, match_clusters(small.sample(frac=1.0, random_state=2), LIBRARY, 0.75)
    )
    assert a["cluster_name"].tolist() == b["cluster_name"].tolist()
    assert a["similarity_score"].tolist() == b["similarity_score"].tolist()


def test_mock_version_names_the_overlapping_narrative_cluster() -> None:
    hours = _template("promo_step", 1.3, 12)
    narratives = pd.DataFrame(
        {
            "store_id": ["ST-001"],
            "sku": ["SKU-001"],
            "start_ts": [START],
            "end_ts": [START + pd.Timedelta(hours=30)],
            "cluster_name": ["promo_step"],
            "confidence": [0.9],
        }
    )
    match = narrative_clusters(hours, narratives, LIBRARY).iloc[0]
    assert match["cluster_name"] == "promo_step"
    assert match["cluster_match_confidence"] == 0.9
    elsewhere = narrative_clusters(hours.assign(sku="SKU-002"), narratives, LIBRARY).iloc[0]
    assert elsewhere["cluster_name"] == UNCLASSIFIED


def test_thebest_template_names_each_clean_generating_curve() -> None:
    for _, shape, _, magnitude, hours in CLUSTER_DEFINITIONS:
        expected = np.full(hours, 8.0)
        actual = expected * (1 + magnitude * excess_profile(shape, hours))
        assert best_template(actual, expected, expected.copy()) == shape


def test_thedrawn_multiplier_is_flat_outside_the_narrative() -> None:
    since_start = np.array([-2.0, 0.0, 5.0, 10.0, 12.0])
    drawn = drawn_multiplier("duplicated_block", 1.0, since_start, 10.0)
    assert drawn.tolist() == [1.0, 2.0, 2.0, 1.0, 1.0]


def _noisy_event(event_id: str, shape: str, magnitude: float, lengths: list[int], seed: int):
    """Hours of one event: a report per window length, Poisson counts around a baseline of 6
    units an hour (a demo series) lifted by the shape."""
    rng = np.random.default_rng(seed)
    members = []
    for i, hours in enumerate(lengths):
        baseline = np.full(hours, 6.0)
        actual = rng.poisson(baseline * (1 + magnitude * excess_profile(shape, hours)))
        member = _hours(f"MR-{event_id}-{i}", actual.astype(float), baseline)
        members.append(member.assign(report_group_id=event_id))
    return pd.concat(members, ignore_index=True)


def test_noisy_reports_of_one_event_are_named_right_when_pooled() -> None:
    event = _noisy_event("ME-promo", "promo_step", 1.3, [21, 21, 21], seed=22)
    alone = match_clusters(event, LIBRARY, 0.75)
    assert len(alone) == 3
    assert "promo_step" not in set(alone["cluster_name"])  # each report alone is misnamed
    pooled = match_event_clusters(event, LIBRARY, 0.75)
    assert pooled["report_group_id"].tolist() == ["ME-promo"]
    assert pooled.iloc[0]["cluster_name"] == "promo_step"
    assert pooled.iloc[0]["report_count"] == 3
    assert pooled.iloc[0]["pooled_hours"] == 21


def test_pooling_names_more_events_right_than_single_reports() -> None:
    # 20 events per library shape, three reports each with windows of slightly different
    # lengths (each curve is stretched over its own window): pooling cuts the count noise
    # (measured: 55 % of the reports named right alone, 66 % of the events pooled).
    events = pd.concat(
        [
            _noisy_event(f"ME-{shape}-{k}", shape, magnitude, [hours - 2, hours, hours + 3], k)
            for _, shape, _, magnitude, hours in CLUSTER_DEFINITIONS
            for k in range(20)
        ],
        ignore_index=True,
    )
    alone = match_clusters(events, LIBRARY, 0.75)  # report ids: MR-ME-<shape>-<k>-<i>
    alone_right = (alone["cluster_name"] == alone["report_id"].str.split("-").str[2]).mean()
    pooled = match_event_clusters(events, LIBRARY, 0.75)  # event ids: ME-<shape>-<k>
    pooled_right = (
        pooled["cluster_name"] == pooled["report_group_id"].str.split("-").str[1]
    ).mean()
    assert len(alone) == 3 * len(pooled) == 3 * 140
    assert pooled_right >= alone_right + 0.05, (alone_right, pooled_right)


def test_a_one_report_event_gets_its_report_match() -> None:
    event = _noisy_event("ME-one", "sharp_spike", 2.2, [17], seed=3)
    alone = match_clusters(event, LIBRARY, 0.75).iloc[0]
    pooled = match_event_clusters(event, LIBRARY, 0.75).iloc[0]
    assert pooled["cluster_name"] == alone["cluster_name"]
    assert pooled["cluster_id"] == alone["cluster_id"]
    assert pooled["similarity_score"] == pytest.approx(alone["similarity_score"], abs=1e-6)
    assert pooled["cluster_match_confidence"] == pytest.approx(
        alone["cluster_match_confidence"], abs=1e-6
    )
    np.testing.assert_allclose(pooled["feature_vector"], alone["feature_vector"], atol=1e-6)


def test_event_pooling_is_deterministic_whatever_the_row_order() -> None:
    events = pd.concat(
        [
            _noisy_event("ME-a", "sustained_plateau", 0.9, [30, 36, 40], seed=1),
            _noisy_event("ME-b", "sudden_drop", -0.95, [6, 7, 12], seed=2),
        ],
        ignore_index=True,
    )
    first = match_event_clusters(events, LIBRARY, 0.75)
    shuffled = events.sample(frac=1.0, random_state=5)
    pd.testing.assert_frame_equal(first, match_event_clusters(shuffled, LIBRARY, 0.75))
    pd.testing.assert_frame_equal(pool_event_hours(events), pool_event_hours(shuffled))
    assert first["report_group_id"].tolist() == ["ME-a", "ME-b"]
    assert first.iloc[1]["cluster_name"] == "sudden_drop"
    empty = match_event_clusters(events.iloc[0:0], LIBRARY, 0.75)
    assert empty.empty
    assert list(empty.columns) == list(first.columns)


def test_mock_event_version_takes_the_most_common_narrative_cluster() -> None:
    event = _noisy_event("ME-mock", "promo_step", 1.3, [12, 12, 12], seed=4)
    # Two of the three reports' series carry a promo_step narrative, one a duplicated_block.
    event["sku"] = event["report_id"].map(
        {"MR-ME-mock-0": "SKU-001", "MR-ME-mock-1": "SKU-001", "MR-ME-mock-2": "SKU-002"}
    )
    narratives = pd.DataFrame(
        {
            "store_id": ["ST-001", "ST-001"],
            "sku": ["SKU-001", "SKU-002"],
            "start_ts": [START, START],
            "end_ts": [START + pd.Timedelta(hours=30)] * 2,
            "cluster_name": ["promo_step", "duplicated_block"],
            "confidence": [0.9, 0.6],
        }
    )
    mock = narrative_event_clusters(event, narratives, LIBRARY)
    real = match_event_clusters(event, LIBRARY, 0.75)
    assert list(mock.columns) == list(real.columns)
    assert mock.dtypes.tolist() == real.dtypes.tolist()
    assert mock.iloc[0]["cluster_name"] == "promo_step"
    assert mock.iloc[0]["cluster_match_confidence"] == pytest.approx(0.9)
    assert mock.iloc[0]["report_count"] == 3


def _column_types(frame: pd.DataFrame) -> dict[str, str]:
    return {row[0]: row[1] for row in duckdb.sql("describe select * from frame").fetchall()}


def test_no_report_still_gives_the_feature_vector_as_a_list_of_doubles() -> None:
    # An object column of no rows reached DuckDB as INTEGER, so an empty model table had
    # another type than a full one (a sharded build's interface views had to skip it).
    empty = match_clusters(_hours("none", np.ones(4), np.ones(4)).iloc[0:0], LIBRARY, 0.75)
    full = match_clusters(_template("sharp_spike", 1.0, 12), LIBRARY, 0.75)
    assert (len(empty), len(full)) == (0, 1)
    assert _column_types(empty)["feature_vector"] == "DOUBLE[]"
    assert _column_types(full)["feature_vector"] == "DOUBLE[]"
    no_event = _noisy_event("ME-none", "promo_step", 1.3, [21], seed=22).iloc[0:0]
    assert _column_types(match_event_clusters(no_event, LIBRARY, 0.75))["feature_vector"] == (
        "DOUBLE[]"
    )
