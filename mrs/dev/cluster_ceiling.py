"""How many reports any shape classifier could name right on a built world (a measurement).

The cluster match is judged against the narratives' cluster names. This module measures
what the data allows, on the same reports (each at its latest snapshot), with two
classifiers that know more than the shipped one:

- `template fit`: the world's own generating curves (mrs.models.shapes), each fitted to the report's
  hours (stretched over the report's window) by weighted least squares with the baseline's
  own variance; the best fit of the report's direction wins. A classifier of the shape
  alone can hardly do much better on these windows than the true templates with the right
  noise weights.
- `noise-free`: the shipped features and library, on the curve the narrative drew over the
  report's detected hours without count noise; what is left are window-edge effects.

Nothing here is used by the pipeline; `mrs evaluate --ceiling` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mrs.dev.narrative_match import REPORT_NARRATIVES
from mrs.models.clustering import match_clusters
from mrs.models.shapes import SHAPES
from mrs.pipeline.database_lock import open_database
from mrs.pipeline.project import MrsError

# Each report's latest snapshot, its hours (clock offsets from its start), the baseline's
# variance, and the narrative it belongs to.
_REPORT_HOURS = f"""
with latest as (
    select report_id, max(written_at) as written_at from report_shape_hours group by report_id
),
story as (
    select distinct report_id, cluster_name, start_ts, end_ts, magnitude
    from ({REPORT_NARRATIVES}) where report_id is not null
)
select h.report_id, story.cluster_name, story.magnitude,
       datediff('hour', story.start_ts, any_value(h.window_start)) as start_offset,
       datediff('hour', story.start_ts, story.end_ts) as narrative_hours,
       list(h.actual_units order by h.sales_ts) as actual,
       list(h.expected_units order by h.sales_ts) as expected,
       list(p.variance_units order by h.sales_ts) as variance,
       list(datediff('hour', h.window_start, h.sales_ts) order by h.sales_ts) as offsets
from report_shape_hours as h
inner join latest on h.report_id = latest.report_id and h.written_at = latest.written_at
inner join story on h.report_id = story.report_id
inner join baseline_sales_predictions as p
    on p.store_id = h.store_id and p.sku = h.sku and p.sales_ts = h.sales_ts
group by h.report_id, story.cluster_name, story.magnitude, story.start_ts, story.end_ts
order by h.report_id, story.cluster_name
"""


@dataclass(frozen=True)
class ClusterCeiling:
    reports: int
    template_fit: int
    noise_free: int


def measure_ceiling(database: Path) -> ClusterCeiling:
    """Reports named right by the template fit and by the shipped match on noise-free curves
    (against the database's own cluster library)."""
    if not database.exists():
        raise MrsError(f"{database} does not exist; build it first (`mrs build`)")
    with open_database(database) as con:
        reports = con.execute(_REPORT_HOURS).df()
        library = con.execute("select * from stg_cluster_library order by cluster_id").df()
    template_fit = 0
    drawn_hours = []
    for report in reports.itertuples(index=False):
        actual = np.asarray(report.actual, dtype=float)
        expected = np.asarray(report.expected, dtype=float)
        fitted = best_template(actual, expected, np.asarray(report.variance, dtype=float))
        template_fit += fitted == report.cluster_name
        drawn = drawn_multiplier(
            report.cluster_name,
            float(report.magnitude),
            report.start_offset + np.asarray(report.offsets, dtype=float),
            float(report.narrative_hours),
        )
        drawn_hours.append(
            pd.DataFrame(
                {
                    "report_id": f"{report.report_id}|{report.cluster_name}",
                    "written_at": pd.Timestamp("2000-01-01"),
                    "sales_ts": np.arange(actual.size),
                    "actual_units": expected * drawn,
                    "expected_units": expected,
                }
            )
        )
    noise_free = 0
    if drawn_hours:
        matches = match_clusters(pd.concat(drawn_hours), library, threshold=0.0)
        wanted = matches["report_id"].str.split("|").str[1]
        noise_free = int((matches["cluster_name"] == wanted).sum())
    return ClusterCeiling(
        reports=len(reports),
        template_fit=template_fit,
        noise_free=noise_free,
    )


def best_template(actual: np.ndarray, expected: np.ndarray, variance: np.ndarray) -> str:
    """The generating shape of the report's direction that fits its hours best."""
    excess = actual - expected
    position = (np.arange(actual.size) + 0.5) / actual.size
    drop = excess.sum() < 0
    weights = 1.0 / np.maximum(variance, 1e-9)
    best_name, best_loss = "", np.inf
    for name, shape in SHAPES.items():
        if (name == "sudden_drop") != drop:
            continue
        template = expected * shape(position)
        scale = (weights * template * excess).sum() / max((weights * template**2).sum(), 1e-12)
        loss = float((weights * (excess - scale * template) ** 2).sum())
        if loss < best_loss:
            best_name, best_loss = name, loss
    return best_name


def drawn_multiplier(
    cluster_name: str, magnitude: float, since_start: np.ndarray, narrative_hours: float
) -> np.ndarray:
    """The multiplier the narrative drew at each hour (clock hours since its start)."""
    length = max(narrative_hours, 1.0)
    inside = (since_start >= 0) & (since_start < length)
    profile = SHAPES[cluster_name](np.clip((since_start + 0.5) / length, 0.0, 1.0))
    return 1.0 + magnitude * np.where(inside, profile, 0.0)
