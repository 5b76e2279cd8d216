"""The shape vector: deterministic, bounded, and blind to the scale of the series."""

from __future__ import annotations

import numpy as np
import pytest

from mrs.models.features import FEATURE_NAMES, shape_vector
from mrs.models.shapes import SHAPES, excess_profile
from mrs.pipeline.input_contract import input_columns


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_scaling_actual_and_baseline_together_leaves_the_vector_unchanged(shape: str) -> None:
    rng = np.random.default_rng(3)
    baseline = rng.uniform(5, 20, size=30)
    actual = baseline * (1 + 1.5 * excess_profile(shape, 30)) + rng.normal(0, 1, size=30)
    small = shape_vector(actual, baseline)
    large = shape_vector(actual * 250.0, baseline * 250.0)
    np.testing.assert_allclose(small, large, atol=1e-9)
    assert small.shape == (len(FEATURE_NAMES),)
    assert np.all(np.abs(small) <= 1.5)


def test_same_input_gives_the_same_vector() -> None:
    baseline = np.full(12, 10.0)
    actual = baseline * (1 + excess_profile("sharp_spike", 12))
    assert np.array_equal(shape_vector(actual, baseline), shape_vector(actual.copy(), baseline))


def test_a_drop_and_an_uplift_differ_in_direction() -> None:
    baseline = np.full(6, 10.0)
    up = shape_vector(baseline * 2, baseline)
    down = shape_vector(baseline * 0.1, baseline)
    direction = FEATURE_NAMES.index("direction")
    assert up[direction] == 1.0
    assert down[direction] == -1.0


def test_mismatched_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="same length"):
        shape_vector(np.ones(3), np.ones(4))


def test_the_shape_features_are_the_cluster_library_columns_of_the_input_contract() -> None:
    # The library's centroids are read by name (staging, macro mrs_shape_feature_columns);
    # the features computed here must be those columns, in the same order.
    names = input_columns("cluster_library")
    assert tuple(FEATURE_NAMES) == names[3 : 3 + len(FEATURE_NAMES)]
    assert names[3 + len(FEATURE_NAMES) :] == ("tsne_x", "tsne_y")
