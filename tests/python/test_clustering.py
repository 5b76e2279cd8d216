"""Cluster comparison (mrs.clustering): matching, threshold, map placement, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mrs.cluster_ceiling import best_template, drawn_multiplier
from mrs.clustering import UNCLASSIFIED, match_clusters, narrative_clusters
from mrs.shapes import excess_profile
from mrs.world import CLUSTER_DEFINITIONS, build_cluster_library

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
