"""`mrs evaluate --real`: the pipeline on public real hourly demand series (mrs.dev.real_series).

Nobody here generated these series and none carries injected anomalies, so the score is
what a user of real data sees: how many reports a build raises per 1,000 series-days, and
how many of them the data's own labels explain. A report is explained by a **holiday** when
its window touches a day the data flags as one, and by **weather** when at least a third of
its hours had rain or snow; anything else is unexplained (a real cause the data does not
label, or a false report). Attribution is scored on the explained reports: is the top
proposed cause the label's? For reference, the same scores for a naive detector (issue 14
measured one on its real series): each hour's robust z-score against its hour of the week in
the training weeks.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from mrs.dev.evaluation import build_world
from mrs.dev.real_series import (
    BIKESHARE_WHEEL,
    TAYLOR_WHEEL,
    TRAINING_DAYS,
    RealWorld,
    bikeshare_world,
    fetch_wheel,
    taylor_world,
    write_inputs,
)
from mrs.pipeline.project import MrsError

# The share of a report's hours with rain or snow from which weather explains it (about a
# tenth of Washington's hours in 2011 had some).
WEATHER_SHARE = 1 / 3
# The naive detector: an hour at |z| >= NAIVE_Z against the median and MAD of its hour of the
# week over the training weeks; flagged hours of one direction at most NAIVE_GAP_HOURS apart
# are one report.
NAIVE_Z = 3.0
NAIVE_GAP_HOURS = 2


@dataclass(frozen=True)
class RealReport:
    series: str
    direction: str
    window_start: str
    window_end: str
    label: str  # holiday, weather or unexplained
    proposed_cause_category: str | None
    # Still active at the build's last tick: window_end is then the data's last hour.
    is_open: bool = False


@dataclass(frozen=True)
class RealScores:
    name: str
    series: int
    detection_days: int
    reports: tuple[RealReport, ...]
    detector: str = "mrs"  # or "naive"
    # The events the reports make (the pipeline's cohorting); None for the naive reference.
    events: int | None = None

    @property
    def series_days(self) -> int:
        return self.series * self.detection_days

    def count(self, label: str | None = None) -> int:
        """The reports, or those of one label."""
        return sum(1 for report in self.reports if label is None or report.label == label)

    def per_thousand_days(self, label: str | None = None) -> float:
        return 1000 * self.count(label) / self.series_days if self.series_days else 0.0

    @property
    def cause_right(self) -> int:
        return sum(
            1
            for report in self.reports
            if report.label != "unexplained" and report.proposed_cause_category == report.label
        )

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "detector": self.detector,
            "series": self.series,
            "detection_days": self.detection_days,
            "series_days": self.series_days,
            "reports": self.count(),
            "events": self.events,
            "reports_per_1000_series_days": round(self.per_thousand_days(), 2),
            "explained_by_holiday": self.count("holiday"),
            "explained_by_weather": self.count("weather"),
            "unexplained": self.count("unexplained"),
            "unexplained_per_1000_series_days": round(self.per_thousand_days("unexplained"), 2),
            "top_cause_right": self.cause_right,
            "report_list": [asdict(report) for report in self.reports],
        }


@dataclass(frozen=True)
class HourLabels:
    """What a real data set's own labels say of its hours: its holidays' days and its hours
    of rain or snow, read once per world."""

    holiday_days: frozenset[pd.Timestamp]
    wet_hours: frozenset[pd.Timestamp]
    last_hour: pd.Timestamp

    @classmethod
    def of(cls, hours: pd.DataFrame) -> HourLabels:
        return cls(
            holiday_days=frozenset(hours.loc[hours["is_holiday"], "ts"].dt.normalize()),
            wet_hours=frozenset(hours.loc[hours["is_wet_weather"], "ts"]),
            last_hour=pd.Timestamp(hours["ts"].max()),
        )


def label_report(window_start: pd.Timestamp, window_end: pd.Timestamp, labels: HourLabels) -> str:
    """What the data's own labels say of a report's window (its hours from start to end)."""
    days = pd.date_range(window_start.normalize(), window_end.normalize(), freq="D")
    if any(day in labels.holiday_days for day in days):
        return "holiday"
    hours = pd.date_range(window_start, window_end, freq="h")
    if sum(hour in labels.wet_hours for hour in hours) >= WEATHER_SHARE * len(hours):
        return "weather"
    return "unexplained"


def _report(
    series: str,
    direction: str,
    start: pd.Timestamp,
    end: pd.Timestamp | None,
    labels: HourLabels,
    proposed_cause_category: str | None = None,
) -> RealReport:
    """A report of the window from `start` to `end` (None: still open, to the last hour)."""
    is_open = end is None or pd.isna(end)
    end = labels.last_hour if is_open else pd.Timestamp(end)
    return RealReport(
        series=series,
        direction=direction,
        window_start=f"{start:%Y-%m-%d %H:%M}",
        window_end=f"{end:%Y-%m-%d %H:%M}",
        label=label_report(start, end, labels),
        proposed_cause_category=proposed_cause_category,
        is_open=is_open,
    )


def score_real_database(world: RealWorld, database: Path) -> RealScores:
    with duckdb.connect(str(database), read_only=True) as con:
        reports = con.execute(
            "select sku, direction, window_start, window_end, proposed_cause_category, "
            "report_group_id from main.minority_reports order by window_start, sku, direction"
        ).fetchall()
    events = len({report[-1] for report in reports})
    return _scores(world, [report[:-1] for report in reports], "mrs", events)


def _scores(
    world: RealWorld, windows: list[tuple[Any, ...]], detector: str, events: int | None = None
) -> RealScores:
    """A detector's scores from its windows: (sku, direction, start, end or None, cause)."""
    labels = HourLabels.of(world.hours)
    return RealScores(
        name=world.name,
        series=world.series,
        detection_days=world.detection_days,
        reports=tuple(
            _report(sku, direction, pd.Timestamp(start), end, labels, cause)
            for sku, direction, start, end, cause in windows
        ),
        detector=detector,
        events=events,
    )


# The naive detector over every hour of each series from its first to its last (a missing
# hour sold nothing, as the pipeline reads it): flagged hours in a row of one direction, at
# most NAIVE_GAP_HOURS apart, are one report.
NAIVE_SQL = f"""
with
sales as (
    select store_id, sku, cast(sales_ts as timestamp) as sales_ts, cast(units as double) as units
    from world_sales
),
expanded as (
    select store_id, sku,
           unnest(generate_series(min(sales_ts), max(sales_ts), interval 1 hour)) as ts
    from sales group by store_id, sku
),
hours as (
    select e.store_id, e.sku, e.ts, coalesce(s.units, 0) as units,
           isodow(e.ts) * 24 + hour(e.ts) as hour_of_week
    from expanded e
    left join sales s on s.store_id = e.store_id and s.sku = e.sku and s.sales_ts = e.ts
),
training as (select * from hours where ts >= $training_start and ts < $detection_start),
medians as (
    select store_id, sku, hour_of_week, median(units) as med from training group by all
),
profile as (
    select t.store_id, t.sku, t.hour_of_week, any_value(m.med) as med,
           median(abs(t.units - m.med)) as mad
    from training t join medians m using (store_id, sku, hour_of_week) group by all
),
scored as (
    select h.store_id, h.sku, h.ts,
           (h.units - p.med) / (1.4826 * greatest(p.mad, 1)) as z
    from hours h join profile p using (store_id, sku, hour_of_week)
    where h.ts >= $detection_start
),
flagged as (
    select store_id, sku, ts, case when z > 0 then 'up' else 'down' end as direction
    from scored where abs(z) >= {NAIVE_Z}
),
starts as (
    select *,
           coalesce(direction <> lag(direction) over w
                    or ts - lag(ts) over w > interval {NAIVE_GAP_HOURS} hour, true) as is_start
    from flagged window w as (partition by store_id, sku order by ts)
),
numbered as (
    select *, count(*) filter (where is_start) over (
        partition by store_id, sku order by ts) as window_number
    from starts
)
select sku, direction, min(ts) as window_start, max(ts) as window_end,
       null as proposed_cause_category
from numbered
group by store_id, sku, direction, window_number
order by window_start, sku, direction
"""


def naive_scores(world: RealWorld) -> RealScores:
    """The naive detector's reports on `world` (NAIVE_SQL), labelled as the pipeline's are."""
    with duckdb.connect() as con:
        con.register("world_sales", world.sales)
        windows = con.execute(
            NAIVE_SQL,
            {
                "training_start": pd.Timestamp(world.training_start).to_pydatetime(),
                "detection_start": pd.Timestamp(world.detection_start).to_pydatetime(),
            },
        ).fetchall()
    return _scores(world, windows, "naive")


def evaluate_real(
    say: Callable[[str], None],
    work_dir: Path | None,
    wheel_cache: Path,
    training_days: int | None = None,
) -> list[RealScores]:
    """Fetch the two series' wheels (once), build each world into a throw-away database in
    this process, and score it and the naive reference. `training_days` (7 to 28) moves the
    training start, not the detection start: the same days are scored whatever it is."""
    if training_days is not None and not 7 <= training_days <= TRAINING_DAYS:
        raise MrsError(
            f"--training-days {training_days}: the real series have {TRAINING_DAYS} days "
            "before their detection start; choose 7 to 28"
        )
    worlds = [
        bikeshare_world(fetch_wheel(*BIKESHARE_WHEEL, wheel_cache, say)),
        taylor_world(fetch_wheel(*TAYLOR_WHEEL, wheel_cache, say)),
    ]
    if training_days is not None:
        worlds = [
            replace(
                world,
                training_start=world.detection_start - dt.timedelta(days=training_days),
            )
            for world in worlds
        ]
    scores = []
    with tempfile.TemporaryDirectory(prefix="mrs-evaluate-real-", dir=work_dir) as folder:
        for world in worlds:
            inputs = Path(folder) / world.name / "inputs"
            write_inputs(world, inputs)
            say(
                f"{world.name}: {world.series} series, training from {world.training_start}, "
                f"{world.detection_days} detection days from {world.detection_start}: building"
            )
            database = Path(folder) / world.name / "mrs.duckdb"
            dbt_vars: dict[str, object] = {
                "mrs_input_dir": inputs.as_posix(),
                "training_start": f"{world.training_start}",
                "detection_start": f"{world.detection_start}",
            }
            build_world(database, dbt_vars, world.name)
            scores.append(score_real_database(world, database))
    return scores + [naive_scores(world) for world in worlds]


def format_real(scores: Sequence[RealScores]) -> list[str]:
    lines = [
        "real series (no injected anomaly: a report is explained when the data's own labels "
        "name its holiday or weather)",
        f"{'data':<10} {'detector':<8} {'series-days':>11} {'reports':>7} {'events':>6} "
        f"{'/1,000':>7} {'holiday':>7} {'weather':>7} {'unexpl.':>7} {'/1,000':>7} "
        f"{'cause right':>11}",
    ]
    for score in scores:
        explained = score.count() - score.count("unexplained")
        cause = f"{score.cause_right}/{explained}" if score.detector == "mrs" else "-"
        events = "-" if score.events is None else str(score.events)
        lines.append(
            f"{score.name:<10} {score.detector:<8} {score.series_days:>11,} {score.count():>7} "
            f"{events:>6} {score.per_thousand_days():>7.2f} {score.count('holiday'):>7} "
            f"{score.count('weather'):>7} {score.count('unexplained'):>7} "
            f"{score.per_thousand_days('unexplained'):>7.2f} {cause:>11}"
        )
    lines.append(
        f"naive: an hour at |z| >= {NAIVE_Z:g} against its hour of the week's median and MAD in "
        f"the training weeks; flagged hours at most {NAIVE_GAP_HOURS} h apart are one report"
    )
    lines.append("the pipeline's reports:")
    for score in scores:
        if score.detector != "mrs":
            continue
        for report in score.reports:
            lines.append(
                f"  {score.name:<10} {report.series:<11} {report.direction:<4} "
                f"{report.window_start} - {report.window_end}{' (open)' if report.is_open else ''}"
                f"  {report.label:<11} "
                f"proposed: {report.proposed_cause_category}"
            )
    return lines
