"""Which log supplied each field of the published record (the `source_used_*` columns)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

# Field group -> (the column naming its source log, the fields it governs), in page order.
REPORT_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "detection",
        "source_used_detection",
        (
            "report_id", "store_id", "sku", "first_detected_from", "window_start",
            "severity_score", "severity_band", "impact_estimate", "attributed_sales_total",
            "baseline_sales_total", "z_score", "direction", "detection_model_version",
            "last_detected_at", "report_status", "run_id",
        ),
    ),
    ("window end", "source_used_window_end", ("window_end", "closure_reason")),
    (
        "clustering",
        "source_used_cluster",
        (
            "cluster_id", "cluster_name", "similarity_score", "cluster_match_confidence",
            "tsne_x", "tsne_y", "cluster_model_version",
        ),
    ),
    (
        "attribution",
        "source_used_attribution",
        (
            "proposed_cause", "proposed_cause_category", "confidence_score",
            "proposed_cause_2", "proposed_cause_category_2", "confidence_score_2",
            "proposed_cause_3", "proposed_cause_category_3", "confidence_score_3",
            "supporting_evidence", "attribution_model_version",
        ),
    ),
    (
        "event (cohorting)",
        "source_used_group_id",
        ("report_group_id", "event_status", "cohort_name", "cohort_reason", "cohort_size"),
    ),
    (
        "finalisation (review)",
        "source_used_final",
        (
            "final_decision", "review_status", "final_cause", "final_cause_category",
            "final_confidence", "finalized_at", "annotation_id", "added_evidence",
        ),
    ),
)  # fmt: skip
EVENT_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "event",
        "source_used_event",
        (
            "report_group_id", "window_start", "window_end", "event_status", "store_count",
            "report_count", "severity", "attributed_sales_total", "baseline_sales_total",
            "proposed_cause", "proposed_cause_category", "confidence_score", "created_at",
            "ended_at", "last_changed_at", "run_id",
        ),
    ),
    (
        "review",
        "source_used_review",
        (
            "final_decision", "final_cause", "final_cause_category", "final_confidence",
            "approved_report_count", "rejected_report_count", "pending_report_count",
            "finalized_at", "added_evidence",
        ),
    ),
)  # fmt: skip
HEALTH_FIELDS = ("is_degraded", "degraded_reasons")
STORE_SOURCE = "stg_stores"
PUBLISHED = "minority_reports"


def provenance_table(
    row: Mapping[str, object],
    groups: tuple[tuple[str, str, tuple[str, ...]], ...],
    *,
    table: str,
    extra_source: tuple[tuple[str, ...], str] | None = None,
) -> pd.DataFrame:
    """Every field of `row` with its group and source log; fields no group governs are shown
    as coming from `table` itself (the source columns and the degradation flags)."""
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for group, source_column, fields in groups:
        source = str(row.get(source_column) or "none")
        for field in fields:
            if field in row:
                rows.append(_row(group, field, row[field], source))
                seen.add(field)
    if extra_source is not None:
        fields, source = extra_source
        for field in fields:
            if field in row:
                rows.append(_row("store", field, row[field], source))
                seen.add(field)
    for field, value in row.items():
        if field not in seen:
            rows.append(_row("record", field, value, table))
    return pd.DataFrame(rows, columns=["group", "field", "value", "source"])


def _row(group: str, field: str, value: object, source: str) -> dict[str, str]:
    return {"group": group, "field": field, "value": display(value), "source": source}


def display(value: object) -> str:
    """A cell as text: lists joined, missing values empty, floats to 4 decimals."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if hasattr(value, "__iter__"):
        return ", ".join(str(item) for item in value)  # type: ignore[attr-defined]
    if isinstance(value, float):
        return "" if pd.isna(value) else f"{value:.4f}"
    if value is pd.NaT or (not isinstance(value, bool) and pd.isna(value)):  # type: ignore[arg-type]
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def score(value: object) -> str:
    """A confidence or score to two decimals; 'n/a' when missing."""
    if value is None or isinstance(value, str) or pd.isna(value):  # type: ignore[arg-type]
        return "n/a"
    return f"{float(value):.2f}"  # type: ignore[arg-type]
