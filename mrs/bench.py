"""Benchmarks: time pipeline stages on large generated worlds against hand-written queries.

Timings are printed, never asserted: machines are shared and noisy, so each figure is
compared with a reference measured in the same run.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from mrs.build_timings import node_timings
from mrs.project import WITHOUT_TESTS, Project
from mrs.world import WorldOptions, build_vars, write_world

DETECTION_MODELS = (
    "sales_timeseries_data",
    "baseline_sales_model_fit",
    "baseline_sales_predictions",
    "anomaly_candidate_hours",
    "anomaly_classifier_model",
    "anomaly_classifier_decisions",
    "minority_reports_detected_log",
    "minority_event_ended_log",
    "baseline_sales_model_prediction_log",
    "anomaly_classifier_model_prediction_log",
)

# The same baseline and elevated-hour flags as the detection models, as one query written
# by hand: weekday level x pooled intraday shape, level factor, count-aware spread,
# variance-stabilised z. It is the yardstick for the detection stage's cost.
REFERENCE_QUERY = """
create or replace temp table reference_flags as
with
settings as (select * from run_settings),
sales as (
    select s.store_id, s.sku, s.sales_ts, s.units
    from stg_unified_sales_data s, settings
    where s.sales_ts >= settings.training_start and s.sales_ts < settings.as_of
),
training as (
    select *, (isodow(sales_ts) - 1) * 24 + hour(sales_ts) as how,
           cast(sales_ts as date) as day
    from sales, settings where sales_ts < settings.detection_start
),
cells as (
    select store_id, sku, how, median(units) as med from training group by all
),
open_days as (
    select store_id, sku, how // 24 as dow, min(how % 24) as first_hour,
           max(how % 24) as last_hour
    from cells where med > 0 group by all
),
days as (
    select store_id, sku, day, how // 24 as dow, sum(units) as total
    from training group by all
),
levels as (select store_id, sku, dow, median(total) as level from days group by all),
shares as (
    select t.store_id, t.sku, o.first_hour, o.last_hour, t.how % 24 as hod,
           t.units / d.total as share
    from training t
    join days d using (store_id, sku, day)
    join open_days o on o.store_id = t.store_id and o.sku = t.sku and o.dow = d.dow
    where d.total > 0
),
bounded as (
    select *, quantile_cont(share, 0.1) over g as lo, quantile_cont(share, 0.9) over g as hi
    from shares
    window g as (partition by store_id, sku, first_hour, last_hour, hod)
),
shape as (
    select store_id, sku, first_hour, last_hour, hod, count(*) as n,
           avg(least(greatest(share, lo), hi)) as s
    from bounded group by all
),
shape_norm as (
    select *, s / nullif(sum(s) over (partition by store_id, sku, first_hour, last_hour), 0)
        as share
    from shape
),
profile as (
    select c.store_id, c.sku, c.how,
           coalesce(l.level * sh.share, 0) as profile, coalesce(sh.n, 0) as n
    from cells c
    left join open_days o on o.store_id = c.store_id and o.sku = c.sku and o.dow = c.how // 24
    left join levels l on l.store_id = c.store_id and l.sku = c.sku and l.dow = c.how // 24
    left join shape_norm sh on sh.store_id = c.store_id and sh.sku = c.sku
        and sh.first_hour = o.first_hour and sh.last_hour = o.last_hour
        and sh.hod = c.how % 24
),
changes as (
    select t.store_id, t.sku, p.profile,
           (t.units - lag(t.units) over (partition by t.store_id, t.sku, t.how
                                        order by t.sales_ts)) / sqrt(2 * p.profile) as change
    from training t join profile p using (store_id, sku, how) where p.profile > 0
),
squares as (
    select store_id, sku, profile as x, least(change * change, 25.0) as y
    from changes where change is not null
),
pooled as (
    select greatest(coalesce(regr_slope(y, x), 0.0), 0.0) as b from squares
),
pooled_line as (
    select greatest(coalesce(avg(y) - pooled.b * avg(x), 1.0), 0.0) as a, pooled.b
    from squares, pooled group by pooled.b
),
dispersion as (
    -- the pooled line times each series' noise factor, shrunk with 100 hours
    -- (baseline_dispersion_prior_hours)
    select store_id, sku,
           (sum(y) + 100 * avg(a + b * x)) / (sum(a + b * x) + 100 * avg(a + b * x)) as f,
           any_value(a) as a, any_value(b) as b
    from squares, pooled_line group by store_id, sku
),
scored_days as (
    select s.store_id, s.sku, s.sales_ts, s.units, p.profile, p.n,
           cast(s.sales_ts as date) as day,
           coalesce(d.f * d.a, 1.0) as alpha, coalesce(d.f * d.b, 0.0) as beta
    from sales s
    join profile p on p.store_id = s.store_id and p.sku = s.sku
        and p.how = (isodow(s.sales_ts) - 1) * 24 + hour(s.sales_ts)
    left join dispersion d on d.store_id = s.store_id and d.sku = s.sku
),
ratios as (
    select store_id, sku, day, sum(units) / nullif(sum(profile), 0) as r
    from scored_days group by all
),
day_levels as (
    select store_id, sku, day,
           coalesce(median(r) over (partition by store_id, sku order by day
               range between interval 7 days preceding and interval 1 day preceding), 1.0) as lf
    from ratios
),
hours as (
    select h.*, h.profile * l.lf as e
    from scored_days h join day_levels l using (store_id, sku, day), settings
    where h.sales_ts >= settings.detection_start
),
z as (
    select *, e * greatest(1.0, alpha + beta * e) * (1 + pi() / (2 * greatest(n, 1))) + 1.0
        as v
    from hours
)
select store_id, sku, sales_ts, e as expected_units,
       2 * (sqrt(units + 0.375) - sqrt(e + 0.375)) / sqrt(v / (e + 0.375)) as residual_z,
       abs(2 * (sqrt(units + 0.375) - sqrt(e + 0.375)) / sqrt(v / (e + 0.375))) >= 1.5
           as is_flagged
from z where e > 0 or units > 0
"""


@dataclass(frozen=True)
class DetectionBenchmark:
    sales_rows: int
    generate_seconds: float
    build_seconds: float
    staging_seconds: float
    detection_seconds: float
    model_seconds: dict[str, float]
    reference_seconds: float
    flagged_hours_pipeline: int
    flagged_hours_reference: int
    reports: int

    @property
    def ratio(self) -> float:
        return self.detection_seconds / self.reference_seconds


def run_detection_benchmark(
    stores: int,
    products: int,
    days: int,
    say: Callable[[str], None],
    work_dir: Path | None = None,
) -> DetectionBenchmark:
    with tempfile.TemporaryDirectory(dir=work_dir) as folder:
        root = Path(folder)
        options = WorldOptions(stores=stores, products=products, days=days)
        say(f"generating {stores * products * days * 24:,} sales rows (Parquet)")
        started = time.perf_counter()
        counts = write_world(options, root / "world", "parquet")
        generated = time.perf_counter() - started

        project = Project.locate(root / "bench.duckdb")
        dbt_vars = build_vars(options, root / "world")
        selection = " ".join(f"+{model}" for model in DETECTION_MODELS)
        say("building staging and detection with dbt (tests excluded)")
        started = time.perf_counter()
        code = project.dbt(
            [
                "build",
                "--select",
                selection,
                *WITHOUT_TESTS,
                "--quiet",
                # A private target folder: a build running in the project at the same time
                # cannot overwrite run_results.json before it is read.
                "--target-path",
                str(root / "target"),
                "--log-path",
                str(root / "logs"),
            ],
            dbt_vars,
        )
        built = time.perf_counter() - started
        if code != 0:
            raise RuntimeError("the benchmark build failed; see dbt's output above")
        timings, _ = node_timings(root / "target")
        detection = sum(timings.get(model, 0.0) for model in DETECTION_MODELS)
        staging = sum(t for name, t in timings.items() if name not in DETECTION_MODELS)

        say("running the hand-written reference query")
        with duckdb.connect(str(project.database)) as con:
            reference = run_reference(con)
            reports = con.execute(
                "select count(distinct report_id) from minority_reports_detected_log"
            ).fetchone()[0]
        return DetectionBenchmark(
            sales_rows=counts["unified_sales_data"],
            generate_seconds=generated,
            build_seconds=built,
            staging_seconds=staging,
            detection_seconds=detection,
            model_seconds={m: timings.get(m, 0.0) for m in DETECTION_MODELS},
            reference_seconds=reference.seconds,
            flagged_hours_pipeline=reference.flagged_hours_pipeline,
            flagged_hours_reference=reference.flagged_hours_reference,
            reports=reports,
        )


@dataclass(frozen=True)
class ReferenceRun:
    """The hand-written reference query's time, and the elevated hours it and the pipeline's
    `baseline_sales_predictions` flag (they should agree)."""

    seconds: float
    flagged_hours_reference: int
    flagged_hours_pipeline: int


def run_reference(con: duckdb.DuckDBPyConnection) -> ReferenceRun:
    """Time REFERENCE_QUERY on a built database (it reads staging and run_settings)."""
    started = time.perf_counter()
    con.execute(REFERENCE_QUERY)
    seconds = time.perf_counter() - started
    reference_flags = con.execute(
        "select count(*) from reference_flags where is_flagged"
    ).fetchone()[0]
    pipeline_flags = con.execute(
        "select count(*) from baseline_sales_predictions, run_settings "
        "where is_trading_hour and abs(residual_z) >= 1.5 "
        "and sales_ts >= run_settings.detection_start"
    ).fetchone()[0]
    return ReferenceRun(
        seconds=seconds,
        flagged_hours_reference=int(reference_flags),
        flagged_hours_pipeline=int(pipeline_flags),
    )
