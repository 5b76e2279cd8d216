"""`mrs evaluate`: the real models on a world seed other than the demo's, and on a family
world (mrs.dev.world_family) whose seed was never used to tune them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import re
from pathlib import Path

import duckdb
import pytest
from conftest import DBT_TARGET, PROJECT_ROOT, query, run_mrs

from mrs.dev.bench import run_reference
from mrs.dev.world_family import (
    FamilyOptions,
    FamilyPaths,
    family_build_vars,
    write_family_world,
)
from mrs.pipeline.database_lock import open_database
from mrs.pipeline.project import BUILD_SETTINGS, WITHOUT_TESTS, Project, project_vars
from mrs.review.journal import ensure_journal

# The baseline as it was before the shape factor: a drift this small is all noise to it.
# Neither the shape factor nor the weekday and hour-of-week factors (which learn from the
# detection weeks too): one level for the whole day.
DAY_LEVEL_ONLY = {"baseline_shape_drift_sd": 0, "baseline_weekday_weeks": 0}

ROW = re.compile(
    r"^\s*(?P<seed>\d+)\s+(?P<detected>\d+)/(?P<series>\d+)\s+(?P<starts>\d+)\s+(?P<ends>\d+)"
    r"\s+(?P<false>\d+)\s+(?P<clusters>\d+)/(?P<reports>\d+)"
)


def test_another_seed_is_detected_without_false_reports(tmp_path: Path) -> None:
    result = run_mrs("evaluate", "--seeds", "11", "--work-dir", str(tmp_path))
    assert "seed 11: building" in result.stdout
    rows = [match.groupdict() for line in result.stdout.splitlines() if (match := ROW.match(line))]
    assert len(rows) == 1, result.stdout
    row = {key: int(value) for key, value in rows[0].items()}
    assert row["seed"] == 11
    assert row["series"] == 27
    # Floors at what the models reach on this seed (docs/detection.md: "Scores on worlds the models
    # were not tuned on"): detection must not get worse away from the demo's noise.
    assert row["detected"] >= 22
    assert row["starts"] >= 19
    assert row["ends"] >= 20
    assert row["false"] == 0
    # The throw-away world is removed afterwards.
    assert list(tmp_path.iterdir()) == []


def test_a_fresh_family_world_keeps_its_power_and_false_alarm_floors(tmp_path: Path) -> None:
    # Seeds 21 and 121 were never used to tune the detectors (docs/detection.md: tuned on
    # 1-6 and 101-103). One world with 40 graded anomalies on 80 series of every volume
    # class and pattern, one without any: the floors are what the models reach there, so a
    # change that loses power or raises false alarms away from the tuning worlds fails.
    scores = tmp_path / "family.json"
    result = run_mrs(
        "evaluate", "--family", "--seeds", "21", "--null-seeds", "121",
        "--work-dir", str(tmp_path), "--json", str(scores), "--oracle",
    )  # fmt: skip
    assert "power curve" in result.stdout
    assert "false reports per 1,000 quiet series-days" in result.stdout
    family = json.loads(scores.read_text())
    # What the data allows, beside it: the oracle (it knows the null means) finds all 18
    # anomalies of S >= 8 at its lowest threshold, on the same worlds.
    assert "oracle at 1 per 1,000, a threshold per volume class" in result.stdout
    oracle = family["oracle"]["all"]
    assert oracle["strong"] == 18 and oracle["by_threshold"][0]["strong_found"] == 18
    headline = family["headline"]
    detected, strong = headline["recall_s_ge_8"]
    assert strong == 18 and detected >= 16
    matching, reports = headline["precision"]
    assert matching >= 22 and reports - matching <= 5
    assert headline["false_on_quiet"] <= 4
    # A quiet day's sum of z varies as the model claims (the slow detectors add hours up):
    # 1.19 before the level's error counted as shared by the hours of a day, 1.09 after,
    # 1.00 with the profile's share of the training weeks' day factors.
    assert 0.9 <= family["quiet_total"]["day_variance_ratio"] <= 1.06


def test_a_bad_seed_list_is_refused() -> None:
    result = run_mrs("evaluate", "--seeds", "7,x", check=False)
    assert result.returncode == 2
    assert "expected integers like 7,11,23" in result.stderr


def test_family_world_options_are_checked_before_anything_is_built() -> None:
    refusals = [
        (["--family", "--shape-drift", "2"], "shape_drift must be between 0 and 1"),
        (["--seeds", "7", "--training-days", "90"], "go with --family"),
        (["--family", "--jobs", "0"], "argument --jobs: expected a whole number >= 1, got '0'"),
        (["--family", "--read-timezone", "Mars/Olympus"], "--read-timezone expects an IANA"),
        (
            ["--seeds", "7", "--store-timezone", "Asia/Tokyo"],
            "--store-timezone and --read-timezone go with --family",
        ),
    ]
    for arguments, message in refusals:
        result = run_mrs("evaluate", *arguments, check=False)
        assert result.returncode == 2, arguments
        assert message in result.stderr, (arguments, result.stderr)


def test_a_family_world_is_read_in_its_stores_zone_unless_another_is_given() -> None:
    # `--read-timezone` reads a world on a clock not its stores' (docs/detection.md: a day
    # cut inside the trading hours); by default the build reads the zone the stores keep.
    inputs = Path("/inputs")
    drawn = FamilyOptions(seed=1, store_timezone="Asia/Tokyo")
    assert family_build_vars(drawn, inputs)["mrs_store_timezone"] == "Asia/Tokyo"
    # UTC: the hours as they are, as a build given no zone reads them.
    misread = FamilyOptions(seed=1, store_timezone="Asia/Tokyo", read_timezone="UTC")
    assert "mrs_store_timezone" not in family_build_vars(misread, inputs)
    assert "mrs_store_timezone" not in family_build_vars(FamilyOptions(seed=1), inputs)
    shifted = FamilyOptions(seed=1, read_timezone="Etc/GMT-5")
    assert family_build_vars(shifted, inputs)["mrs_store_timezone"] == "Etc/GMT-5"


def test_a_missing_database_is_refused(tmp_path: Path) -> None:
    result = run_mrs("evaluate", "--database", str(tmp_path / "none.duckdb"), check=False)
    assert result.returncode == 2
    assert "build it first" in result.stderr


def test_a_daylight_saving_change_in_a_utc_feed_is_no_anomaly_on_the_stores_clock(
    tmp_path: Path,
) -> None:
    # Stores keep Europe/Berlin hours and the feed is UTC (DESIGN.md section 4), across the
    # change to summer time on 2025-03-30 (null seed 103: training from 2025-02-23, detection
    # from 2025-03-23). Read on UTC hours every opening and closing hour moves by one and
    # reports flood in, alternating up and down; on the stores' clock there are none. Left
    # without its zone, the build finds the change in the feed's hours (model
    # baseline_clock_change) and reads them on that clock from the hour the move is plain:
    # only the hours before it are misread.
    options = FamilyOptions(seed=103, null=True, stores=3, store_timezone="Europe/Berlin")
    paths = write_family_world(options, tmp_path / "world")
    unzoned = dataclasses.replace(options, read_timezone="UTC")
    counts = {}
    for label, world, settings in (
        ("stores", options, {}),
        ("utc", unzoned, {}),
        ("utc, no change looked for", unzoned, {"baseline_clock_change_zones": []}),
    ):
        database = tmp_path / label.replace(" ", "_").replace(",", "") / "mrs.duckdb"
        build_family_world(
            world, paths.inputs, database, "+minority_reports_detected_log", settings
        )
        counts[label] = query(database, REPORT_COUNT)[0][0]
        if label == "utc":
            found = query(database, "select clock_zone, change_ts from baseline_clock_change")
            assert found == [("Europe/London", dt.datetime(2025, 3, 30, 1))], found
    assert counts["stores"] == 0
    assert counts["utc, no change looked for"] >= 30, counts
    assert counts["utc"] <= counts["utc, no change looked for"] / 5, counts


def test_a_seasons_drift_of_the_intraday_shape_is_no_anomaly(tmp_path: Path) -> None:
    # One round-the-clock store, five products of every volume class, nine weeks of training
    # and nine of detection, no anomaly; by the end the evening hours sell exp(0.4) times and
    # the morning hours exp(-0.4) times their share of the day in the first week (a season's
    # darker evenings; each day's total unchanged). A level shared by the whole day turns that
    # into reports up in the evening and down in the morning on the busy products (as issue 14
    # saw on a real series); the shape factor follows it. Seed 407 was never used to tune it.
    options = FamilyOptions(
        seed=407, null=True, stores=1, products=5, training_days=63, detection_days=63,
        shape_drift=0.4,
    )  # fmt: skip
    paths = write_family_world(options, tmp_path / "world")
    built = build_each(
        options, paths.inputs, tmp_path, {"shape factor": {}, "day level only": DAY_LEVEL_ONLY}
    )
    counts = {label: query(database, REPORT_COUNT)[0][0] for label, database in built.items()}
    # Measured: 129 reports on a whole-day level alone, 3 with the shape factor (it follows
    # the drift about a week late: the median of two weeks); since the level leaves out
    # disturbed days and an hour-of-week factor learns from the detection weeks, 133 and 0
    # (19 with only the shape factor off: the hour-of-week factor follows part of it); since
    # each series learns its score scale from its detection days, 52 and 0 (the drifting
    # series' scores vary more than the model says, and the scale widens them).
    assert counts["day level only"] >= 30, counts
    assert counts["shape factor"] <= 5, counts


def build_family_world(
    options: FamilyOptions,
    inputs: Path,
    database: Path,
    selection: str,
    settings: dict[str, object] | None = None,
) -> None:
    """Build `selection` of a family world into `database` as `mrs evaluate --family` does,
    but in this worker's process (dbt's programmatic runner, as `mrs build` runs it): no
    Python start and dbt import per build, about 4 s of each of the module's builds. dbt's
    target folder is this worker's, one per set of vars beyond the build settings: a
    change of vars, like a change of database file name, makes dbt parse the whole project
    again (about 4 s), and the suite's builds alternate between a few such sets."""
    project = Project.locate(database)
    ensure_journal(project.database)
    vars_ = family_build_vars(options, inputs) | (settings or {})
    parsed_vars = sorted((k, str(v)) for k, v in vars_.items() if k not in BUILD_SETTINGS)
    target = DBT_TARGET / "family" / hashlib.md5(repr(parsed_vars).encode()).hexdigest()[:12]
    arguments = [
        "build", "--quiet", "--select", selection, *WITHOUT_TESTS,
        "--target-path", str(target),
    ]  # fmt: skip
    assert project.dbt_in_process(arguments, vars_) == 0


def built_family_world(
    options: FamilyOptions, folder: Path, selection: str
) -> tuple[FamilyPaths, Path]:
    """A family world written into `folder` and `selection` of it built (build_family_world)
    into `folder`/mrs.duckdb: its paths and the database."""
    paths = write_family_world(options, folder / "world")
    database = folder / "mrs.duckdb"
    build_family_world(options, paths.inputs, database, selection)
    return paths, database


REPORT_COUNT = "select count(distinct report_id) from minority_reports_detected_log"


def build_each(
    options: FamilyOptions,
    inputs: Path,
    folder: Path,
    variants: dict[str, dict[str, object]],
    selection: str = "+minority_reports_detected_log",
) -> dict[str, Path]:
    """One database per variant of the vars (label -> settings), each built to `selection`
    (detection unless told)."""
    built = {}
    for label, settings in variants.items():
        database = folder / label.replace(" ", "_") / "mrs.duckdb"
        build_family_world(options, inputs, database, selection, settings)
        built[label] = database
    return built


BURST_SHARES = """
with burst as (
    select * from read_csv('{truth}/disturbances.csv')
    where kind = 'burst' and store_id = '{store_id}' and sku = '{sku}'
),
weekday_hours as (
    -- the burst's weekday in the two training weeks: the burst day and the clean one
    select
        sales.units,
        (isodow(sales.sales_ts) - 1) * 24 + hour(sales.sales_ts) as hour_of_week,
        cast(sales.sales_ts as date) = cast(burst.start_ts as date) as is_burst_day,
        sales.sales_ts >= burst.start_ts and sales.sales_ts < burst.end_ts as is_burst_hour
    from sales_timeseries_data as sales, burst, run_settings
    where
        sales.store_id = burst.store_id and sales.sku = burst.sku
        and isodow(sales.sales_ts) = isodow(burst.start_ts)
        and sales.sales_ts < run_settings.detection_start
),
burst_hours as (select distinct hour_of_week from weekday_hours where is_burst_hour)
select
    sum(units) filter (where not is_burst_day and hour_of_week in (from burst_hours))
    / sum(units) filter (where not is_burst_day) as clean_share,
    sum(units) filter (where is_burst_day and hour_of_week in (from burst_hours))
    / sum(units) filter (where is_burst_day) as burst_share,
    (
        select
            sum(profile_units) filter (where hour_of_week in (from burst_hours))
            / sum(profile_units)
        from baseline_sales_model_fit as fit
        where
            fit.store_id = '{store_id}' and fit.sku = '{sku}'
            and fit.hour_of_week // 24 = (select min(hour_of_week) // 24 from burst_hours)
    ) as profile_share
from weekday_hours
"""


def test_a_burst_inside_two_training_weeks_does_not_bend_the_profile(tmp_path: Path) -> None:
    # Two training weeks (issue 14's mention counts had one fortnight of training with
    # bursts in it): the median of an hour of the week is then the mean of its two values,
    # so a burst bent the series' own profile towards it. Seed 417 (never used to tune):
    # a burst x 3.0 over the 13 trading hours of one day of a product selling about a
    # thousand units an hour. Measured: the profile put 0.935 of that weekday's units in
    # those hours before the burst hours were left out (the clean day 0.879, the burst day
    # 0.957), 0.882 since.
    options = FamilyOptions(
        seed=417, null=True, stores=2, products=10, training_days=14, detection_days=14
    )
    paths, database = built_family_world(options, tmp_path, "+baseline_sales_model_fit")
    sql = BURST_SHARES.format(truth=paths.truth.as_posix(), store_id="ST-002", sku="SKU-009")
    ((clean_share, burst_share, profile_share),) = query(database, sql)
    assert burst_share - clean_share > 0.05, (clean_share, burst_share)
    assert abs(profile_share - clean_share) <= 0.25 * (burst_share - clean_share), (
        clean_share,
        burst_share,
        profile_share,
    )


BURST_WEEKDAY_TOTALS = """
with burst as (
    select * from read_csv('{truth}/disturbances.csv')
    where kind = 'burst' and store_id = '{store_id}' and sku = '{sku}'
),
training_days as (
    -- the burst's weekday in the two training weeks: its total on each day
    select
        cast(sales.sales_ts as date) = cast(burst.start_ts as date) as is_burst_day,
        sum(sales.units) as day_units
    from sales_timeseries_data as sales, burst, run_settings
    where
        sales.store_id = burst.store_id and sales.sku = burst.sku
        and isodow(sales.sales_ts) = isodow(burst.start_ts)
        and sales.sales_ts < run_settings.detection_start
    group by all
)
select
    (select day_units from training_days where not is_burst_day) as clean_units,
    (select day_units from training_days where is_burst_day) as burst_units,
    (
        select sum(fit.profile_units) from baseline_sales_model_fit as fit, burst
        where
            fit.store_id = burst.store_id and fit.sku = burst.sku
            and fit.hour_of_week // 24 = isodow(burst.start_ts) - 1
    ) as profile_units
"""


def test_a_burst_on_one_of_two_training_sundays_is_the_day_left_out(tmp_path: Path) -> None:
    # With two training weeks a weekday's days were judged against the series' median day:
    # on a product whose Sundays are its quietest days (about 0.77 of its median day) with
    # a burst of x 2.26 over 16 hours of one training Sunday, the normal Sunday sat farther
    # from that median than the burst day and was left out in its place. Seed 504 (a
    # tuning seed, ST-005 / SKU-010): the profile's Sunday was 769k units (clean Sunday
    # 413k, burst 869k) and every detection Sunday a false drop; against the store's same
    # day the burst day is the one that moved, and the Sunday is 516k.
    options = FamilyOptions(seed=504, training_days=14, detection_days=28)
    paths, database = built_family_world(options, tmp_path, "+baseline_sales_model_fit")
    sql = BURST_WEEKDAY_TOTALS.format(
        truth=paths.truth.as_posix(), store_id="ST-005", sku="SKU-010"
    )
    ((clean_units, burst_units, profile_units),) = query(database, sql)
    assert burst_units > 1.8 * clean_units, (clean_units, burst_units)
    assert profile_units < clean_units + 0.3 * (burst_units - clean_units), (
        clean_units,
        burst_units,
        profile_units,
    )


# One series' weekday from `first_hour` on: the profile's units and the detection days'
# actual units, per day.
WEEKDAY_UNITS = """
select
    sum(actual_units) filter (where sales_ts >= (select detection_start from run_settings))
        / count(distinct cast(sales_ts as date))
        filter (where sales_ts >= (select detection_start from run_settings)) as detection_units,
    sum(profile_units) / count(distinct cast(sales_ts as date)) as profile_units
from baseline_sales_predictions
where
    store_id = '{store_id}' and sku = '{sku}' and dayofweek(sales_ts) = {day_of_week}
    and hour(sales_ts) >= {first_hour}
"""


def test_a_weekday_whose_only_training_day_is_a_burst_takes_its_stores(tmp_path: Path) -> None:
    # Two training weeks with a named holiday leave that weekday one training day, and the
    # minority rule kept a weekday's only day whatever it showed. Null seed 4056 (a tuning
    # seed): the holiday is Wednesday 2023-11-08, and ST-003 / SKU-004 (about 1,500 units
    # an hour) had a burst of x 2.5 all through the other training Wednesday: its profile
    # Wednesday was 77k units, the detection Wednesdays sold 38k and 40k, and each gave a
    # false drop. Moved against its store beyond its typical gap (and a quarter), the day
    # is left out and the weekday takes the store's ratio and shape: 38k, no report.
    # The bench's hand-written reference must flag the same hours on such a world.
    options = FamilyOptions(seed=4056, null=True, training_days=14, holiday_calendar=True)
    _, database = built_family_world(options, tmp_path, "+minority_reports_detected_log")
    sql = WEEKDAY_UNITS.format(store_id="ST-003", sku="SKU-004", day_of_week=3, first_hour=0)
    ((detection_units, profile_units),) = query(database, sql)
    assert abs(profile_units / detection_units - 1) < 0.15, (detection_units, profile_units)
    assert query(database, f"{REPORT_COUNT} where store_id = 'ST-003' and sku = 'SKU-004'") == [
        (0,)
    ]
    with open_database(database, read_only=False) as con:
        reference = run_reference(con)
    assert reference.flagged_hours_pipeline > 0
    assert reference.flagged_hours_reference == reference.flagged_hours_pipeline


def test_a_weekday_without_a_clean_day_takes_its_stores_shape_of_that_weekday(
    tmp_path: Path,
) -> None:
    # Seed 3914 (a tuning seed), two training weeks: Saturday 2024-04-06 is a named holiday
    # and ST-007 / SKU-009 (a round-the-clock store's product of about 650 units an hour)
    # had a burst all through the other training Saturday, so the weekday has no clean day
    # of its own. Its shape pooled over the days of the same kind is the Sundays', without
    # the Saturday night crowd: its Saturday evenings were fitted at a fifth of what they
    # sell (z 10-17 from 21:00). The store's own Saturdays have that crowd.
    options = FamilyOptions(seed=3914, training_days=14, holiday_calendar=True)
    _, database = built_family_world(options, tmp_path, "+baseline_sales_predictions")
    sql = WEEKDAY_UNITS.format(store_id="ST-007", sku="SKU-009", day_of_week=6, first_hour=20)
    ((detection_units, profile_units),) = query(database, sql)
    assert abs(profile_units / detection_units - 1) < 0.3, (detection_units, profile_units)


ONE_CLEAN_SUNDAY = """
select
    (
        select max(training_days) from baseline_sales_model_fit
        where store_id = 'ST-007' and sku = 'SKU-010' and hour_of_week = 6 * 24 + 18
    ) as training_days,
    p.profile_variance_ratio,
    p.residual_z
from baseline_sales_predictions as p
where p.store_id = 'ST-007' and p.sku = 'SKU-010' and p.sales_ts = '2024-04-14 18:00'
"""


def test_a_busy_series_hour_from_one_training_day_is_as_noisy_as_its_overdispersion(
    tmp_path: Path,
) -> None:
    # Null seed 4061 (a tuning seed), two training weeks: ST-007 / SKU-010 (a late store's
    # product of about 20,000 units an hour, its hours varying by a fifth of their units) has
    # one clean training Sunday, and its store's shape is its own (it is most of the store's
    # units). Its Sunday 18:00 was fitted at 6,408 units, that Sunday's (the other sold
    # 11,623), and claimed exact to a multinomial's share noise (0.7 % of an hour's
    # variance): 20,054 units on the first Sunday of detection scored z 6.5 and made a false
    # report. A share of one day of such a series is as noisy as the series' hours: the
    # hour now carries half an hour's variance of its own (0.50) and scores z 3.0.
    options = FamilyOptions(seed=4061, null=True, training_days=14, holiday_calendar=True)
    _, database = built_family_world(options, tmp_path, "+baseline_sales_predictions")
    ((training_days, profile_variance_ratio, residual_z),) = query(database, ONE_CLEAN_SUNDAY)
    assert training_days == 1
    assert profile_variance_ratio > 0.3, profile_variance_ratio
    assert residual_z < 5, residual_z


HOLIDAY_WEEKDAY = """
select
    (select count(*) from baseline_holiday_days where not is_left_out) as kept_days,
    (select count(*) from minority_reports_detected_log) as report_rows
"""


def test_a_weekday_whose_every_training_day_is_a_holiday_is_sized_by_the_other_weekdays(
    tmp_path: Path,
) -> None:
    # Null seed 4068 (a tuning seed), two training weeks: both of store ST-008's training
    # Thursdays are named holidays (its region's at 0.68 of a day's sales, then every
    # store's at 0.57; on one weekday, as Christmas and New Year are). They stay in the
    # training (the store has no other Thursday) and their totals sized its Thursdays: eight
    # up reports on the first detection Thursday of a world with no anomaly. The weekday's
    # level is now the median of the series' other weekdays, as uncertain as they spread.
    options = FamilyOptions(seed=4068, null=True, training_days=14, holiday_calendar=True)
    _, database = built_family_world(options, tmp_path, "+minority_reports_detected_log")
    ((kept_days, report_rows),) = query(database, HOLIDAY_WEEKDAY)
    assert kept_days == 2
    assert report_rows == 0


MOVED_DAY_SERIES = """
select count(*) from minority_reports_detected_log
where (store_id = 'ST-007' and sku = 'SKU-003') or (store_id = 'ST-008' and sku = 'SKU-004')
"""


def test_a_burst_through_a_training_day_does_not_shape_its_weekday(tmp_path: Path) -> None:
    # Null seed 4052 (a tuning seed), two training weeks, a named holiday on a Monday: ST-007
    # / SKU-003's one clean Monday held a burst (2.9 times its units to 11:00) and its second
    # Sunday one all day; ST-008 / SKU-004's first Wednesday a burst at twice its units. The
    # typical gap of a series' two same weekdays, taken from pairs that held the bursts,
    # let them pass, and a day was only judged against the series' median day (whose spread
    # holds the weekdays' own differences): the bursts shaped their weekdays, two false
    # reports on each series. The gap is now measured without the pairs beyond
    # baseline_disturbed_day_z of it, and of two same weekdays the one that moved against its
    # store beyond it is left out of the profile (its change stays in the noise).
    options = FamilyOptions(seed=4052, null=True, training_days=14, holiday_calendar=True)
    _, database = built_family_world(options, tmp_path, "+minority_reports_detected_log")
    ((report_rows,),) = query(database, MOVED_DAY_SERIES)
    assert report_rows == 0


AROUND_AN_ANOMALY = """
with anomaly as (
    select store_id, sku, cast(start_ts as date) as first_day, cast(end_ts as date) as last_day
    from read_csv('{truth}/anomalies.csv') where anomaly_id = '{anomaly_id}'
),
levels as (
    select cast(p.sales_ts as date) as sales_day, any_value(p.level_factor) as level_factor
    from baseline_sales_predictions as p inner join anomaly using (store_id, sku)
    group by all
)
select
    (select level_factor from levels, anomaly where sales_day = first_day) as level_before,
    (
        select max(level_factor) from levels, anomaly
        where sales_day between last_day + 1 and last_day + 3
    ) as highest_level_after,
    (
        select count(*) from minority_reports_detected_log as r
        inner join anomaly using (store_id, sku)
        where r.direction = 'down'
    ) as down_report_rows
"""


def test_the_days_after_a_three_day_rise_keep_the_level_before_it(tmp_path: Path) -> None:
    # A 72-hour anomaly touches four calendar days; a median over the last seven days then
    # took one of them as the level, and the ordinary days after it looked low: a "down"
    # report the other way (most reports that matched no anomaly on validation seeds
    # 51-66 were these). Seed 52, anomaly FAM-52-013 (a step up of S = 17.8 for 72 hours
    # on a series of ~30,000 units an hour): the level after it was 1.30 (seven days)
    # against 1.04 before; 1.04 with its days left out of a ten-day median.
    options = FamilyOptions(seed=52)
    paths, database = built_family_world(options, tmp_path, "+minority_reports_detected_log")
    sql = AROUND_AN_ANOMALY.format(truth=paths.truth.as_posix(), anomaly_id="FAM-52-013")
    ((level_before, highest_level_after, down_report_rows),) = query(database, sql)
    assert highest_level_after - level_before <= 0.02, (level_before, highest_level_after)
    assert down_report_rows == 0


BENT_HOURS = """
select
    (
        select count(distinct report_id) from minority_reports_detected_log
        where store_id = '{store_id}' and sku = '{sku}' and direction = 'down'
    ) as down_reports,
    (
        select avg(week_hour_factor) from baseline_sales_predictions
        where
            store_id = '{store_id}' and sku = '{sku}' and dayofweek(sales_ts) = 2
            and hour(sales_ts) between 15 and 20
            and sales_ts >= (select max(sales_ts) from baseline_sales_predictions) - interval 7 day
    ) as last_week_factor
"""


# Tuesdays from 15:00 to 20:59 of the two training weeks of one product.
TRAINING_TUESDAY_EVENINGS = (
    "store_id = 'ST-004' and sku = 'SKU-004' and isodow(cast(sales_ts as timestamp)) = 2 "
    "and hour(cast(sales_ts as timestamp)) between 15 and 20 "
    "and cast(sales_ts as timestamp) < (select min(cast(sales_ts as timestamp)) "
    "from read_csv('{sales}', all_varchar = true)) + interval 14 day"
)


@pytest.fixture(scope="module")
def two_training_weeks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Null seed 602 with two training weeks and four detection weeks, built to detection;
    ST-004 / SKU-004 sold 1.6 times its usual units on both training Tuesdays' evenings."""
    options = FamilyOptions(seed=602, null=True, training_days=14, detection_days=28)
    folder = tmp_path_factory.mktemp("two_training_weeks")
    paths = write_family_world(options, folder / "world")
    sales = paths.inputs / "unified_sales_data.csv"
    _scale_sales(sales, TRAINING_TUESDAY_EVENINGS.format(sales=sales.as_posix()), 1.6)
    database = folder / "mrs.duckdb"
    build_family_world(options, paths.inputs, database, "+minority_reports_detected_log")
    return database


def test_an_hour_a_two_week_profile_got_wrong_is_learnt_from_the_detection_weeks(
    two_training_weeks: Path,
) -> None:
    # Null seed 602 with two training weeks: ST-004 / SKU-004 (about a thousand units an
    # hour) sold 1.6 times its usual units on both training Tuesdays from 15:00 to 21:00,
    # so its profile is too high there, beyond the fit's own error of those hours, on
    # every detection Tuesday. (The case used to come from the world itself, a burst on
    # one training Tuesday; since the burst's day is left out, the profile is right.)
    # Without the hour-of-week factor every detection Tuesday would give a "down" report;
    # with it at most the first two (one week says nothing, two must agree), then the
    # factor has learnt it.
    ((down_reports, last_week_factor),) = query(
        two_training_weeks, BENT_HOURS.format(store_id="ST-004", sku="SKU-004")
    )
    assert down_reports <= 2
    assert last_week_factor < 0.9


def test_the_bench_reference_flags_what_detection_flags_over_four_detection_weeks(
    two_training_weeks: Path,
) -> None:
    # The bench's world has one detection week, where the hour-of-week and weekday factors
    # hardly act; here they do (up to three earlier weeks), and the hand-written reference
    # query of `mrs bench` must still compute the same baseline.
    with open_database(two_training_weeks, read_only=False) as con:
        reference = run_reference(con)
    assert reference.flagged_hours_pipeline > 0
    assert reference.flagged_hours_reference == reference.flagged_hours_pipeline


# The score scale recomputed by a join of whole days (the model uses a window over them):
# the model's own score is residual_z times the square root of the scale (side scales off).
SCORE_SCALES = """
with hours as (
    select p.store_id, p.sku, cast(p.sales_ts as date) as sales_day, p.score_scale,
        p.sales_ts >= s.detection_start as is_detection,
        p.residual_z * sqrt(p.score_scale) as model_z, p.is_trading_hour
    from baseline_sales_predictions as p, run_settings as s
),
quiet_days as (
    select store_id, sku, sales_day, count(*) as hours, sum(model_z * model_z) as squares
    from hours
    where is_detection and is_trading_hour and abs(model_z) <= 2.5
    group by all
),
days as (
    select store_id, sku, sales_day, bool_and(is_detection) as is_detection,
        min(score_scale) as low_scale, max(score_scale) as high_scale
    from hours group by all
),
variances as (
    select days.*, sum(q.hours) as past_hours, sum(q.squares) / sum(q.hours) / 0.9112 as v
    from days
    left join quiet_days as q
        on q.store_id = days.store_id and q.sku = days.sku
        and q.sales_day between days.sales_day - {days} and days.sales_day - 1
    group by all
),
spreads as (
    select sales_day, greatest(avg((v - 1) * (v - 1)) - avg(2 / past_hours), 0) as tau2
    from variances where past_hours > 0 group by sales_day
)
select store_id, sku, sales_day, is_detection, low_scale, high_scale,
    coalesce(greatest(1 + (v - 1) * tau2 / (tau2 + 2 / past_hours), 1.0), 1.0) as expected_scale
from variances left join spreads using (sales_day)
"""


def test_a_series_scored_too_narrowly_learns_its_scale_from_the_detection_days(
    two_training_weeks: Path,
) -> None:
    # Two training weeks fit a busy series' spread a third too wide or too narrow; the
    # variance of its quiet detection scores says which. Each day's scale is that variance
    # over the previous days (|z| <= 2.5), moved from 1 by empirical Bayes across the
    # series (their spread beyond the noise of each), never below 1, and the same for
    # every hour of the day.
    days = project_vars(PROJECT_ROOT)["baseline_score_scale_days"]
    rows = query(two_training_weeks, SCORE_SCALES.format(days=days))
    assert rows
    first_day = min(row[2] for row in rows if row[3])
    for store_id, sku, sales_day, is_detection, low, high, expected in rows:
        assert low == pytest.approx(high, abs=1e-12), (store_id, sku, sales_day)
        assert low == pytest.approx(expected, abs=1e-6), (store_id, sku, sales_day)
        if not is_detection or sales_day == first_day:
            assert low == 1.0, (store_id, sku, sales_day)
    # It acts: on this world the busiest series' quiet scores vary up to a third more than
    # the model says (what it does to false reports is measured on the family worlds,
    # docs/detection.md "The score's own scale").
    assert max(row[5] for row in rows) >= 1.25


BUSY_PERSISTENCE = """
select median(fit.hour_persistence)
from baseline_sales_model_fit as fit
inner join read_csv('{truth}/series.csv') as series
    on fit.store_id = series.store_id and fit.sku = series.sku
where series.volume_class = '10k+'
"""


def test_hours_that_share_passing_weather_do_not_add_up_to_a_sharp_onset(tmp_path: Path) -> None:
    # Null seed 905 (never used to tune) with weather-like noise on every hour: a log factor
    # of sd 0.25 whose neighbouring hours correlate at 0.9 (AR(1)), as real demand has, where
    # the family's hours are independent given their day. Every hour's z stays calibrated,
    # but a passing wave adds up hour by hour into a sharp onset: measured, 11 reports with
    # the hours taken as independent given their day, 2 with `hour_persistence` taken out
    # of the innovations (and into the slow detectors' variance); the busy series measure 0.56.
    options = FamilyOptions(seed=905, null=True, hour_noise_sd=0.25, hour_noise_rho=0.9)
    paths = write_family_world(options, tmp_path / "world")
    off = {"baseline_hour_persistence": False}
    built = build_each(options, paths.inputs, tmp_path, {"persistent": {}, "independent": off})
    counts = {label: query(database, REPORT_COUNT)[0][0] for label, database in built.items()}
    busy = BUSY_PERSISTENCE.format(truth=paths.truth.as_posix())
    persistence = {label: query(database, busy)[0][0] for label, database in built.items()}
    assert counts["independent"] >= 6, counts
    assert counts["persistent"] <= 3, counts
    assert persistence["persistent"] >= 0.15, persistence
    assert persistence["independent"] == 0.0, persistence


def test_independent_hours_measure_little_persistence(two_training_weeks: Path) -> None:
    # The family's hours are independent given their day: a lag-one correlation of a few
    # hundredths is noise, taken off, and the sharp detector stays as it was for most series
    # (measured on fourteen four-week tuning worlds: 0 for at least 92 % of their series).
    ((median, ninetieth),) = query(
        two_training_weeks,
        "select median(hour_persistence), quantile_cont(hour_persistence, 0.9) "
        "from baseline_sales_model_fit",
    )
    assert median == 0.0
    assert ninetieth <= 0.15


WEEKDAY_EVENINGS = """
with training_hours as (
    select (isodow(sales.sales_ts) - 1) * 24 + hour(sales.sales_ts) as hour_of_week,
        avg(sales.units) as mean_units
    from sales_timeseries_data as sales, run_settings
    where
        sales.store_id = '{store_id}' and sales.sku = '{sku}'
        and sales.sales_ts < run_settings.detection_start
    group by all
)
select sum(fit.profile_units) / sum(training_hours.mean_units)
from baseline_sales_model_fit as fit
inner join training_hours using (hour_of_week)
where
    fit.store_id = '{store_id}' and fit.sku = '{sku}'
    and fit.hour_of_week // 24 between 0 and 3 and fit.hour_of_week % 24 between 21 and 23
"""


def test_a_busy_weekday_evening_is_not_fitted_to_the_weekend_nights(tmp_path: Path) -> None:
    # Seed 501 with two training weeks (a tuning world: the case that showed the mechanism):
    # ST-006 / SKU-010 sells about 2,000 units an hour late on weekday evenings and 15,000
    # to 27,000 on Friday and Saturday nights, in a store open round the clock, whose one
    # pooled shape mixes both. How far its own hours count was measured per quarter of a
    # day with each hour weighted by pooled^2, so the quarter's big hours, which agree,
    # outweighed the evening hours: Monday to Thursday 21-23 h fitted at 2.76 times their
    # training mean, a false drop every evening. Each hour weighted by its precision:
    # 1.92 (the quarter's one weight still pulls; docs/detection.md).
    options = FamilyOptions(seed=501, training_days=14, detection_days=28)
    _, database = built_family_world(options, tmp_path, "+baseline_sales_model_fit")
    ((ratio,),) = query(database, WEEKDAY_EVENINGS.format(store_id="ST-006", sku="SKU-010"))
    assert ratio <= 2.2, ratio


WEEKEND_POOLED_DAYS = """
select list(day_of_week order by day_of_week)
from (
    select
        fit.hour_of_week // 24 as day_of_week,
        max(fit.training_days) as pooled_days,
        max(max(fit.training_days)) over () as most_pooled_days
    from baseline_sales_model_fit as fit
    inner join read_csv('{truth}/series.csv') as series
        on fit.store_id = series.store_id and fit.sku = series.sku
    where series.volume_class = '10k+'
    group by all
)
where pooled_days < most_pooled_days / 2
"""


def test_the_weekend_is_the_stores_not_the_codes(tmp_path: Path) -> None:
    # Null seed 4777 (never used to tune): one store open round the clock whose weekend is
    # Thursday and Friday. Its busy series pools the intraday shape of its weekend days apart
    # from its weekdays (their days counted in training_days: about 8 of four weeks, against
    # about 20), found from the store's shapes; a Saturday-Sunday weekend written into the
    # code pooled Thursday and Friday with the weekdays (measured on Friday-Saturday worlds:
    # 5-8 sigma recall 67 -> 73 % and 70 -> 72 % on the tuning sets T and V, docs/detection.md).
    options = FamilyOptions(seed=4777, null=True, stores=1, products=5, weekend_start=3)
    paths, database = built_family_world(options, tmp_path, "+baseline_sales_model_fit")
    ((weekend_days,),) = query(database, WEEKEND_POOLED_DAYS.format(truth=paths.truth.as_posix()))
    assert weekend_days == [3, 4]


WEEKDAY_RATIOS = """
with fit_days as (
    select sku, hour_of_week // 24 as day_of_week, sum(profile_units) as units
    from baseline_sales_model_fit
    group by all
),
baseline_hours as (
    -- each hour on the baseline's calendar (its day can start after midnight)
    select
        sku,
        units,
        sales_ts - to_hours((select day_start_hour from baseline_day_start)) as baseline_ts
    from sales_timeseries_data, run_settings
    where sales_ts < run_settings.detection_start
),
training_days as (
    select sku, isodow(baseline_ts) - 1 as day_of_week, sum(units) as units
    from baseline_hours
    group by sku, cast(baseline_ts as date), isodow(baseline_ts)
),
own_days as (
    select sku, day_of_week, median(units) as units from training_days group by all
),
ratios as (
    -- each weekday's total over the series' median weekday's, in the fit and in training
    select
        fit_days.sku,
        fit_days.day_of_week,
        fit_days.units / median(fit_days.units) over (partition by fit_days.sku) as fitted,
        own_days.units / median(own_days.units) over (partition by own_days.sku) as own
    from fit_days
    inner join own_days using (sku, day_of_week)
)
select sku, day_of_week, fitted, own from ratios order by sku, day_of_week
"""


def test_a_quiet_product_whose_days_repeat_does_not_set_its_stores_week(tmp_path: Path) -> None:
    # Null seed 4822 (never used to tune): one store, five products, two training weeks, the
    # store selling less on Sundays (its busy series' training Sundays 0.75-0.87 of their
    # median day). Its quiet product is rewritten to sell one unit in each of six hours every
    # day and two more on Sundays (8 against 6, a Sunday of 1.33), as a product that sells
    # out at a fixed stock would. Its days' spread around their weekday was a MAD of
    # nothing, floored at 0.02, and the store's week (its products' weekday ratios weighted
    # by their inverse day noise) became that product's: every busy series, which takes the
    # store's week, expected more on Sundays than on its median day (1.06-1.31). A spread is
    # now at least half a day total's counting sd, and the store's Sunday stays its quiet day.
    options = FamilyOptions(seed=4822, null=True, stores=1, products=5, training_days=14)
    paths = write_family_world(options, tmp_path / "world")
    hour, weekday = "hour(cast(sales_ts as timestamp))", "isodow(cast(sales_ts as timestamp))"
    repeated_units = (
        f"case when {hour} between 10 and 15 or ({weekday} = 7 and {hour} in (16, 17)) "
        "then '1' else '0' end"
    )
    _rewrite_sales(
        paths.inputs / "unified_sales_data.csv",
        f"* replace (case when sku = 'SKU-001' then {repeated_units} else units end as units)",
    )
    database = tmp_path / "mrs.duckdb"
    build_family_world(options, paths.inputs, database, "+baseline_sales_model_fit")
    sundays = [
        (sku, fitted, own) for sku, day, fitted, own in query(database, WEEKDAY_RATIOS) if day == 6
    ]
    assert [sku for sku, _, _ in sundays] == [f"SKU-00{n}" for n in range(1, 6)]
    assert sundays[0][2] == pytest.approx(8 / 6)  # the rewritten product's own Sunday
    for sku, fitted, own in sundays[2:]:  # the busy series (100 units an hour and more)
        assert own < 0.9, (sku, own)
        assert fitted < 1, (sku, fitted, own)


def test_a_flat_quiet_product_does_not_flatten_its_stores_week_on_two_training_weeks(
    tmp_path: Path,
) -> None:
    # Null seed 4990 (never used to tune): one store, five products, two training weeks, a
    # store that sells two thirds more on Fridays than on its median day. Its quietest
    # product is rewritten to sell one unit an hour from 10:00 to 21:00 every day: a flat
    # week. With two training weeks a day has no other day of its weekday to be measured
    # against, so a series' day spread was measured against its median day and held its own
    # week: the busy series, whose Fridays stand out, looked noisier than the flat one, the
    # store's week (weighted by inverse day noise) came out flattened (Friday 1.41), and the
    # busy series, whose own week then looked like noise, took it whole (fitted Fridays
    # 0.11-0.21 in log below their own training Fridays). A day's noise is now the gap of a
    # weekday's two days against their store there.
    options = FamilyOptions(seed=4990, null=True, stores=1, products=5, training_days=14)
    paths = write_family_world(options, tmp_path / "world")
    hour = "hour(cast(sales_ts as timestamp))"
    flat_units = f"case when {hour} between 10 and 21 then '1' else '0' end"
    _rewrite_sales(
        paths.inputs / "unified_sales_data.csv",
        f"* replace (case when sku = 'SKU-001' then {flat_units} else units end as units)",
    )
    database = tmp_path / "mrs.duckdb"
    build_family_world(options, paths.inputs, database, "+baseline_sales_model_fit")
    rows = query(database, WEEKDAY_RATIOS)
    ratios = {(sku, day): (fitted, own) for sku, day, fitted, own in rows}
    assert all(own == pytest.approx(1) for (sku, _), (_, own) in ratios.items() if sku == "SKU-001")
    for sku in ("SKU-002", "SKU-003", "SKU-004", "SKU-005"):
        fitted, own = ratios[(sku, 4)]  # Friday
        assert own > 1.5, (sku, own)
        assert abs(math.log(fitted / own)) < 0.08, (sku, fitted, own)


FEED_GAP_HOURS = (
    "select list(distinct sales_ts order by sales_ts) from sales_timeseries_data where is_feed_gap"
)

REPORTS_AROUND = """
select count(distinct report_id) from minority_reports_detected_log
where
    window_start <= timestamp '{hour}' + interval 3 hour
    and coalesce(window_end, timestamp '9999-12-31') > timestamp '{hour}' - interval 3 hour
"""


def _rewrite_sales(sales: Path, columns: str = "*", condition: str = "true") -> None:
    """Rewrite a sales file as `select <columns> ... where <condition>` over its text
    columns."""
    rewritten = sales.with_suffix(".rewritten.csv")
    with duckdb.connect() as con:
        con.execute(
            f"copy (select {columns} from read_csv('{sales.as_posix()}', all_varchar = true) "
            f"where {condition}) to '{rewritten.as_posix()}' (header)"
        )
    rewritten.replace(sales)


def _scale_sales(sales: Path, condition: str, factor: float) -> None:
    """Its units times `factor` where `condition` holds."""
    scaled = f"cast(round(cast(units as double) * {factor}) as bigint)::varchar"
    _rewrite_sales(
        sales, f"* replace (case when {condition} then {scaled} else units end as units)"
    )


def _keep_sales(sales: Path, condition: str) -> None:
    """Only its rows where `condition` holds."""
    _rewrite_sales(sales, condition=condition)


def test_an_hour_the_feed_missed_is_no_drop_on_every_series(tmp_path: Path) -> None:
    # Null seed 1001 (never used to tune; two stores, 20 series) with every row of one
    # detection hour deleted (an outage of the feed, or the hour a local-time feed skips
    # when the clocks go forward) and of one training hour. Zero-filled, the detection hour
    # was a drop on every busy series at once: 11 reports, all around it (measured; 59 with
    # eight stores and two detection hours missing). Marked as a gap of the feed (fewer
    # rows than a tenth of the same hour's in the previous weeks) and scored as a closed
    # hour: none; the training hour's day is left out of the fit.
    options = FamilyOptions(seed=1001, null=True, stores=2)
    paths = write_family_world(options, tmp_path / "world")
    detection_gap, training_gap = "2026-08-05 14:00:00", "2026-07-20 14:00:00"
    gaps = f"timestamp '{training_gap}', timestamp '{detection_gap}'"
    _keep_sales(
        paths.inputs / "unified_sales_data.csv", f"cast(sales_ts as timestamp) not in ({gaps})"
    )
    variants = {"gaps": {}, "zeros": {"sales_normal_hour_share": 0}}
    built = build_each(options, paths.inputs, tmp_path, variants)
    around = REPORTS_AROUND.format(hour=detection_gap)
    ((gap_hours,),) = query(built["gaps"], FEED_GAP_HOURS)
    assert [str(hour) for hour in gap_hours] == [training_gap, detection_gap]
    assert query(built["gaps"], around) == [(0,)]
    assert query(built["zeros"], FEED_GAP_HOURS) == [(None,)]
    ((zero_filled_reports,),) = query(built["zeros"], around)
    assert zero_filled_reports >= 6, zero_filled_reports
    # Only earlier weeks say what is usual: a build whose last hour is the gap marks it too.
    to_the_gap = tmp_path / "to_the_gap" / "mrs.duckdb"
    to_the_gap.parent.mkdir()
    settings = {"as_of": "2026-08-05 15:00:00"}
    build_family_world(options, paths.inputs, to_the_gap, "+sales_timeseries_data", settings)
    ((early_gap_hours,),) = query(to_the_gap, FEED_GAP_HOURS)
    assert [str(hour) for hour in early_gap_hours] == [training_gap, detection_gap]


def test_a_store_whose_rows_come_late_is_no_drop_on_its_series(tmp_path: Path) -> None:
    # Null seed 1071 (never used to tune; three stores, 30 series) whose store ST-001's rows
    # of the last eight hours have not arrived when the build runs, the other stores' have.
    # Zero-filled, that is a drop on every one of its busy series: 8 reports (measured).
    # Those of its hours where it usually sells are gaps until its rows come, and nothing
    # is reported; a store silent for longer than `sales_store_late_hours` is read as
    # selling nothing (an outage), as before.
    options = FamilyOptions(seed=1071, null=True, stores=3)
    paths = write_family_world(options, tmp_path / "world")
    sales = paths.inputs / "unified_sales_data.csv"
    last_hour = f"(select max(cast(sales_ts as timestamp)) from read_csv('{sales.as_posix()}'))"
    late = f"store_id = 'ST-001' and cast(sales_ts as timestamp) > {last_hour} - interval 8 hour"
    _keep_sales(sales, f"not ({late})")
    variants = {"waiting": {}, "zero_filled": {"sales_store_late_hours": 0}}
    built = build_each(options, paths.inputs, tmp_path, variants)
    counts = {label: query(database, REPORT_COUNT)[0][0] for label, database in built.items()}
    assert counts["zero_filled"] >= 4, counts
    assert counts["waiting"] == 0, counts
    late_hours = (
        "select list(distinct store_id), count(distinct sales_ts), "
        "max(sales_ts) = (select max(sales_ts) from sales_timeseries_data) - interval 3 hour "
        "from sales_timeseries_data where is_feed_gap"
    )
    # ST-001's hours after its last row where it usually sells: 16:00 to 20:00 of the last
    # day (it sells little from 21:00, where a missing row may be no sale).
    assert query(built["waiting"], late_hours) == [(["ST-001"], 5, True)]
    assert query(built["zero_filled"], late_hours)[0][1] == 0


def test_a_sparse_feed_of_one_quiet_product_has_no_feed_gaps(tmp_path: Path) -> None:
    # A feed that lists only the hours a product sold: for one product selling about a unit
    # an hour (null seed 1002, one store, one product), no row is an hour it sold nothing,
    # not a gap of the feed. Counted as gaps wherever the previous weeks mostly had a row
    # (no minimum of usual units), 171 of its 544 hours without a sale were (measured): no
    # sales known there, and a stock-out could never be seen.
    options = FamilyOptions(seed=1002, null=True, stores=1, products=1)
    paths = write_family_world(options, tmp_path / "world")
    _keep_sales(paths.inputs / "unified_sales_data.csv", "cast(units as double) > 0")
    variants = {"gaps": {}, "every_hour": {"sales_gap_min_units": 0}}
    built = build_each(options, paths.inputs, tmp_path, variants, "+sales_timeseries_data")
    gap_count = "select count(*) filter (where is_feed_gap) from sales_timeseries_data"
    counts = {label: query(database, gap_count)[0][0] for label, database in built.items()}
    assert counts["gaps"] == 0
    assert counts["every_hour"] >= 50, counts  # the rule the minimum guards against


QUIET_UP_SHARE = """
select avg(cast(p.residual_z >= 3 as double))
from baseline_sales_predictions as p
inner join read_csv('{truth}/series.csv') as s using (store_id, sku)
cross join run_settings
where s.volume_class = '1' and p.is_trading_hour and p.sales_ts >= run_settings.detection_start
"""


def test_a_quiet_product_with_thirteen_training_weeks_keeps_its_upper_tail(tmp_path: Path) -> None:
    # Null seed 907 (never used to tune), thirteen training weeks and four months of
    # detection. A product selling under a unit an hour has an integer median over its
    # weeks (0 or 1 for a mean of 0.8); with thirteen weeks the own hours were trusted
    # enough to make a zero-or-one profile of them, and its quiet hours reached z >= 3 at
    # 0.56 % (0.27 % with four weeks). The median of grouped data, where weeks share the
    # median value: 0.40 %.
    options = FamilyOptions(
        seed=907, null=True, stores=4, training_days=91, detection_days=120
    )  # fmt: skip
    paths, database = built_family_world(options, tmp_path, "+baseline_sales_predictions")
    ((up_share,),) = query(database, QUIET_UP_SHARE.format(truth=paths.truth.as_posix()))
    assert up_share <= 0.0048, up_share
