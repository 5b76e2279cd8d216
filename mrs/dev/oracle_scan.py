"""What the data allows a detector of family worlds: an oracle scan (`mrs evaluate --family
--oracle`).

The oracle knows what no model can: every series' null mean hour by hour, its negative-binomial
shape and its day-noise sd (mrs.dev.world_family). Over the detection days it scans windows of
fixed lengths (2 to 72 hours, every start) and scores each by the window's excess units over
the null mean, divided by the window sd the strength S is measured in (`window_sd`). An
alarm is a window at or beyond a threshold in one direction; alarms of one series and
direction whose ends are at most a day apart are one report. At each threshold of a grid it
counts the reports on quiet series per 1,000 series-days and the anomalies whose window any
alarm overlaps, by strength. Read against the detector's own figures at the same false-alarm
rate, it says how much of a miss is the learnt baseline's and how much the noise's draw. It
is a reference, not a strict bound: its score is Gaussian in form, so with one threshold the
skewed counts of a product selling a unit an hour set that threshold for every series, and a
detector that models their skew can do better at a low false-alarm rate; a threshold per
volume class takes that away (`OracleScores.per_class_within`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from mrs.dev.power_curve import MILD_STRENGTH, recall_share
from mrs.dev.world_family import Anomaly, FamilyWorld, draw_units, hour_variance

WINDOW_HOURS = (2, 3, 4, 6, 8, 12, 16, 24, 36, 48, 72)
THRESHOLDS = tuple(4.0 + 0.25 * k for k in range(25))  # 4.0 to 10.0
# Alarms of one series and direction whose ends are at most this far apart are one report.
REPORT_GAP_HOURS = 24


def _add(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(x + y for x, y in zip(a, b, strict=True))


@dataclass(frozen=True)
class OracleCounts:
    """Per threshold (THRESHOLDS' order): reports on quiet series, and anomalies found; of
    one volume class or summed over several."""

    quiet_series_days: float = 0.0
    false_reports: tuple[int, ...] = (0,) * len(THRESHOLDS)
    mild_found: tuple[int, ...] = (0,) * len(THRESHOLDS)
    strong_found: tuple[int, ...] = (0,) * len(THRESHOLDS)
    mild: int = 0  # anomalies of 5 <= S < 8
    strong: int = 0  # anomalies of S >= 8

    def __add__(self, other: OracleCounts) -> OracleCounts:
        return OracleCounts(
            quiet_series_days=self.quiet_series_days + other.quiet_series_days,
            false_reports=_add(self.false_reports, other.false_reports),
            mild_found=_add(self.mild_found, other.mild_found),
            strong_found=_add(self.strong_found, other.strong_found),
            mild=self.mild + other.mild,
            strong=self.strong + other.strong,
        )

    def per_thousand_days(self, k: int) -> float | None:
        if not self.quiet_series_days:
            return None
        return 1000.0 * self.false_reports[k] / self.quiet_series_days

    def threshold_within(self, rate: float) -> int | None:
        """Index of the lowest threshold whose false reports per 1,000 quiet series-days are
        at most `rate` (None: none is, or there is no quiet series)."""
        for k in range(len(THRESHOLDS)):
            per = self.per_thousand_days(k)
            if per is not None and per <= rate:
                return k
        return None


@dataclass(frozen=True)
class OracleScores:
    """The oracle's counts per volume class."""

    by_class: dict[str, OracleCounts] = field(default_factory=dict)

    def __add__(self, other: OracleScores) -> OracleScores:
        classes = sorted(set(self.by_class) | set(other.by_class))
        return OracleScores(
            {
                c: self.by_class.get(c, OracleCounts()) + other.by_class.get(c, OracleCounts())
                for c in classes
            }
        )

    @property
    def total(self) -> OracleCounts:
        return sum(self.by_class.values(), OracleCounts())

    def per_class_within(self, rate: float) -> tuple[int, int, int, int, float] | None:
        """With each volume class at its own lowest threshold within `rate` (the oracle
        knows each class's null tail, skewed where a series sells a unit an hour): (strong
        found, strong, mild found, mild, false reports per 1,000); None when a class has no
        threshold within it."""
        strong_found = strong = mild_found = mild = false = 0
        days = 0.0
        for counts in self.by_class.values():
            k = counts.threshold_within(rate)
            if k is None:
                return None
            strong_found += counts.strong_found[k]
            mild_found += counts.mild_found[k]
            strong += counts.strong
            mild += counts.mild
            false += counts.false_reports[k]
            days += counts.quiet_series_days
        return strong_found, strong, mild_found, mild, 1000.0 * false / days


def window_statistics(world: FamilyWorld, units: np.ndarray) -> dict[int, np.ndarray]:
    """Per window length: the oracle's statistic of every window starting at a detection hour
    (stores x products x starts; start j is the detection's j-th hour)."""
    mean = world.null_mean
    first = world.options.training_days * 24
    hours = mean.shape[2]
    zero = np.zeros((*mean.shape[:2], 1))
    mean_sum = np.concatenate([zero, np.cumsum(mean, axis=2)], axis=2)
    unit_sum = np.concatenate([zero, np.cumsum(units, axis=2)], axis=2)
    variance = hour_variance(mean, world.nb_shape[:, :, None])
    variance_sum = np.concatenate([zero, np.cumsum(variance, axis=2)], axis=2)
    day_noise = world.day_noise_sd[:, :, None] ** 2
    statistics = {}
    for length in WINDOW_HOURS:
        start = np.arange(first, hours - length + 1)
        end = start + length
        # The day factor is shared by a day's hours: each calendar day in the window adds
        # its sd squared times the square of its hours' mean total (window_sd).
        day_part = np.zeros((*mean.shape[:2], len(start)))
        for offset in range(length // 24 + 2):
            day = start // 24 + offset
            low = np.minimum(np.maximum(start, day * 24), hours)
            high = np.minimum(np.minimum(end, day * 24 + 24), hours)
            day_mean = np.where(high > low, mean_sum[:, :, high] - mean_sum[:, :, low], 0.0)
            day_part += day_mean**2
        variance = variance_sum[:, :, end] - variance_sum[:, :, start] + day_noise * day_part
        excess = (unit_sum[:, :, end] - unit_sum[:, :, start]) - (
            mean_sum[:, :, end] - mean_sum[:, :, start]
        )
        safe = np.where(variance > 0, variance, 1.0)
        statistics[length] = np.where(variance > 0, excess / np.sqrt(safe), 0.0)
    return statistics


def _reports(ends: Iterable[int]) -> int:
    """Alarm ends of one series and direction merged into reports."""
    count, last = 0, None
    for end in sorted(set(ends)):
        if last is None or end - last > REPORT_GAP_HOURS:
            count += 1
        last = end
    return count


def score_oracle(world: FamilyWorld, units: np.ndarray | None = None) -> OracleScores:
    """The oracle's counts on one world, per volume class (its units drawn as the world's
    sales file has them unless given)."""
    units = draw_units(world) if units is None else units
    statistics = window_statistics(world, units)
    first = world.options.training_days * 24
    touched = {(a.store, a.product) for a in world.anomalies}
    stores, products = world.null_mean.shape[:2]
    by_class: dict[str, OracleCounts] = {}
    for s in range(stores):
        for p in range(products):
            if (s, p) in touched:
                continue
            false_reports = tuple(
                sum(
                    _reports(
                        int(first + j + length)
                        for length, stat in statistics.items()
                        for j in np.flatnonzero(sign * stat[s, p] >= threshold)
                    )
                    for sign in (1.0, -1.0)
                )
                for threshold in THRESHOLDS
            )
            quiet = OracleCounts(
                quiet_series_days=float(world.options.detection_days),
                false_reports=false_reports,
            )
            volume = world.volume_class[p]
            by_class[volume] = by_class.get(volume, OracleCounts()) + quiet
    for a in world.anomalies:
        if a.strength < MILD_STRENGTH[0]:
            continue
        found = tuple(int(_best_alarm(statistics, first, a) >= t) for t in THRESHOLDS)
        none = (0,) * len(THRESHOLDS)
        mild = a.strength < MILD_STRENGTH[1]
        outcome = OracleCounts(
            mild_found=found if mild else none,
            strong_found=none if mild else found,
            mild=int(mild),
            strong=int(not mild),
        )
        volume = world.volume_class[a.product]
        by_class[volume] = by_class.get(volume, OracleCounts()) + outcome
    return OracleScores(by_class)


def _best_alarm(statistics: dict[int, np.ndarray], first: int, anomaly: Anomaly) -> float:
    """The largest statistic, in the anomaly's direction, of the windows that overlap it."""
    sign = 1.0 if anomaly.direction == "up" else -1.0
    best = -np.inf
    for length, stat in statistics.items():
        start = first + np.arange(stat.shape[2])
        overlaps = (start < anomaly.start_hour + anomaly.duration_hours) & (
            start + length > anomaly.start_hour
        )
        if overlaps.any():
            values = sign * stat[anomaly.store, anomaly.product][overlaps]
            best = max(best, float(np.max(values)))
    return best


def format_oracle(scores: OracleScores, detector_rate: float | None) -> list[str]:
    """The oracle's table (one threshold for every series), and its recall at the detector's
    false-alarm rate and at 1 per 1,000 quiet series-days, with one threshold and with a
    threshold per volume class."""
    counts = scores.total
    lines = [
        "",
        "oracle: knows every series' null mean and noise, scans windows of "
        f"{WINDOW_HOURS[0]}-{WINDOW_HOURS[-1]} h over the detection days (what the data "
        "allows a detector that must learn the baseline)",
        f"{'threshold':<11}{'false per 1,000':>16}{'recall S>=8':>18}{'recall 5-8':>18}",
    ]
    for k, threshold in enumerate(THRESHOLDS):
        if k % 2:  # the table every half sigma; the recall below from the whole grid
            continue
        rate = counts.per_thousand_days(k)
        lines.append(
            f"{threshold:<11.2f}{(f'{rate:.2f}' if rate is not None else '-'):>16}"
            f"{recall_share(counts.strong_found[k], counts.strong):>18}"
            f"{recall_share(counts.mild_found[k], counts.mild):>18}"
        )
    targets = [("1 per 1,000", 1.0)]
    if detector_rate is not None:
        targets.insert(0, (f"the detector's {detector_rate:.2f} per 1,000", detector_rate))
    for label, rate in targets:
        k = counts.threshold_within(rate)
        one = (
            "no threshold of the grid is within it"
            if k is None
            else f"threshold {THRESHOLDS[k]:.2f}: recall S>=8 "
            f"{recall_share(counts.strong_found[k], counts.strong)}, 5-8 "
            f"{recall_share(counts.mild_found[k], counts.mild)}"
        )
        lines.append(f"oracle at {label}, one threshold, {one}")
        per_class = scores.per_class_within(rate)
        if per_class is None:
            lines.append(f"oracle at {label}, a threshold per volume class: a class has none")
        else:
            strong_found, strong, mild_found, mild, false = per_class
            lines.append(
                f"oracle at {label}, a threshold per volume class ({false:.2f} per 1,000): "
                f"recall S>=8 {recall_share(strong_found, strong)}, "
                f"5-8 {recall_share(mild_found, mild)}"
            )
    return lines


def oracle_json(scores: OracleScores) -> dict[str, object]:
    """The oracle's counts per volume class and threshold (`mrs evaluate --json`)."""

    def table(counts: OracleCounts) -> dict[str, object]:
        return {
            "quiet_series_days": counts.quiet_series_days,
            "mild": counts.mild,
            "strong": counts.strong,
            "by_threshold": [
                {
                    "threshold": t,
                    "false_reports": counts.false_reports[k],
                    "per_1000_series_days": counts.per_thousand_days(k),
                    "mild_found": counts.mild_found[k],
                    "strong_found": counts.strong_found[k],
                }
                for k, t in enumerate(THRESHOLDS)
            ],
        }

    return {
        "window_hours": list(WINDOW_HOURS),
        "all": table(scores.total),
        "by_class": {c: table(counts) for c, counts in sorted(scores.by_class.items())},
    }
