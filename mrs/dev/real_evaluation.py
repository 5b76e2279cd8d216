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

import duckdb
import pandas as pd

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
from mrs.pipeline.project import WITHOUT_TESTS, MrsError, Project
from mrs.review.journal import ensure_journal

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

    @property
    def series_days(self) -> int:
        return self.series * self.detection_days

    def count(self, label: str | None = None) -> int:
        return sum(1 for report in self.reports if label in (None, report.label))

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
            "reports_per_1000_series_days": round(self.per_thousand_days(), 2),
            "explained_by_holiday": self.count("holiday"),
            "explained_by_weather": self.count("weather"),
            "unexplained": self.count("unexplained"),
            "unexplained_per_1000_series_days": round(self.per_thousand_days("unexplained"), 2),
            "top_cause_right": self.cause_right,
            "report_list": [asdict(report) for report in self.reports],
        }


def label_report(window_start: pd.Timestamp, window_end: pd.Timestamp, hours: pd.DataFrame) -> str:
    """What the data's own labels say of a report's window (its hours from start to end)."""
    inside = hours[(hours["ts"] >= window_start) & (hours["ts"] <= window_end)]
    holidays = hours.loc[hours["is_holiday"], "ts"].dt.normalize()
    if holidays.between(window_start.normalize(), window_end.normalize()).any():
        return "holiday"
    window_hours = int((window_end - window_start) / pd.Timedelta(hours=1)) + 1
    if window_hours and inside["is_wet_weather"].sum() >= WEATHER_SHARE * window_hours:
        return "weather"
    return "unexplained"


def score_real_database(world: RealWorld, database: Path) -> RealScores:
    with duckdb.connect(str(database), read_only=True) as con:
        reports = con.execute(
            "select sku, direction, window_start, window_end, proposed_cause_category "
            "from main.minority_reports order by window_start, sku, direction"
        ).df()
    last_hour = pd.Timestamp(world.hours["ts"].max())
    scored = []
    for row in reports.itertuples():
        start = pd.Timestamp(row.window_start)
        is_open = pd.isna(row.window_end)
        end = last_hour if is_open else pd.Timestamp(row.window_end)
        scored.append(
            RealReport(
                series=row.sku,
                direction=row.direction,
                window_start=f"{start:%Y-%m-%d %H:%M}",
                window_end=f"{end:%Y-%m-%d %H:%M}",
                label=label_report(start, end, world.hours),
                proposed_cause_category=row.proposed_cause_category,
                is_open=is_open,
            )
        )
    return RealScores(
        name=world.name,
        series=world.series,
        detection_days=world.detection_days,
        reports=tuple(scored),
    )


def naive_scores(world: RealWorld) -> RealScores:
    """The naive detector's reports on `world`, labelled as the pipeline's are."""
    hours = pd.DataFrame(
        {
            "ts": pd.to_datetime(world.sales["sales_ts"]),
            "sku": world.sales["sku"],
            "units": world.sales["units"].astype(float),
        }
    )
    reports: list[RealReport] = []
    for sku, series in hours.groupby("sku"):
        every_hour = pd.date_range(series["ts"].min(), series["ts"].max(), freq="h")
        # A missing hour sold nothing, as the pipeline reads it.
        units = series.set_index("ts")["units"].reindex(every_hour, fill_value=0.0)
        hour_of_week = units.index.day_of_week * 24 + units.index.hour
        training = (units.index >= pd.Timestamp(world.training_start)) & (
            units.index < pd.Timestamp(world.detection_start)
        )
        by_hour = units[training].groupby(hour_of_week[training])
        median = by_hour.median()
        mad = by_hour.apply(lambda values: (values - values.median()).abs().median())
        detection = ~training & (units.index >= pd.Timestamp(world.detection_start))
        expected = median.reindex(hour_of_week[detection]).to_numpy()
        spread = 1.4826 * mad.reindex(hour_of_week[detection]).clip(lower=1.0).to_numpy()
        z = (units[detection].to_numpy() - expected) / spread
        flagged = [
            (ts, "up" if score > 0 else "down")
            for ts, score in zip(units.index[detection], z, strict=True)
            if abs(score) >= NAIVE_Z
        ]
        reports += _naive_windows(str(sku), flagged, world.hours)
    reports.sort(key=lambda report: (report.window_start, report.series, report.direction))
    return RealScores(
        name=world.name,
        series=world.series,
        detection_days=world.detection_days,
        reports=tuple(reports),
        detector="naive",
    )


def _naive_windows(
    sku: str, flagged: list[tuple[pd.Timestamp, str]], hours: pd.DataFrame
) -> list[RealReport]:
    """Flagged hours of one direction at most NAIVE_GAP_HOURS apart as one report each."""
    windows: list[list[object]] = []
    for ts, direction in flagged:
        last = windows[-1] if windows else None
        gap = pd.Timedelta(hours=NAIVE_GAP_HOURS)
        if last is not None and last[0] == direction and ts - last[2] <= gap:
            last[2] = ts
        else:
            windows.append([direction, ts, ts])
    return [
        RealReport(
            series=sku,
            direction=str(direction),
            window_start=f"{start:%Y-%m-%d %H:%M}",
            window_end=f"{end:%Y-%m-%d %H:%M}",
            label=label_report(pd.Timestamp(start), pd.Timestamp(end), hours),
            proposed_cause_category=None,
        )
        for direction, start, end in windows
    ]


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
            project = Project.locate(Path(folder) / world.name / "mrs.duckdb")
            ensure_journal(project.database)
            code = project.dbt_in_process(
                ["build", "--quiet", *WITHOUT_TESTS],
                {
                    "mrs_input_dir": inputs.as_posix(),
                    "training_start": f"{world.training_start}",
                    "detection_start": f"{world.detection_start}",
                },
            )
            if code != 0:
                raise MrsError(f"the build of {world.name} failed; see the dbt output above")
            scores.append(score_real_database(world, project.database))
    return scores + [naive_scores(world) for world in worlds]


def format_real(scores: Sequence[RealScores]) -> list[str]:
    lines = [
        "real series (no injected anomaly: a report is explained when the data's own labels "
        "name its holiday or weather)",
        f"{'data':<10} {'detector':<8} {'series-days':>11} {'reports':>7} {'/1,000':>7} "
        f"{'holiday':>7} {'weather':>7} {'unexpl.':>7} {'/1,000':>7} {'cause right':>11}",
    ]
    for score in scores:
        explained = score.count() - score.count("unexplained")
        cause = f"{score.cause_right}/{explained}" if score.detector == "mrs" else "-"
        lines.append(
            f"{score.name:<10} {score.detector:<8} {score.series_days:>11,} {score.count():>7} "
            f"{score.per_thousand_days():>7.2f} {score.count('holiday'):>7} "
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
