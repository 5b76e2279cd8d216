"""Issue 6's health view against the targets of DESIGN.md section 8."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import query

from mrs.pipeline.database_lock import open_database


def test_the_demo_meets_every_health_target(demo_database: tuple[Path, str]) -> None:
    rows = query(demo_database[0], "select metric, subject, meets_target from pipeline_health")
    metrics = {row[0] for row in rows}
    assert metrics == {"freshness_hours", "coverage", "error_rate", "degradation_rate"}
    assert all(row[2] is not False for row in rows), [row for row in rows if row[2] is False]
    assert {row[1] for row in rows if row[0] == "error_rate"} >= {"unified_sales_data", "stores"}


def test_missing_attributions_and_stale_logs_show_in_the_health_view(
    demo_database: tuple[Path, str], tmp_path: Path
) -> None:
    database = tmp_path / demo_database[0].name
    shutil.copy(demo_database[0], database)
    with open_database(database, read_only=False) as con:
        # Attribution lost its latest 10 ticks and a third of its reports.
        con.execute(
            """
            delete from minority_reports_proposed_attribution_log
            where written_at > (select max(written_at) - interval 10 hour
                                from minority_reports_proposed_attribution_log)
               or report_id in (select distinct report_id from minority_reports_detected_log
                                order by report_id limit 10)
            """
        )
    rows = {
        metric: (value, meets)
        for metric, value, meets in query(
            database,
            "select metric, measured_value, meets_target from pipeline_health "
            "where subject = 'minority_reports_proposed_attribution_log' "
            "and metric in ('coverage', 'freshness_hours')",
        )
    }
    assert rows["freshness_hours"] == (10.0, False)
    coverage, meets = rows["coverage"]
    assert coverage < 0.8 and meets is False
