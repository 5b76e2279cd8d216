"""The headline figures and filters of the All reports page, as plain functions of the data.

Definitions (shown on the page too):
- anomalies in the last 7 days: reports whose window starts in the 7 days up to the run's
  `as_of` (the build's clock, not the wall clock);
- auto-attribution rate: of the approved reports, the share approved with the model's
  proposed cause and category unchanged (no analyst correction);
- protected volume: the anomalous units of approved reports, the sum over them of
  |attributed_sales_total - baseline_sales_total| across the window. The published copy holds
  no prices, so this "protected revenue" figure is in units, not money.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd

RECENT_DAYS = 7
# Confidence bands of the final confidence: [0, 0.4) low, [0.4, 0.7) medium, [0.7, 1] high.
BANDS = (("low", 0.0), ("medium", 0.4), ("high", 0.7))
NO_CONFIDENCE = "none"
BAND_HELP = "final confidence: low < 0.4 <= medium < 0.7 <= high; none when there is no score"


def confidence_band(value: object) -> str:
    """The band of one confidence value; 'none' for a missing one."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NO_CONFIDENCE
    band = BANDS[0][0]
    for name, lower in BANDS:
        if float(value) >= lower:  # type: ignore[arg-type]
            band = name
    return band


def recent_anomalies(reports: pd.DataFrame, as_of: dt.datetime | None) -> int:
    """Reports whose window starts within RECENT_DAYS before `as_of` (all of them if None)."""
    if reports.empty:
        return 0
    starts = pd.to_datetime(reports["window_start"])
    if as_of is None:
        return int(starts.notna().sum())
    end = pd.Timestamp(as_of)
    return int(((starts > end - pd.Timedelta(days=RECENT_DAYS)) & (starts <= end)).sum())


def auto_attribution_rate(reports: pd.DataFrame) -> float | None:
    """Share of approved reports whose final cause and category are the proposal; None when
    nothing is approved yet."""
    approved = reports[reports["final_decision"] == "approved"]
    if approved.empty:
        return None
    unchanged = (approved["final_cause"] == approved["proposed_cause"]) & (
        approved["final_cause_category"] == approved["proposed_cause_category"]
    )
    return float(unchanged.mean())


def protected_units(reports: pd.DataFrame) -> float:
    """Sum of |attributed - baseline| units over the approved reports' windows."""
    approved = reports[reports["final_decision"] == "approved"]
    if approved.empty:
        return 0.0
    gap = (approved["attributed_sales_total"] - approved["baseline_sales_total"]).abs()
    return float(gap.fillna(0.0).sum())


@dataclass(frozen=True)
class Filters:
    """The All reports filters; an empty selection means 'any'."""

    retailers: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    decisions: tuple[str, ...] = ("pending",)
    review_statuses: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    bands: tuple[str, ...] = ()


def with_bands(reports: pd.DataFrame) -> pd.DataFrame:
    """The reports with a `confidence_band` column of their final confidence."""
    banded = reports.copy()
    banded["confidence_band"] = [confidence_band(value) for value in banded["final_confidence"]]
    return banded


def apply_filters(reports: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """The reports matching every non-empty filter."""
    banded = with_bands(reports)
    keep = pd.Series(True, index=banded.index)
    for column, chosen in (
        ("retailer", filters.retailers),
        ("region", filters.regions),
        ("final_decision", filters.decisions),
        ("review_status", filters.review_statuses),
        ("final_cause_category", filters.categories),
        ("confidence_band", filters.bands),
    ):
        if chosen:
            keep &= banded[column].isin(chosen)
    return banded[keep]


# Merged events (their reports joined an earlier event) are listed last.
EVENT_ORDER = {"active": 0, "ended": 1, "merged": 2}


def events_in_review_order(events: pd.DataFrame) -> pd.DataFrame:
    """Active events first, then ended, then merged; newest window first within each."""
    order = events["event_status"].map(EVENT_ORDER).fillna(len(EVENT_ORDER))
    return (
        events.assign(_order=order)
        .sort_values(["_order", "window_start"], ascending=[True, False], kind="stable")
        .drop(columns="_order")
    )


def options(reports: pd.DataFrame, column: str) -> list[str]:
    """The distinct non-empty values of a column, sorted: a filter's choices."""
    if reports.empty or column not in reports:
        return []
    return sorted(str(value) for value in reports[column].dropna().unique())
