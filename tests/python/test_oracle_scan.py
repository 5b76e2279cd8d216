"""The oracle scan of family worlds (mrs.dev.oracle_scan, `mrs evaluate --family --oracle`);
fast, no dbt build."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_mrs

from mrs.dev.oracle_scan import (
    THRESHOLDS,
    OracleCounts,
    OracleScores,
    format_oracle,
    oracle_json,
    score_oracle,
    window_statistics,
)
from mrs.dev.world_family import FamilyOptions, draw_units, draw_world

SMALL = {"stores": 3, "products": 5}


def test_a_noise_free_window_scores_its_anomaly_s_strength() -> None:
    # Sales exactly at their means: the anomaly's own window scores the strength the world
    # recorded for it (its excess over the window sd S is measured in), whatever its shape,
    # and a quiet series' windows score nothing.
    world = draw_world(FamilyOptions(seed=5, **SMALL))
    statistics = window_statistics(world, world.mean)
    first = world.options.training_days * 24
    assert world.anomalies
    for a in world.anomalies:
        sign = 1.0 if a.direction == "up" else -1.0
        score = statistics[a.duration_hours][a.store, a.product, a.start_hour - first]
        assert sign * score == pytest.approx(a.strength, rel=1e-9)
    touched = {(a.store, a.product) for a in world.anomalies}
    quiet = [(s, p) for s in range(3) for p in range(5) if (s, p) not in touched]
    for stat in statistics.values():
        for s, p in quiet:
            assert np.abs(stat[s, p]).max() < 1e-9
    scores = score_oracle(world, world.mean).total
    assert scores.false_reports == (0,) * len(THRESHOLDS)
    # Every anomaly of S >= 8 is found at every threshold up to 8.
    assert all(scores.strong_found[k] == scores.strong for k, t in enumerate(THRESHOLDS) if t <= 8)


def test_on_null_noise_a_busy_day_window_varies_as_its_sd_claims() -> None:
    # The window sd is the one of the noise the sales are drawn with (negative binomial
    # hours, a day factor per series-day): a day-long window of a busy quiet series scores
    # with variance about 1.
    world = draw_world(FamilyOptions(seed=7, null=True, stores=8, products=10))
    day = window_statistics(world, draw_units(world))[24]
    busy = [p for p, c in enumerate(world.volume_class) if c in ("1k", "10k+")]
    days = day[:, busy, ::24]  # windows from midnight to midnight: one per day, independent
    assert 0.7 <= float(np.var(days)) <= 1.3


@pytest.mark.parametrize(("apart", "reports"), [(30, 1), (120, 2)])
def test_alarms_of_one_series_a_day_apart_are_separate_reports(apart: int, reports: int) -> None:
    # Two bursts on one quiet series of a noise-free null world: every window holding one
    # alarms, so bursts whose alarms' ends come within a day of each other are one report.
    world = draw_world(FamilyOptions(seed=3, null=True, **SMALL))
    units = world.null_mean.copy()
    busy = int(np.argmax(world.level[0]))
    day = world.options.training_days * 24 + 24
    first = day + int(np.argmax(world.null_mean[0, busy, day : day + 24]))  # an open hour
    for start in (first, first + apart):
        units[0, busy, start : start + 2] *= 11.0  # ten times the mean more
    total = score_oracle(world, units).total
    assert total.quiet_series_days == 3 * 5 * world.options.detection_days
    assert total.false_reports[THRESHOLDS.index(5.0)] == reports


def test_a_volume_class_gets_its_own_threshold() -> None:
    # Two classes: one with false reports up to a high threshold, one without any.
    n = len(THRESHOLDS)
    noisy = OracleCounts(1000.0, tuple(2 if t < 6 else 0 for t in THRESHOLDS), (1,) * n,
                         (2,) * n, mild=1, strong=2)  # fmt: skip
    clean = OracleCounts(1000.0, (0,) * n, tuple(1 if t < 5 else 0 for t in THRESHOLDS),
                         (3,) * n, mild=2, strong=3)  # fmt: skip
    combined = OracleScores({"1": noisy, "10k+": clean})
    # One threshold for both: the noisy class sets it at 6.0, where the clean class finds no
    # mild anomaly; a threshold each: 4.0 for the clean class.
    assert combined.total.threshold_within(0.5) == THRESHOLDS.index(6.0)
    assert combined.per_class_within(0.5) == (5, 5, 1 + 1, 3, 0.0)
    lines = format_oracle(combined, 0.5)
    assert any("one threshold, threshold 6.00" in line and "5-8 1/3" in line for line in lines)
    assert any("a threshold per volume class (0.00 per 1,000)" in line for line in lines)
    assert oracle_json(combined)["by_class"]["1"]["by_threshold"][0]["false_reports"] == 2


def test_the_oracle_goes_with_family_only() -> None:
    result = run_mrs("evaluate", "--seeds", "7", "--oracle", check=False)
    assert result.returncode == 2
    assert "go with --family" in result.stderr
