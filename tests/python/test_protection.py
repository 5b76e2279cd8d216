"""Issue 6's protection outputs: the adjusted sales identity, what is and is not removed, and
the per-event feed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import as_reviewer, copy_database, query, run_mrs

from mrs.review.journal import journal_dir

ADJUSTED_HOURS = "protection_adjusted_hours"


def test_adjusted_sales_are_actual_minus_removed_uplift(demo_database: tuple[Path, str]) -> None:
    database, _ = demo_database
    broken, negative, hours = query(
        database,
        """
        select count(*) filter (where adjusted_units != actual_units - removed_uplift_units),
               count(*) filter (where removed_uplift_units < 0),
               count(*)
        from protection_adjusted_sales
        """,
    )[0]
    assert hours == 24 * 7 * 6 * 24  # every store x sku x hour of the detection window
    assert (broken, negative) == (0, 0)


def test_uplift_is_removed_only_inside_protected_non_paid_reports(
    demo_database: tuple[Path, str],
) -> None:
    database, _ = demo_database
    removed = query(
        database,
        """
        select distinct a.removed_by_report_id, r.final_decision, r.final_confidence,
               r.final_cause_category, r.direction
        from protection_adjusted_sales as a
        inner join minority_reports as r on a.removed_by_report_id = r.report_id
        where a.removed_uplift_units > 0
        """,
    )
    assert removed
    for _, decision, confidence, category, direction in removed:
        assert decision == "approved" or (decision == "pending" and confidence >= 0.6)
        assert category != "paid_media" and direction == "up"
    # Unapproved low-confidence reports keep every unit.
    kept = query(
        database,
        """
        select count(*) from protection_adjusted_sales as a
        inner join minority_reports as r
            on a.store_id = r.store_id and a.sku = r.sku
            and a.sales_ts >= r.window_start and a.sales_ts < r.window_end
        where r.final_decision = 'pending' and r.final_confidence < 0.6
            and a.removed_uplift_units > 0
        """,
    )
    assert kept == [(0,)]
    approved_uplift = query(
        database,
        "select count(*) from minority_reports where final_decision = 'approved' "
        "and direction = 'up'",
    )[0][0]
    assert len({row[0] for row in removed if row[1] == "approved"}) == approved_uplift


def test_paid_media_uplift_is_never_removed(
    demo_database: tuple[Path, str], tmp_path: Path
) -> None:
    source, _ = demo_database
    database = tmp_path / source.name
    shutil.copy(source, database)
    shutil.copytree(journal_dir(source), journal_dir(database))
    # A confident promotion report, re-categorised as paid media by an analyst.
    report_id = query(
        database,
        "select report_id from protected_reports where final_decision = 'pending' "
        "and removes_uplift order by report_id limit 1",
    )[0][0]
    before = query(
        database,
        f"select sum(removed_uplift_units) from protection_adjusted_sales "
        f"where removed_by_report_id = '{report_id}'",
    )[0][0]
    assert before > 0
    as_reviewer(database, "marketer")
    run_mrs(
        "review", "edit", report_id, "--category", "paid_media", "--cause", "TV campaign",
        "--database", str(database),
    )  # fmt: skip
    run_mrs("review", "approve", report_id, "--database", str(database))
    window_start = query(
        database, f"select window_start from minority_reports where report_id = '{report_id}'"
    )[0][0]
    output = run_mrs("build", "--database", str(database), "--no-tests").stdout
    # The kept adjusted hours are written again from the report's first day only, and equal
    # hours written in full (issue 18).
    written_from = re.search(r"protection adjusted sales kept before (\S+), written from", output)
    assert written_from is not None, output
    assert written_from.group(1) == f"{window_start:%Y-%m-%d}"
    fresh = copy_database(database, tmp_path / "fresh")
    with duckdb.connect(str(fresh)) as con:
        con.execute("drop table main.protection_adjusted_hours")
    run_mrs("build", "--database", str(fresh), "--no-tests", "--select", ADJUSTED_HOURS)
    kept, written = (
        query(path, f"select * from {ADJUSTED_HOURS} order by all") for path in (database, fresh)
    )
    assert kept == written
    after = query(
        database,
        f"""
        select coalesce(sum(a.removed_uplift_units), 0), count(*)
        from protection_adjusted_sales as a
        inner join minority_reports as r
            on a.store_id = r.store_id and a.sku = r.sku
            and a.sales_ts >= r.window_start and a.sales_ts < r.window_end
        where r.report_id = '{report_id}'
        """,
    )
    assert after[0][0] == 0 and after[0][1] > 0  # its hours are all there, nothing removed
    category = query(
        database,
        f"select final_cause_category, final_decision from minority_reports "
        f"where report_id = '{report_id}'",
    )
    assert category == [("paid_media", "approved")]


def _written_from(output: str) -> str | None:
    found = re.search(r"protection adjusted sales kept before (\S+), written from", output)
    return found.group(1) if found else None


def test_adjusted_hours_are_written_again_from_the_first_day_whose_inputs_changed(
    demo_database: tuple[Path, str], tmp_path: Path
) -> None:
    source, _ = demo_database
    database = copy_database(source, tmp_path / "kept")
    days = [
        row[0]
        for row in query(database, f"select distinct sales_day from {ADJUSTED_HOURS} order by 1")
    ]
    assert len(days) == 6

    def build(path: Path) -> str:
        return run_mrs(
            "build", "--database", str(path), "--no-tests", "--select", ADJUSTED_HOURS
        ).stdout  # fmt: skip

    def equals_computing_every_day() -> None:
        fresh = copy_database(database, tmp_path / "fresh")
        with duckdb.connect(str(fresh)) as con:
            con.execute(f"drop table main.{ADJUSTED_HOURS}")
        build(fresh)
        kept, written = (
            query(path, f"select * from {ADJUSTED_HOURS} order by all")
            for path in (database, fresh)
        )
        assert kept == written

    # A restated hour of the third day, as restated sales rescore it (its units, and the
    # hash the predictions store of each row they write): written from that day.
    with duckdb.connect(str(database)) as con:
        con.execute(
            "update baseline_sales_predictions set actual_units = actual_units + 3, "
            "scan_row_digest = hash(scan_row_digest, 'restated') "
            f"where sales_ts = timestamp '{days[2]:%Y-%m-%d} 14:00'"
        )
    assert _written_from(build(database)) == f"{days[2]:%Y-%m-%d}"
    equals_computing_every_day()
    # Rows of the fifth day computed by other code: written again from it.
    with duckdb.connect(str(database)) as con:
        con.execute(
            f"update {ADJUSTED_HOURS} set adjusted_digest = 'other code' "
            f"where sales_day = date '{days[4]:%Y-%m-%d}'"
        )
    assert _written_from(build(database)) == f"{days[4]:%Y-%m-%d}"
    equals_computing_every_day()
    assert "protection adjusted sales kept, no day changed" in build(database)

    # A predicted hour before detection_start rescored: no adjusted hour is computed from it
    # (the predictions after it that change with it are written again, each with its own
    # hash), so no day is written; the first detection hour rescored: every day.
    def rescore(hours: str) -> None:
        with duckdb.connect(str(database)) as con:
            rescored = con.execute(
                "update baseline_sales_predictions set expected_units = expected_units * 1.5, "
                f"scan_row_digest = hash(scan_row_digest, 'rescored') where sales_ts = {hours}"
            ).fetchall()
        assert rescored[0][0] > 0

    rescore(
        "(select max(sales_ts) from baseline_sales_predictions "
        "where sales_ts < (select detection_start from run_settings))"
    )
    assert "protection adjusted sales kept, no day changed" in build(database)
    rescore("(select detection_start from run_settings)")
    assert _written_from(build(database)) == f"{days[0]:%Y-%m-%d}"
    equals_computing_every_day()


@pytest.mark.parametrize("column", ["is_temporary", "expected_duration_hours", "recommendation"])
def test_every_protected_event_is_in_the_feed(demo_database: tuple[Path, str], column: str) -> None:
    database, _ = demo_database
    missing = query(
        database,
        f"""
        select count(*) from (select distinct report_group_id from protected_reports) as p
        where p.report_group_id not in (select report_group_id from protection_event_feed
                                        where {column} is not null)
        """,
    )
    assert missing == [(0,)]
