"""Issue 6's monitoring: a world whose sales shift in level and shape writes a retrain event;
the demo world does not."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import build_world, log_rows, query

from mrs.dev.world import WorldOptions, write_world

SHIFTED = WorldOptions(
    stores=14, products=7, days=26, regime_shift_day=1, regime_level=1.8, regime_peaks=(9.0, 20.5)
)


def test_the_demo_world_writes_monitoring_rows_but_no_retrain_event(
    demo_database: tuple[Path, str],
) -> None:
    database, _ = demo_database
    rows = query(
        database,
        "select model_name, metric, count(*), count(*) filter (where is_breached) "
        "from model_monitoring_log group by all order by all",
    )
    assert {row[:2] for row in rows} == {
        ("attribution_model", "confidence_decay"),
        ("baseline_sales_model", "anomaly_rate"),
        ("baseline_sales_model", "level_factor_psi"),
        ("baseline_sales_model", "residual_bias"),
        ("baseline_sales_model", "residual_psi"),
        ("baseline_sales_model", "residual_rms_ratio"),
    }
    ticks = query(database, "select count(*) from ticks")[0][0]
    assert all(row[2] == ticks and row[3] == 0 for row in rows)
    assert query(database, "select count(*) from model_retrain_event_log") == [(0,)]


@pytest.fixture(scope="module")
def shifted_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    world = tmp_path_factory.mktemp("shifted_world")
    write_world(SHIFTED, world)
    return world


@pytest.fixture(scope="module")
def shifted(shifted_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("shifted") / "mrs.duckdb"
    build_world(shifted_world, database, SHIFTED)
    return database


METRICS = "select * exclude (metrics_digest) from model_monitoring_metrics order by all"


def test_metrics_kept_from_a_build_inside_a_breach_equal_one_build(
    shifted_world: Path, shifted: Path, tmp_path: Path
) -> None:
    # Issue 18: a build computes only the ticks after those it holds; a breach that goes on
    # across two builds starts once (its first tick's predecessor is read from the kept
    # rows), so the retrain events, the monitoring log and the metrics of every tick are
    # those of one build.
    breach_starts = query(
        shifted,
        "select tick_ts from model_monitoring_metrics where starts_breach order by tick_ts",
    )
    # The tick before one whose breach goes on: the first build ends inside the breach.
    inside = query(
        shifted,
        "select max(tick_ts) from model_monitoring_metrics where tick_ts < ("
        "select min(tick_ts) from model_monitoring_metrics "
        f"where is_breached and not starts_breach and tick_ts > timestamp '{breach_starts[0][0]}')",
    )[0][0]
    assert inside is not None, "the shifted world should hold a breach that lasts"
    database = tmp_path / "mrs.duckdb"
    build_world(shifted_world, database, SHIFTED, "--as-of", f"{inside:%Y-%m-%d %H:%M}")
    output = build_world(shifted_world, database, SHIFTED)
    assert "mrs: model_monitoring_metrics: " in output and " tick(s) kept, computed from " in output
    assert log_rows(database) == log_rows(shifted)
    assert query(database, METRICS) == query(shifted, METRICS)


def test_a_shift_in_level_and_shape_writes_a_retrain_event(shifted: Path) -> None:
    events = query(
        shifted,
        "select model_name, metric, measured_value, threshold, written_at "
        "from model_retrain_event_log",
    )
    assert events
    shift_at = SHIFTED.detection_start.replace(tzinfo=None)
    for model_name, _, value, threshold, written_at in events:
        assert model_name == "baseline_sales_model"
        assert abs(value) > threshold
        assert written_at > shift_at  # never before the world changed
    # One event per breach: the breach lasts, the event is not repeated.
    breached = query(
        shifted,
        "select count(*) from model_monitoring_log where is_breached",
    )[0][0]
    assert breached > len(events)
    # Drift is measured per feature of the baseline. Every series selling 1.8 times as much
    # from the first detection day is, for the five days this world has, an anomaly the
    # level leaves out (it follows a change once the change fills half of
    # `baseline_level_days`, 10), so it shows as the share of trading hours inside reports
    # (anomaly_rate, against `monitoring_max_anomaly_rate`), not yet as a moved level; a
    # level that followed within four days (seven-day median) gave level_factor_psi > 0.25.
    assert "anomaly_rate" in {metric for _, metric, *_ in events}
    drift = dict(
        query(
            shifted,
            "select metric, max(measured_value) from model_monitoring_log "
            "where metric in ('level_factor_psi', 'residual_psi') group by 1",
        )
    )
    assert set(drift) == {"level_factor_psi", "residual_psi"}
    assert all(value is not None for value in drift.values())
