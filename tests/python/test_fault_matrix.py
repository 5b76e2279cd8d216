"""Issue 7's fault matrix (DESIGN.md sections 2 and 4) on a small generated world: optional
inputs missing or empty, malformed files, non-finite or absurd sales numbers, an upstream log
missing, and restated sales. In every case the build completes, nothing is lost, and the
degraded flags, `input_sources` or the `_errors` tables say what happened.

Two cases of the matrix are elsewhere, beside a build they share: a build killed mid-run,
test_log_properties.py::test_a_build_killed_mid_run_leaves_nothing_the_next_build_trips_on
(the two-step test's first build and the fresh build it compares with), and an edit written
while a build runs,
test_review_flows.py::test_an_edit_made_while_a_build_runs_is_kept_and_the_build_succeeds.
"""

from __future__ import annotations

import csv
import datetime
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from conftest import LOGS, build_world, copy_database, log_rows, query

from mrs.dev.world import WorldOptions, write_world
from mrs.pipeline.database_lock import open_database

WORLD = WorldOptions(stores=14, products=7, days=26)
FIRST = "2025-07-26 12:00"  # inside several reports of this world
SECOND = "2025-07-26 18:00"
EVIDENCE = ("all_campaign_data", "contextual_data", "master_narratives")
REFERENCE = ("cluster_library", "cause_taxonomy")


def _build(world: Path, database: Path, as_of: str = SECOND) -> str:
    return build_world(world, database, WORLD, "--as-of", as_of)


def _variant(world: Path, folder: Path) -> Path:
    """A copy of the world's input folder to break."""
    copy = folder / "world"
    shutil.copytree(world, copy)
    return copy


def _fit_by_hour(database: Path, column: str) -> dict[tuple, tuple]:
    """The fit's `column` and fingerprint by store, sku and hour of the week."""
    rows = query(
        database,
        f"select store_id, sku, hour_of_week, {column}, fit_fingerprint "
        "from baseline_sales_model_fit",
    )
    return {row[:3]: row[3:] for row in rows}


def _break(folder: Path, inputs: tuple[str, ...], mode: str) -> None:
    """Remove the inputs (mode 'missing') or keep only their header ('empty')."""
    for name in inputs:
        csv_file = folder / f"{name}.csv"
        if mode == "missing":
            csv_file.unlink()
        else:
            header = csv_file.read_text().splitlines()[0]
            csv_file.write_text(header + "\n")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fault_world")
    write_world(WORLD, folder)
    return folder


@pytest.fixture(scope="module")
def first(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The world built to FIRST: the state every fault below starts from."""
    database = tmp_path_factory.mktemp("first") / "mrs.duckdb"
    _build(world, database, FIRST)
    return database


@pytest.mark.parametrize("mode", ["missing", "empty"])
def test_optional_inputs_missing_or_empty_still_build_and_say_so(
    world: Path, tmp_path: Path, mode: str
) -> None:
    broken = _variant(world, tmp_path)
    _break(broken, EVIDENCE + REFERENCE, mode)
    database = tmp_path / "mrs.duckdb"
    output = _build(broken, database)

    sources = dict(query(database, "select input_name, source_location from input_sources"))
    reports = query(database, "select count(*) from minority_reports")[0][0]
    assert reports > 0  # detection needs none of these inputs
    proposals = query(
        database,
        "select distinct proposed_cause_category, confidence_score, is_degraded, "
        "degraded_reasons from minority_reports_proposed_attribution_log",
    )
    if mode == "missing":
        for name in EVIDENCE:
            assert sources[name] == "missing"
            assert f"mrs: {name} not found" in output
        # The reference tables fall back to the project's own (DESIGN.md section 4).
        assert sources["cluster_library"] == "seed:cluster_library"
        assert query(database, "select count(*) from stg_cluster_library")[0][0] > 0
        assert proposals == [
            ("unknown", None, True, ["all_campaign_data_missing", "contextual_data_missing"])
        ]
    else:
        for name in EVIDENCE + REFERENCE:
            assert sources[name].endswith(f"{name}.csv")
        # Present but empty: nothing to propose, which is not a degradation.
        assert proposals == [("unknown", 0.05, False, [])]
        clusters = query(database, "select distinct cluster_name from minority_reports")
        assert clusters == [("unclassified",)]


def test_stores_missing_and_products_empty_reject_every_sale_with_a_reason(
    world: Path, tmp_path: Path
) -> None:
    # One build for both ways a reference input can fail (the stores file gone, the
    # products file a header alone): each sale fails on whichever it names.
    broken = _variant(world, tmp_path)
    _break(broken, ("stores",), "missing")
    _break(broken, ("products",), "empty")
    database = tmp_path / "mrs.duckdb"
    output = _build(broken, database)
    sales = query(database, "select count(*) from unified_sales_data_errors")[0][0]
    assert sales == WORLD.stores * WORLD.products * WORLD.days * 24  # nothing silently lost
    reasons = query(database, "select distinct error_reason from unified_sales_data_errors")
    for (reason,) in reasons:
        assert set(reason.split("; ")) == {"unknown store_id", "unknown sku"}, reason
    assert f"{sales} row(s) rejected from unified_sales_data" in output
    assert query(database, "select count(*) from minority_reports") == [(0,)]


def test_empty_sales_build_an_empty_pipeline(world: Path, tmp_path: Path) -> None:
    broken = _variant(world, tmp_path)
    _break(broken, ("unified_sales_data",), "empty")
    database = tmp_path / "mrs.duckdb"
    output = _build(broken, database)
    # The build says the feed was empty (issue 15: a header-only file built without a word).
    assert "mrs: unified_sales_data has no accepted row" in output
    # Every log exists (the next build appends to it) and no report was made from nothing.
    rows = {log: query(database, f"select count(*) from {log}")[0][0] for log in LOGS}
    assert rows["minority_reports_detected_log"] == rows["minority_event_log"] == 0
    assert query(database, "select count(*) from minority_reports") == [(0,)]
    assert query(database, "select count(*) from ticks")[0][0] > 0


@dataclass(frozen=True)
class MalformedBuild:
    """The build of the world with malformed files and absurd sales units, and what the
    tests need to know of what was broken."""

    database: Path
    output: str
    campaign_rows: int  # rows of the campaigns file, every one without its times
    sales_rows: int  # rows of the sales file, the absurd ones included
    absurd_positions: list[int]  # positions in the sales file of ABSURD_SALES


@pytest.fixture(scope="module")
def malformed(world: Path, tmp_path_factory: pytest.TempPathFactory) -> MalformedBuild:
    """One build of the world with malformed files and absurd sales units together, for the
    two tests below: each fault is in inputs the other leaves alone."""
    folder = tmp_path_factory.mktemp("malformed")
    broken = _variant(world, folder)
    # Not Parquet at all; not UTF-8; a CSV without its required time columns.
    (broken / "contextual_data.csv").unlink()
    (broken / "contextual_data.parquet").write_bytes(b"PAR1 this is not parquet")
    (broken / "cluster_library.csv").write_bytes(b"cluster_id,cluster_name\n\xff\xfe\x00bad\n")
    campaigns = broken / "all_campaign_data.csv"
    rows = [line.split(",") for line in campaigns.read_text().splitlines()]
    keep = [i for i, name in enumerate(rows[0]) if name not in ("start_ts", "end_ts")]
    campaigns.write_text("\n".join(",".join(row[i] for i in keep) for row in rows) + "\n")
    total, positions = _write_absurd_sales(broken)
    database = folder / "mrs.duckdb"
    output = _build(broken, database)  # includes monitoring and protection
    return MalformedBuild(database, output, len(rows) - 1, total, positions)


def test_malformed_files_are_read_as_absent_and_reported(malformed: MalformedBuild) -> None:
    database, output = malformed.database, malformed.output

    sources = {
        name: (location, error)
        for name, location, error in query(
            database, "select input_name, source_location, read_error from input_sources"
        )
    }
    assert sources["contextual_data"][0] == "unreadable"
    assert "contextual_data.parquet" in sources["contextual_data"][1]
    assert sources["cluster_library"][0] == "unreadable"
    assert "utf-8" in sources["cluster_library"][1]
    assert "contextual_data.parquet cannot be read" in output
    assert "cluster_library.csv cannot be read" in output
    # The unreadable library falls back to the project's; campaigns without times are rejected.
    assert query(database, "select count(*) from stg_cluster_library")[0][0] > 0
    rejected = query(database, "select count(*), min(error_reason) from all_campaign_data_errors")[
        0
    ]
    assert rejected[0] == malformed.campaign_rows and "start_ts" in rejected[1]
    degraded = query(
        database,
        "select distinct degraded_reasons from minority_reports_proposed_attribution_log",
    )
    assert degraded == [(["contextual_data_missing"],)]


@pytest.mark.parametrize(
    "dropped",
    [
        # The first stage alone (every later log must stay as it is), then two groups of
        # stages with an undisturbed stage between any two dropped ones.
        ("minority_reports_detected_log", "minority_event_ended_log"),
        (
            "minority_reports_clustered_log",
            "minority_reports_cohorted_log",
            "minority_event_log",
            "model_monitoring_log",
            "model_retrain_event_log",
        ),
        ("minority_reports_proposed_attribution_log", "minority_reports_finalised_log"),
    ],
    ids=["detection", "clustering-cohorting-monitoring", "attribution-finalisation"],
)
def test_a_missing_stage_log_is_replayed_and_nothing_else_changes(
    first: Path, workbench: Path, world: Path, dropped: tuple[str, ...]
) -> None:
    # Also the second build with unchanged inputs (idempotence): every log a case keeps must
    # not gain a row, and each log is kept by at least two of the three cases.
    database = copy_database(first, workbench)
    before = log_rows(database)
    fit = "select * from baseline_sales_model_fit order by all"
    fitted = query(database, fit)
    with open_database(database, read_only=False) as con:
        for log in dropped:
            con.execute(f"drop table {log}")
    output = _build(world, database, FIRST)
    # The dropped log is written again from the start, identical; no other log gains a row.
    assert log_rows(database) == before
    # Issue 18: nothing the baseline is fitted on changed (no log is), so the build kept the
    # fit (test_a_restated_training_day_fits_the_baseline_again: what refits it).
    assert "mrs: baseline fit kept" in output
    assert query(database, fit) == fitted


def _restate(world: Path, database: Path, folder: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the world whose past sales are restated: two reported series flattened to
    their baseline (one report still open at FIRST, one already ended) and a six-hour burst
    added to a quiet series on a day that ended before FIRST."""
    reports = query(
        database,
        "select report_id, store_id, sku, window_end is null from minority_reports "
        "where window_start < '2025-07-25 12:00' order by window_end is null, report_id",
    )
    ended = next(r for r in reports if not r[3])
    still_open = next(r for r in query(
        database,
        "select report_id, store_id, sku, true from minority_reports where window_end is null "
        "order by report_id",
    ))  # fmt: skip
    quiet = query(
        database,
        "select p.store_id, p.sku from baseline_sales_predictions as p "
        "anti join minority_reports_detected_log as d on p.store_id = d.store_id "
        "and p.sku = d.sku group by all having avg(p.expected_units) > 2 order by all limit 1",
    )[0]
    restated = _variant(world, folder)
    sales = restated / "unified_sales_data.csv"
    with duckdb.connect(str(database), read_only=True) as con:
        flat = con.execute(
            "select store_id, sku, sales_ts, cast(round(expected_units) as integer) as units "
            "from baseline_sales_predictions where (store_id, sku) in (($1, $2), ($3, $4)) "
            "and sales_ts >= timestamp '2025-07-23'",
            [ended[1], ended[2], still_open[1], still_open[2]],
        ).df()
    with duckdb.connect() as con:
        con.register("flat", flat)
        con.execute(
            f"""
            copy (
                select u.sales_ts, u.store_id, u.sku,
                    case
                        when f.units is not null then f.units
                        when u.store_id = $1 and u.sku = $2
                            and u.sales_ts >= timestamp '2025-07-24 10:00'
                            and u.sales_ts < timestamp '2025-07-24 16:00'
                            then u.units * 4 + 20
                        else u.units
                    end as units,
                    u.revenue
                from read_csv('{world / "unified_sales_data.csv"}', all_varchar = true,
                    types = {{'units': 'INTEGER', 'sales_ts': 'TIMESTAMP'}}) as u
                left join flat as f using (store_id, sku, sales_ts)
                order by u.sales_ts, u.store_id, u.sku
            ) to '{sales}' (header)
            """,
            [quiet[0], quiet[1]],
        )
    return restated, {"ended": ended[0], "open": still_open[0], "quiet": f"{quiet[0]}|{quiet[1]}"}


def test_restated_sales_supersede_reports_and_keep_every_earlier_row(
    first: Path, world: Path, workbench: Path, tmp_path: Path
) -> None:
    database = copy_database(first, workbench)
    before = log_rows(database)
    restated, touched = _restate(world, database, tmp_path)
    _build(restated, database, SECOND)

    after = log_rows(database)
    for log, rows in before.items():
        assert set(rows) <= set(after[log]), f"{log} lost or changed a row"
    # Every report of the two flattened series (the chosen ones and any other earlier report
    # of those series) gets one 'superseded' row at the first new tick.
    flattened = query(
        database,
        "select distinct report_id from minority_reports_detected_log where (store_id, sku) in "
        "(select store_id, sku from minority_reports_detected_log where report_id in "
        f"('{touched['ended']}', '{touched['open']}')) and written_at <= '{FIRST}'",
    )
    superseded = query(
        database,
        "select report_id, written_at from minority_reports_detected_log "
        "where report_status = 'superseded' order by report_id",
    )
    assert {touched["ended"], touched["open"]} <= {r for (r,) in flattened}
    assert sorted(r for r, _ in superseded) == sorted(r for (r,) in flattened)
    assert {f"{w:%Y-%m-%d %H:%M}" for _, w in superseded} == {"2025-07-26 13:00"}
    # The burst on the quiet series is a report now: logged at the first new tick, closed.
    store_id, sku = touched["quiet"].split("|")
    burst = query(
        database,
        "select report_id, window_start, window_end, min(written_at) "
        "from minority_reports_detected_log "
        f"where store_id = '{store_id}' and sku = '{sku}' group by all",
    )
    assert len(burst) == 1 and burst[0][2] is not None
    assert f"{burst[0][3]:%Y-%m-%d %H:%M}" == "2025-07-26 13:00"
    assert query(
        database,
        f"select count(*) from minority_event_ended_log where report_id = '{burst[0][0]}'",
    ) == [(1,)]
    # The published table shows the corrected state; the superseded reports protect nothing
    # and join no event after they were superseded.
    states = dict(query(database, "select report_id, report_status from minority_reports"))
    assert states[touched["ended"]] == states[touched["open"]] == "superseded"
    assert states[burst[0][0]] == "detected"
    assert query(
        database,
        "select count(*) from protected_reports where report_id in "
        f"('{touched['ended']}', '{touched['open']}')",
    ) == [(0,)]
    assert query(
        database,
        "select count(*) from minority_reports_cohorted_log where written_at > '2025-07-26 13:00' "
        f"and report_id in ('{touched['ended']}', '{touched['open']}')",
    ) == [(0,)]
    # Tick equivalence across the restatement: the same restated sales built three ticks at
    # a time give every log row for row (cohorting resumes at the newest logged tick).
    settled = log_rows(database)
    stepped = copy_database(first, tmp_path / "stepped")
    for as_of in ("2025-07-26 15:00", SECOND):
        _build(restated, stepped, as_of)
    assert log_rows(stepped) == settled


# Sales whose units are no number the pipeline can add up, or an absurd one: (store, sku, hour,
# units as written, the reason staging must give). The contract bounds units to [0, 1e6].
ABSURD_SALES = [
    ("ST-002", "SKU-002", "2025-07-24 10:00:00", "inf", "non-finite units"),
    ("ST-002", "SKU-002", "2025-07-24 11:00:00", "nan", "non-finite units"),
    ("ST-002", "SKU-002", "2025-07-24 12:00:00", "-inf", "non-finite units"),
    ("ST-002", "SKU-002", "2025-07-24 13:00:00", "1e308", "units out of range"),
    ("ST-002", "SKU-002", "2025-07-24 14:00:00", "1000001", "units out of range"),
]
# The largest number of units the contract accepts, in a detection hour: it must build.
AT_THE_BOUND = ("ST-003", "SKU-003", "2025-07-25 12:00:00", "1000000")
# A series that sells nothing for nine days and then trades again inside the detection window,
# when the median of its previous days' ratio to the profile is 0 (its level factor near 0).
OUTAGE = ("ST-004", "SKU-004", "2025-07-15 00:00:00", "2025-07-24 00:00:00")


def _write_absurd_sales(folder: Path) -> tuple[int, list[int]]:
    """Rewrite the units of the rows above in the world's sales file; return its row count
    and the positions (1-based, after the header) of the ABSURD_SALES rows."""
    sales = folder / "unified_sales_data.csv"
    with sales.open(newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    ts, store, sku, units, revenue = (
        header.index(name) for name in ("sales_ts", "store_id", "sku", "units", "revenue")
    )
    changes = {(s, k, t): u for s, k, t, u, _ in ABSURD_SALES}
    changes[AT_THE_BOUND[:3]] = AT_THE_BOUND[3]
    positions = []
    for position, row in enumerate(body, start=1):
        key = (row[store], row[sku], row[ts])
        if key in changes:
            row[units] = changes.pop(key)
            positions += [position] if key != AT_THE_BOUND[:3] else []
        elif key[:2] == OUTAGE[:2] and OUTAGE[2] <= row[ts] < OUTAGE[3]:
            row[units], row[revenue] = "0", "0.00"
    assert not changes, f"rows not found in the world: {changes}"
    with sales.open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *body])
    return len(body), positions


def test_non_finite_and_absurd_units_are_rejected_and_monitoring_stays_finite(
    malformed: MalformedBuild,
) -> None:
    database, output = malformed.database, malformed.output
    total, positions = malformed.sales_rows, malformed.absurd_positions

    # Each absurd row is in the errors table with its raw text and reason...
    rejected = query(
        database,
        "select store_id, sku, sales_ts, units, error_reason, source_row_number "
        "from unified_sales_data_errors order by source_row_number",
    )
    assert [row[:5] for row in rejected] == ABSURD_SALES
    assert [row[5] for row in rejected] == positions
    assert f"{len(ABSURD_SALES)} row(s) rejected from unified_sales_data" in output
    # ...and every other row, the one at the bound included, is kept.
    assert query(database, "select count(*) from stg_unified_sales_data") == [
        (total - len(ABSURD_SALES),)
    ]
    store_id, sku, sales_ts, units = AT_THE_BOUND
    assert query(
        database,
        f"select units from stg_unified_sales_data where store_id = '{store_id}' "
        f"and sku = '{sku}' and sales_ts = '{sales_ts}'",
    ) == [(float(units),)]
    # The outage's level factor (the median of the previous days' ratio, 0, shrunk towards
    # 1 only as far as it is noise) was scored by monitoring (ln(0) when it was 0).
    assert query(
        database,
        "select count(*) > 0 from baseline_sales_predictions "
        f"where store_id = '{OUTAGE[0]}' and sku = '{OUTAGE[1]}' "
        "and level_factor < 0.5 and is_trading_hour and sales_ts >= "
        f"'{WORLD.detection_start:%Y-%m-%d}'",
    ) == [(True,)]
    # Every monitoring metric of every tick is a finite number (or null: no reference yet).
    ticks = query(database, "select count(*) from ticks")[0][0]
    metrics = query(
        database,
        "select metric, count(*), count(*) filter (where not isfinite(measured_value)), "
        "count(*) filter (where metric != 'confidence_decay' and measured_value is null) "
        "from model_monitoring_log group by metric order by metric",
    )
    assert len(metrics) == 6
    for metric, rows, non_finite, missing in metrics:
        assert (rows, non_finite, missing) == (ticks, 0, 0), metric
    # The MMM feed adds up.
    sums = query(
        database,
        "select isfinite(sum(actual_units)), isfinite(sum(adjusted_units)), count(*) "
        "from protection_adjusted_sales",
    )
    assert sums[0][:2] == (True, True) and sums[0][2] > 0


def test_a_restated_training_day_fits_the_baseline_again(
    first: Path, world: Path, workbench: Path, tmp_path: Path
) -> None:
    # Issue 18: a restated training day (or another plan, exclusion, var or code) fits the
    # baseline again; while nothing it is fitted on changes, a build keeps it
    # (test_a_missing_stage_log_is_replayed_and_nothing_else_changes).
    database = copy_database(first, workbench)
    before = _fit_by_hour(database, "profile_units")
    restated = _variant(world, tmp_path)
    sales = restated / "unified_sales_data.csv"
    with duckdb.connect() as con:
        con.execute(
            f"""
            copy (
                select * replace (
                    case
                        when sales_ts = timestamp '2025-07-10 12:00' and store_id = 'ST-001'
                            and sku = 'SKU-001' then units + 40
                        else units
                    end as units
                )
                from read_csv('{sales}', header = true)
            ) to '{sales}.new' (header true)
            """
        )
    Path(f"{sales}.new").replace(sales)
    output = _build(restated, database)
    assert "mrs: baseline fit kept" not in output
    after = _fit_by_hour(database, "profile_units")
    assert after.keys() == before.keys()
    assert {fingerprint for _, fingerprint in after.values()}.isdisjoint(
        fingerprint for _, fingerprint in before.values()
    )
    assert any(
        after[key][0] != before[key][0] for key in before if key[:2] == ("ST-001", "SKU-001")
    )


def test_a_holiday_named_in_the_context_leaves_its_training_day_out(
    first: Path, world: Path, workbench: Path, tmp_path: Path
) -> None:
    # Issue 14: a holiday the contextual data names is left out of the training (the fit's own
    # rule cannot tell a holiday every store shares in two training weeks): its store's
    # Monday hours are fitted on one week fewer, every other store's hours on as many, and
    # the fit is fitted again (its fingerprint digests the holiday days).
    holidays = "select store_id, sku, holiday_day from baseline_holiday_days where is_left_out"
    database = copy_database(first, workbench)
    before = _fit_by_hour(database, "training_weeks")
    holidays_before = set(query(database, holidays))
    named = _variant(world, tmp_path)
    with (named / "contextual_data.csv").open("a", encoding="utf-8") as context:
        # Monday 14 July, a training day, for store ST-001 only
        context.write("CTX-HOL,holiday,bank_holiday,Local holiday,2025-07-14 00:00:00,"
                      "2025-07-15 00:00:00,,,,ST-001,,,\n")  # fmt: skip
    output = _build(named, database)
    assert "mrs: baseline fit kept" not in output
    assert set(query(database, holidays)) == holidays_before | {
        ("ST-001", None, datetime.date(2025, 7, 14))
    }
    after = _fit_by_hour(database, "training_weeks")
    assert after.keys() == before.keys()
    monday = [key for key in before if key[0] == "ST-001" and key[2] // 24 == 0]
    assert monday and all(after[key][0] == before[key][0] - 1 for key in monday)
    assert all(after[key][0] == before[key][0] for key in before if key[0] != "ST-001")
