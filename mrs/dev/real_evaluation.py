"""`mrs evaluate --real`: the pipeline on public real hourly demand series (mrs.dev.real_series).

Nobody here generated these series and none carries injected anomalies, so the score is
what a user of real data sees: how many reports a build raises per 1,000 series-days, and
how many of them the data's own labels explain. A report is explained by a **holiday** when
its window touches a day the data flags as one, and by **weather** when at least a third of
its hours had rain or snow; anything else is unexplained (a real cause the data does not
label, or a false report). Attribution is scored on the explained reports: is the top
proposed cause the label's?
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pandas as pd

from mrs.dev.real_series import (
    BIKESHARE_WHEEL,
    TAYLOR_WHEEL,
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


@dataclass(frozen=True)
class RealReport:
    series: str
    direction: str
    window_start: str
    window_end: str
    label: str  # holiday, weather or unexplained
    proposed_cause_category: str | None


@dataclass(frozen=True)
class RealScores:
    name: str
    series: int
    detection_days: int
    reports: tuple[RealReport, ...]

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
    return RealScores(
        name=world.name,
        series=world.series,
        detection_days=world.detection_days,
        reports=tuple(
            RealReport(
                series=row.sku,
                direction=row.direction,
                window_start=f"{pd.Timestamp(row.window_start):%Y-%m-%d %H:%M}",
                window_end=f"{pd.Timestamp(row.window_end):%Y-%m-%d %H:%M}",
                label=label_report(
                    pd.Timestamp(row.window_start), pd.Timestamp(row.window_end), world.hours
                ),
                proposed_cause_category=row.proposed_cause_category,
            )
            for row in reports.itertuples()
        ),
    )


def evaluate_real(
    say: Callable[[str], None], work_dir: Path | None, wheel_cache: Path
) -> list[RealScores]:
    """Fetch the two series' wheels (once), build each world into a throw-away database in
    this process, and score it."""
    worlds = [
        bikeshare_world(fetch_wheel(*BIKESHARE_WHEEL, wheel_cache, say)),
        taylor_world(fetch_wheel(*TAYLOR_WHEEL, wheel_cache, say)),
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
    return scores


def format_real(scores: Sequence[RealScores]) -> list[str]:
    lines = [
        "real series (no injected anomaly: a report is explained when the data's own labels "
        "name its holiday or weather)",
        f"{'data':<10} {'series-days':>11} {'reports':>7} {'/1,000':>7} {'holiday':>7} "
        f"{'weather':>7} {'unexpl.':>7} {'/1,000':>7} {'cause right':>11}",
    ]
    for score in scores:
        explained = score.count() - score.count("unexplained")
        lines.append(
            f"{score.name:<10} {score.series_days:>11,} {score.count():>7} "
            f"{score.per_thousand_days():>7.2f} {score.count('holiday'):>7} "
            f"{score.count('weather'):>7} {score.count('unexplained'):>7} "
            f"{score.per_thousand_days('unexplained'):>7.2f} "
            f"{f'{score.cause_right}/{explained}':>11}"
        )
    lines.append("reports:")
    for score in scores:
        for report in score.reports:
            lines.append(
                f"  {score.name:<10} {report.series:<11} {report.direction:<4} "
                f"{report.window_start} - {report.window_end}  {report.label:<11} "
                f"proposed: {report.proposed_cause_category}"
            )
    return lines
