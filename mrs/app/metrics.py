"""The headline figures and filters of the All reports page, as plain functions of the data.

The figures themselves are computed in dbt (model review_metrics_by_store, one row of counts
and sums per store, published with the other public models); the page adds up the rows of
the stores it shows. Definitions (shown on the page too):
- anomalies in the last 7 days: reports whose window starts in the `review_recent_days` days
  up to the run's `as_of` (the build's clock, not the wall clock);
- auto-attribution rate: of the approved reports, the share approved with the model's
  proposed cause and category unchanged (no analyst correction);
- protected volume: the anomalous units of approved reports, the sum over them of
  |attributed_sales_total - baseline_sales_total| across the window. The published copy holds
  no prices, so this "protected revenue" figure is in units, not money.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from mrs.pipeline.project import project_root, project_vars


def recent_days() -> int:
    """The days of "anomalies in the last days": var review_recent_days, the one the model
    review_metrics_by_store counts with."""
    return int(project_vars(project_root())["review_recent_days"])


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


@dataclass(frozen=True)
class Headline:
    """The headline figures of a set of stores: the sums of their review_metrics_by_store rows."""

    reports: int
    recent: int
    pending: int
    approved: int
    approved_as_proposed: int
    protected_units: float

    @property
    def auto_attribution_rate(self) -> float | None:
        """Approved as proposed / approved; None when nothing is approved yet."""
        return self.approved_as_proposed / self.approved if self.approved else None


def headline(metrics: pd.DataFrame) -> Headline:
    """Add up the review_metrics_by_store rows shown (all stores, or a reviewer's scope)."""

    totals = metrics.sum(numeric_only=True)  # zeros when no row is shown
    return Headline(
        reports=int(totals["reports"]),
        recent=int(totals["reports_recent"]),
        pending=int(totals["reports_pending"]),
        approved=int(totals["reports_approved"]),
        approved_as_proposed=int(totals["reports_approved_as_proposed"]),
        protected_units=float(totals["protected_units"]),
    )


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
