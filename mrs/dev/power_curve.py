"""Scores of a built family world (mrs.dev.world_family) against its truth: a power curve and a
false-alarm table.

Recall alone on a few hand-written stories says nothing about the strength a detector
needs; the power curve says which cumulative strength (mrs.dev.world_family's S) and duration
it finds, and the false-alarm rate on quiet series, with the share of extreme hourly z next
to what a standard normal gives, says what that recall costs. The database is opened
read-only; nothing here changes it.

Rules: a report is its latest row (by written_at, version) unless that row says
'superseded'; its span is [window_start, coalesce(window_end, as_of)). It matches an anomaly
of the same store, sku and direction when the span overlaps the anomaly's window widened by
MATCH_SLACK_HOURS either side (back-dating, late closure).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pandas as pd

from mrs.dev.world_family import PATTERNS, VOLUME_CLASSES
from mrs.pipeline.database_lock import open_database

MATCH_SLACK_HOURS = 12
EXTREME_Z = 3.0
NOMINAL_EXTREME_SHARE = 0.0027  # P(|Z| >= 3) for a standard normal
STRENGTH_BANDS: tuple[tuple[str, float, float], ...] = (
    ("<3 (capped drops)", 0.0, 3.0),
    ("3-5", 3.0, 5.0),
    ("5-8", 5.0, 8.0),
    ("8-12", 8.0, 12.0),
    ("12-20", 12.0, 20.0),
    ("20-30", 20.0, float("inf")),
)
# The two headline strengths: mild anomalies (5 <= S < 8) and strong ones (S >= 8).
MILD_STRENGTH = (5.0, 8.0)
DURATION_BANDS: tuple[tuple[str, int, int], ...] = (
    ("2-4 h", 2, 4),
    ("8-16 h", 8, 16),
    ("24 h", 24, 24),
    ("48-72 h", 48, 72),
)

_REPORTS = """
with settings as (
    select run_id, coalesce(as_of, (select max(written_at) from minority_reports_detected_log))
           as as_of
    from run_settings
),
latest as (
    select r.* from minority_reports_detected_log as r, settings
    where r.run_id = settings.run_id
    qualify row_number() over (partition by r.report_id
                               order by r.written_at desc, r.version desc) = 1
)
select latest.report_id, latest.store_id, latest.sku, latest.direction,
       latest.window_start, coalesce(latest.window_end, settings.as_of) as window_end
from latest, settings
where latest.report_status != 'superseded'
"""
# Every (report, anomaly) pair that matches.
_MATCHES = f"""
select r.report_id, a.anomaly_id
from reports as r
inner join truth_anomalies as a
    on r.store_id = a.store_id and r.sku = a.sku and r.direction = a.direction
    and r.window_start < cast(a.end_ts as timestamp) + interval {MATCH_SLACK_HOURS} hour
    and r.window_end > cast(a.start_ts as timestamp) - interval {MATCH_SLACK_HOURS} hour
"""
# What confirmed each report: the classifier's onset detector of its window, or the store's
# corroboration (anomaly_classifier_decisions). Read where the detection models were built.
_REPORT_DETECTORS = """
select decisions.report_id,
       case when decisions.is_store_corroborated then 'store'
            else coalesce(windows.onset_detector, 'unknown') end
from anomaly_classifier_decisions as decisions
left join anomaly_classifier_model as windows
    on decisions.store_id = windows.store_id and decisions.sku = windows.sku
    and decisions.direction = windows.direction
    and decisions.first_elevated_ts = windows.first_elevated_ts
where decisions.report_id is not null
"""
_HAS_DECISIONS = """
select count(*) = 2 from information_schema.tables
where table_name in ('anomaly_classifier_decisions', 'anomaly_classifier_model')
"""
# The order the detectors are printed in (any other after them, by name).
DETECTORS = ("sharp", "drift", "shift", "store")
_DETECTION_DAYS = """
select datediff('hour', detection_start, coalesce(as_of, last_sales_ts + interval 1 hour)) / 24.0
from run_settings
"""
# Calibration on quiet series' trading hours of the detection window, per volume class and
# pattern, in one pass: the hours with a z and those beyond EXTREME_Z, and each day's squared
# sum of z over the variance the model claims for it (its hours' day inflations, which carry
# the day factor, the level's and the profile's shared errors): 1 on average when the
# baseline is calibrated at the scale the slow detectors add hours up to. A day is the
# baseline's own (baseline_day_start: the stores' clock, from the hour its day starts at;
# baseline_clock_change: the clock a feed left without its zone follows, from the hour
# found).
_CALIBRATION = f"""
with quiet_days as (
    select s.volume_class, s.pattern,
           count(p.residual_z) as hours,
           count(*) filter (where abs(p.residual_z) >= {EXTREME_Z}) as extreme,
           pow(sum(p.residual_z), 2)
           / sum(p.day_inflation) filter (where p.residual_z is not null) as variance_ratio
    from baseline_sales_predictions as p
    inner join truth_series as s on p.store_id = s.store_id and p.sku = s.sku
    cross join {{calendar}} as calendar
    where not s.has_detection_anomaly and p.is_trading_hour
      and p.sales_ts >= (select detection_start from run_settings)
    group by s.volume_class, s.pattern, p.store_id, p.sku, cast(
        case
            when p.sales_ts >= calendar.read_from_ts
                then timezone(calendar.clock_zone, p.sales_ts at time zone 'UTC')
                - to_seconds(calendar.offset_before_seconds)
            else coalesce(
                timezone(calendar.store_timezone, p.sales_ts at time zone 'UTC'), p.sales_ts
            )
        end
        - to_hours(calendar.day_start_hour) as date)
)
-- An exact decimal sum: the same figures whatever order threads add the days in.
select volume_class, pattern, sum(hours), sum(extreme), count(variance_ratio),
       coalesce(cast(sum(cast(variance_ratio as decimal(38, 12))) as double), 0)
from quiet_days
group by all
"""
# The clock a feed left without its zone was found to follow (baseline_clock_change), if any.
_NO_CLOCK_CHANGE = (
    "cast(null as varchar) as clock_zone, cast(null as timestamp) as read_from_ts, "
    "cast(null as bigint) as offset_before_seconds"
)
_DAY_START = "(select day_start_hour, store_timezone, {clock} from baseline_day_start)"
_DAY_START_AND_CLOCK = """(
    select day.day_start_hour, day.store_timezone, clock.clock_zone, clock.read_from_ts,
           clock.offset_before_seconds
    from baseline_day_start as day
    left join baseline_clock_change as clock on clock.is_clock_moved
)"""
# A database built before baseline_day_start (or a scorer's fixture): days at midnight UTC.
_MIDNIGHT_UTC = (
    f"(select 0 as day_start_hour, cast(null as varchar) as store_timezone, {_NO_CLOCK_CHANGE})"
)
_CALENDAR_TABLES = """
select count(*) filter (where table_name = 'baseline_day_start') = 1,
       count(*) filter (where table_name = 'baseline_clock_change') = 1
from information_schema.tables
"""


@dataclass(frozen=True)
class AnomalyOutcome:
    """One detection anomaly and whether any report matched it."""

    seed: int
    anomaly_id: str
    volume_class: str
    pattern: str
    direction: str
    shape: str
    duration_hours: int
    strength: float
    detected: bool


@dataclass(frozen=True)
class QuietCounts:
    """Quiet series (no detection anomaly) of one group: exposure, reports and calibration."""

    series_days: float = 0.0
    reports: int = 0
    trading_hours: int = 0
    extreme_hours: int = 0
    scored_days: int = 0
    day_variance_total: float = 0.0

    def __add__(self, other: QuietCounts) -> QuietCounts:
        return QuietCounts(
            self.series_days + other.series_days,
            self.reports + other.reports,
            self.trading_hours + other.trading_hours,
            self.extreme_hours + other.extreme_hours,
            self.scored_days + other.scored_days,
            self.day_variance_total + other.day_variance_total,
        )

    @property
    def per_thousand_days(self) -> float | None:
        return 1000.0 * self.reports / self.series_days if self.series_days else None

    @property
    def extreme_share(self) -> float | None:
        return self.extreme_hours / self.trading_hours if self.trading_hours else None

    @property
    def day_variance_ratio(self) -> float | None:
        """Mean squared day sum of z over its claimed variance: 1 when calibrated."""
        return self.day_variance_total / self.scored_days if self.scored_days else None


@dataclass(frozen=True)
class WorldSummary:
    seed: int
    null: bool
    anomalies: int
    detected: int
    reports: int
    false_reports: int
    generate_seconds: float = 0.0
    build_seconds: float = 0.0


@dataclass(frozen=True)
class FamilyScores:
    """Scores of one or several family worlds; `combine` sums them."""

    worlds: tuple[WorldSummary, ...] = ()
    anomalies: tuple[AnomalyOutcome, ...] = ()
    reports: int = 0
    matched_reports: int = 0
    false_on_anomalous: int = 0  # false reports on series that have an anomaly
    # Every report, and every false one (quiet series or not), by what confirmed it: a change
    # meant to cut false alarms has to act on the detector they come from, and costs the
    # anomalies that detector finds.
    reports_by_detector: Counter[str] = field(default_factory=Counter)
    false_by_detector: Counter[str] = field(default_factory=Counter)
    # Keyed by volume class and by pattern (the same reports counted in both).
    quiet_by_class: dict[str, QuietCounts] = field(default_factory=dict)
    quiet_by_pattern: dict[str, QuietCounts] = field(default_factory=dict)

    @property
    def false_on_quiet(self) -> int:
        return sum(c.reports for c in self.quiet_by_class.values())

    @property
    def quiet_total(self) -> QuietCounts:
        return sum(self.quiet_by_class.values(), QuietCounts())

    @property
    def precision(self) -> float | None:
        return self.matched_reports / self.reports if self.reports else None


def combine(scores: Iterable[FamilyScores]) -> FamilyScores:
    """Every count summed over the worlds."""
    total = FamilyScores()
    for s in scores:
        total = FamilyScores(
            worlds=total.worlds + s.worlds,
            anomalies=total.anomalies + s.anomalies,
            reports=total.reports + s.reports,
            matched_reports=total.matched_reports + s.matched_reports,
            false_on_anomalous=total.false_on_anomalous + s.false_on_anomalous,
            reports_by_detector=total.reports_by_detector + s.reports_by_detector,
            false_by_detector=total.false_by_detector + s.false_by_detector,
            quiet_by_class=_add_groups(total.quiet_by_class, s.quiet_by_class),
            quiet_by_pattern=_add_groups(total.quiet_by_pattern, s.quiet_by_pattern),
        )
    return total


def _add_groups(a: dict[str, QuietCounts], b: dict[str, QuietCounts]) -> dict[str, QuietCounts]:
    return {key: a.get(key, QuietCounts()) + b.get(key, QuietCounts()) for key in a | b}


def read_truth(truth: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(anomalies, series) of a family world's truth folder."""
    anomalies = pd.read_csv(
        truth / "anomalies.csv",
        parse_dates=["start_ts", "end_ts"],
        dtype={"volume_class": str, "anomaly_id": str, "store_id": str, "sku": str},
    )
    for column in ("start_ts", "end_ts"):  # typed even when a null world has no anomaly
        anomalies[column] = pd.to_datetime(anomalies[column])
    series = pd.read_csv(truth / "series.csv", dtype={"volume_class": str})
    series["has_detection_anomaly"] = series["has_detection_anomaly"].astype(bool)
    return anomalies, series


def score_family_world(database: Path, truth: Path, seed: int, null: bool = False) -> FamilyScores:
    """Score one built family world against its truth folder."""
    anomalies, series = read_truth(truth)
    with open_database(database) as con:
        con.register("truth_anomalies", anomalies)
        con.register("truth_series", series)
        con.execute(f"create temp table reports as {_REPORTS}")
        reports = con.execute("select report_id, store_id, sku from reports").fetchall()
        matches = con.execute(_MATCHES).fetchall()
        days = float(con.execute(_DETECTION_DAYS).fetchone()[0])
        has_day_start, has_clock_change = con.execute(_CALENDAR_TABLES).fetchone()
        calendar = (
            _DAY_START_AND_CLOCK
            if has_day_start and has_clock_change
            else _DAY_START.format(clock=_NO_CLOCK_CHANGE)
            if has_day_start
            else _MIDNIGHT_UTC
        )
        calibration = con.execute(_CALIBRATION.format(calendar=calendar)).fetchall()
        has_decisions = con.execute(_HAS_DECISIONS).fetchone()[0]
        detectors = dict(con.execute(_REPORT_DETECTORS).fetchall()) if has_decisions else {}
    return _scores(seed, null, anomalies, series, reports, matches, days, calibration, detectors)


def _scores(
    seed: int,
    null: bool,
    anomalies: pd.DataFrame,
    series: pd.DataFrame,
    reports: Sequence[tuple[str, str, str]],
    matches: Sequence[tuple[str, str]],
    days: float,
    calibration: Sequence[tuple[str, str, int, int, int, float]],
    detectors: dict[str, str],
) -> FamilyScores:
    detected_ids = {anomaly_id for _, anomaly_id in matches}
    matched_ids = {report_id for report_id, _ in matches}
    info = {(row.store_id, row.sku): row for row in series.itertuples()}
    by_class: dict[str, QuietCounts] = {}
    by_pattern: dict[str, QuietCounts] = {}

    def add(key: tuple[str, str], counts: QuietCounts) -> None:
        row = info[key]
        by_class[row.volume_class] = by_class.get(row.volume_class, QuietCounts()) + counts
        by_pattern[row.pattern] = by_pattern.get(row.pattern, QuietCounts()) + counts

    for row in series.itertuples():
        if not row.has_detection_anomaly:
            add((row.store_id, row.sku), QuietCounts(series_days=days))
    false_on_anomalous = 0
    reports_by_detector = Counter(
        detectors.get(report_id, "unknown") for report_id, _, _ in reports
    )
    false_by_detector = Counter(
        detectors.get(report_id, "unknown")
        for report_id, _, _ in reports
        if report_id not in matched_ids
    )
    for report_id, store, sku in reports:
        if report_id in matched_ids:
            continue
        if info[(store, sku)].has_detection_anomaly:
            false_on_anomalous += 1
        else:
            add((store, sku), QuietCounts(reports=1))
    for volume_class, pattern, hours, extreme, scored_days, ratio_total in calibration:
        counts = QuietCounts(
            trading_hours=int(hours),
            extreme_hours=int(extreme),
            scored_days=int(scored_days),
            day_variance_total=float(ratio_total),
        )
        by_class[volume_class] = by_class.get(volume_class, QuietCounts()) + counts
        by_pattern[pattern] = by_pattern.get(pattern, QuietCounts()) + counts
    outcomes = tuple(
        AnomalyOutcome(
            seed=seed,
            anomaly_id=row.anomaly_id,
            volume_class=row.volume_class,
            pattern=row.pattern,
            direction=row.direction,
            shape=row.shape,
            duration_hours=int(row.duration_hours),
            strength=float(row.strength),
            detected=row.anomaly_id in detected_ids,
        )
        for row in anomalies.itertuples()
    )
    return FamilyScores(
        worlds=(
            WorldSummary(
                seed=seed,
                null=null,
                anomalies=len(outcomes),
                detected=sum(o.detected for o in outcomes),
                reports=len(reports),
                false_reports=len(reports) - len(matched_ids),
            ),
        ),
        anomalies=outcomes,
        reports=len(reports),
        matched_reports=len(matched_ids),
        false_on_anomalous=false_on_anomalous,
        reports_by_detector=reports_by_detector,
        false_by_detector=false_by_detector,
        quiet_by_class=by_class,
        quiet_by_pattern=by_pattern,
    )


def with_timings(scores: FamilyScores, generate: float, build: float) -> FamilyScores:
    """The scores of one world with its generation and build times recorded."""
    worlds = tuple(
        replace(w, generate_seconds=generate, build_seconds=build) for w in scores.worlds
    )
    return replace(scores, worlds=worlds)


# --- tables --------------------------------------------------------------------------------


def _strength_band(strength: float) -> str:
    return next(name for name, low, high in STRENGTH_BANDS if low <= strength < high)


def _duration_band(hours: int) -> str:
    return next(name for name, low, high in DURATION_BANDS if low <= hours <= high)


def _recall(outcomes: Sequence[AnomalyOutcome]) -> tuple[int, int]:
    return sum(o.detected for o in outcomes), len(outcomes)


def _cell(outcomes: Sequence[AnomalyOutcome]) -> str:
    found, total = _recall(outcomes)
    return f"{found}/{total}" if total else "-"


def _strong(outcomes: Sequence[AnomalyOutcome]) -> list[AnomalyOutcome]:
    return [o for o in outcomes if o.strength >= MILD_STRENGTH[1]]


def _mild(outcomes: Sequence[AnomalyOutcome]) -> list[AnomalyOutcome]:
    return [o for o in outcomes if MILD_STRENGTH[0] <= o.strength < MILD_STRENGTH[1]]


def recall_share(found: int, total: int) -> str:
    """`found/total (share)`, or `-` when there is nothing to find."""
    return f"{found}/{total} ({found / total:.0%})" if total else "-"


def headline(scores: FamilyScores) -> dict[str, object]:
    """Recall for S >= 8 and for 5 <= S < 8, precision and false reports per 1,000 quiet
    series-days."""
    quiet = scores.quiet_total
    return {
        "recall_s_ge_8": _recall(_strong(scores.anomalies)),
        "recall_s_5_8": _recall(_mild(scores.anomalies)),
        "precision": (scores.matched_reports, scores.reports),
        "false_reports_per_1000_quiet_series_days": quiet.per_thousand_days,
        "quiet_series_days": quiet.series_days,
        "false_on_quiet": scores.false_on_quiet,
        "false_on_anomalous": scores.false_on_anomalous,
    }


def format_family(scores: FamilyScores) -> list[str]:
    """The per-world lines, the power curve, the headline and the false-alarm table."""
    lines = ["world     anomalies  detected  reports  false   generate   build"]
    for w in scores.worlds:
        label = f"{w.seed}{' (null)' if w.null else ''}"
        lines.append(
            f"{label:<10}{w.anomalies:>6}{w.detected:>11}{w.reports:>9}{w.false_reports:>7}"
            f"{w.generate_seconds:>9.1f} s{w.build_seconds:>7.1f} s"
        )
    lines += ["", *_power_curve_lines(scores), "", *_headline_lines(scores), ""]
    lines += _quiet_lines(scores)
    return lines


def _power_curve_lines(scores: FamilyScores) -> list[str]:
    lines = ["power curve: detected/anomalies by cumulative strength S x duration"]
    header = f"{'S':<18}" + "".join(f"{name:>10}" for name, _, _ in DURATION_BANDS)
    lines.append(header + f"{'all':>14}")
    for band, _, _ in STRENGTH_BANDS:
        row = [o for o in scores.anomalies if _strength_band(o.strength) == band]
        if not row and band.startswith("<"):
            continue
        cells = "".join(
            f"{_cell([o for o in row if _duration_band(o.duration_hours) == d]):>10}"
            for d, _, _ in DURATION_BANDS
        )
        lines.append(f"{band:<18}{cells}{recall_share(*_recall(row)):>14}")
    cells = "".join(
        f"{_cell([o for o in scores.anomalies if _duration_band(o.duration_hours) == d]):>10}"
        for d, _, _ in DURATION_BANDS
    )
    lines.append(f"{'all':<18}{cells}{recall_share(*_recall(scores.anomalies)):>14}")
    for title, key, values in (
        ("direction", "direction", ("up", "down")),
        ("shape", "shape", ("step", "spike", "ramp", "pulse")),
        ("volume class", "volume_class", tuple(name for name, _, _ in VOLUME_CLASSES)),
        ("pattern", "pattern", PATTERNS),
    ):
        parts = []
        for value in values:
            chosen = [o for o in scores.anomalies if getattr(o, key) == value]
            parts.append(
                f"{value} {_cell(chosen)} "
                f"(S>=8: {_cell(_strong(chosen))}, 5-8: {_cell(_mild(chosen))})"
            )
        lines.append(f"{title}: " + ", ".join(parts))
    return lines


def _headline_lines(scores: FamilyScores) -> list[str]:
    h = headline(scores)
    rate = h["false_reports_per_1000_quiet_series_days"]
    return [
        f"recall S >= 8:      {recall_share(*h['recall_s_ge_8'])}",
        f"recall 5 <= S < 8:  {recall_share(*h['recall_s_5_8'])}",
        f"precision:          {recall_share(*h['precision'])} reports match an anomaly",
        "false reports per 1,000 quiet series-days: "
        + (f"{rate:.2f}" if rate is not None else "-")
        + f" ({h['false_on_quiet']} over {h['quiet_series_days']:,.0f} series-days); "
        f"{h['false_on_anomalous']} more on series with an anomaly, matching none",
        "reports by what confirmed them (of which matching no anomaly): "
        + _detector_counts(scores.reports_by_detector, scores.false_by_detector),
    ]


def _detector_counts(reports: Counter[str], false: Counter[str]) -> str:
    """'sharp 640 (19), drift 30 (4), shift 20 (2), store 5 (0)', any other detector after."""
    names = [*DETECTORS, *sorted(set(reports) - set(DETECTORS))]
    return ", ".join(f"{name} {reports[name]} ({false[name]})" for name in names)


def _quiet_lines(scores: FamilyScores) -> list[str]:
    lines = [
        "false alarms and calibration on quiet series (detection window; nominal share of "
        f"|z| >= {EXTREME_Z:g}: {NOMINAL_EXTREME_SHARE:.2%}; day var: a day's sum of z over "
        "the variance the model claims for it, 1.00 when calibrated)",
        f"{'group':<16}{'series-days':>12}{'reports':>9}{'per 1,000':>11}"
        f"{'trading h':>11}{'|z|>=3':>8}{'share':>9}{'day var':>9}",
    ]
    groups = [(f"class {k}", scores.quiet_by_class.get(k)) for k, _, _ in VOLUME_CLASSES]
    groups += [(f"pattern {k}", scores.quiet_by_pattern.get(k)) for k in PATTERNS]
    groups.append(("all", scores.quiet_total))
    for label, counts in groups:
        if counts is None:
            continue
        rate, share = counts.per_thousand_days, counts.extreme_share
        day_ratio = counts.day_variance_ratio
        lines.append(
            f"{label:<16}{counts.series_days:>12,.0f}{counts.reports:>9}"
            f"{(f'{rate:.2f}' if rate is not None else '-'):>11}"
            f"{counts.trading_hours:>11,}{counts.extreme_hours:>8,}"
            f"{(f'{share:.2%}' if share is not None else '-'):>9}"
            f"{(f'{day_ratio:.2f}' if day_ratio is not None else '-'):>9}"
        )
    return lines


def to_json(scores: FamilyScores) -> dict[str, object]:
    """Everything needed to redraw the tables (`mrs evaluate --family --json`)."""
    power = {
        band: {
            d: list(
                _recall(
                    [
                        o
                        for o in scores.anomalies
                        if _strength_band(o.strength) == band
                        and _duration_band(o.duration_hours) == d
                    ]
                )
            )
            for d, _, _ in DURATION_BANDS
        }
        for band, _, _ in STRENGTH_BANDS
    }

    def quiet(groups: dict[str, QuietCounts]) -> dict[str, object]:
        return {
            key: {
                **asdict(c),
                "per_1000_series_days": c.per_thousand_days,
                "extreme_share": c.extreme_share,
                "day_variance_ratio": c.day_variance_ratio,
            }
            for key, c in sorted(groups.items())
        }

    return {
        "worlds": [asdict(w) for w in scores.worlds],
        "headline": {
            k: list(v) if isinstance(v, tuple) else v for k, v in headline(scores).items()
        },
        "power_curve": power,
        "quiet_by_class": quiet(scores.quiet_by_class),
        "quiet_by_pattern": quiet(scores.quiet_by_pattern),
        "quiet_total": quiet({"all": scores.quiet_total})["all"],
        "reports_by_detector": dict(sorted(scores.reports_by_detector.items())),
        "false_by_detector": dict(sorted(scores.false_by_detector.items())),
        "nominal_extreme_share": NOMINAL_EXTREME_SHARE,
        "anomalies": [asdict(o) for o in scores.anomalies],
    }
