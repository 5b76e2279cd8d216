"""`mrs train attribution_model`: fit the evidence scorer's weights from analysts' decisions.

Outside dbt (DESIGN.md section 6): reads the latest build read-only, writes a candidate
version to the registry journal; it becomes active only when approved.
Training pairs: every direction-compatible evidence row of each finalised report's last
snapshot; the label is 1 when the report was approved with that evidence's category as its
final category, else 0 (a rejected report's evidence explained nothing).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mrs.models.attribution import (
    EVIDENCE_FEATURES,
    AttributionParams,
    evidence_features,
    is_direction_compatible,
)
from mrs.pipeline.project import MrsError
from mrs.registry.records import next_candidate_number, record_in_force, registry_dir, write_record
from mrs.review.context import read_only

# The final state of each report comes from the published minority_reports (active run).
TRAINING_PAIRS = """
select c.*, r.final_decision, r.final_cause_category, r.run_id,
       (select as_of from run_settings) as as_of
from minority_reports as r
inner join attribution_candidates as c
    on c.report_id = r.report_id and c.written_at = r.last_detected_at
where r.final_decision in ('approved', 'rejected')
order by c.report_id, c.evidence_id
"""


def train_attribution(database: Path, l2: float = 1.0) -> dict[str, Any]:
    """Fit, record and return the candidate record of a new attribution version."""
    with read_only(database, wait_seconds=600) as con:
        pairs = con.execute(TRAINING_PAIRS).df()
    pairs = pairs[is_direction_compatible(pairs)].reset_index(drop=True)
    labels = (
        (pairs["final_decision"] == "approved")
        & (pairs["cause_category"] == pairs["final_cause_category"])
    ).to_numpy(dtype=float)
    if len(pairs) < 10 or labels.sum() < 2 or labels.sum() > len(labels) - 2:
        raise MrsError(
            f"not enough finalised decisions to train on ({len(pairs)} evidence pairs, "
            f"{int(labels.sum())} confirmed); approve or reject more reports first"
        )
    params = AttributionParams()
    features = evidence_features(pairs, params).to_numpy(dtype=float)
    weights = _fit_logistic(features, labels, l2)
    probabilities = _sigmoid(weights[0] + features @ weights[1:])
    log_loss = -float(
        np.mean(
            labels * np.log(np.clip(probabilities, 1e-9, 1))
            + (1 - labels) * np.log(np.clip(1 - probabilities, 1e-9, 1))
        )
    )
    folder = registry_dir(database)
    version_number = next_candidate_number(folder, "attribution_model")
    record = {
        "record_type": "candidate",
        "model_name": "attribution_model",
        "model_version": f"evidence-logistic-{version_number}",
        "implementation": "real",
        "trained_on": f"{pairs['report_id'].nunique()} finalised reports of run "
        f"{pairs['run_id'].iloc[0]}",
        "training_start": str(pairs["written_at"].min()),
        "training_end": str(pairs["as_of"].iloc[0]),
        "parameters": {
            "features": list(EVIDENCE_FEATURES),
            "logistic": [round(float(w), 6) for w in weights],
            "l2": l2,
        },
        "metrics": {
            "evidence_pairs": len(pairs),
            "confirmed_pairs": int(labels.sum()),
            "log_loss": round(log_loss, 6),
            "accuracy": round(float(np.mean((probabilities >= 0.5) == (labels == 1))), 6),
        },
        "recorded_at": str(pairs["as_of"].iloc[0]),
        "recorded_by": "mrs train",
    }
    write_record(folder, record)
    return record


def _fit_logistic(features: np.ndarray, labels: np.ndarray, l2: float) -> np.ndarray:
    """Newton's method for L2-penalised logistic regression (intercept not penalised):
    deterministic, a few iterations on a handful of features."""
    design = np.hstack([np.ones((len(features), 1)), features])
    weights = np.zeros(design.shape[1])
    penalty = np.diag([0.0] + [l2] * features.shape[1])
    for _ in range(50):
        probabilities = _sigmoid(design @ weights)
        gradient = design.T @ (probabilities - labels) + penalty @ weights
        hessian = design.T @ (design * (probabilities * (1 - probabilities))[:, None]) + penalty
        step = np.linalg.solve(hessian + 1e-9 * np.eye(len(weights)), gradient)
        weights -= step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    return weights


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(values, -500, 500)))


def params_of(record: dict[str, Any] | None) -> AttributionParams:
    """The scorer parameters of a registry record (the shipped scorer for None)."""
    if record is None:
        return AttributionParams()
    logistic = record.get("parameters", {}).get("logistic")
    return AttributionParams(logistic=tuple(float(w) for w in logistic) if logistic else None)


def describe(record: dict[str, Any] | None) -> pd.Series:
    """model_version, trained_on, model_registry_source, model_confidence_metric of a record."""
    if record is None:
        return pd.Series(
            {
                "model_version": None,
                "trained_on": "shipped with the project",
                "model_registry_source": "model_registry seed",
                "model_confidence_metric": math.nan,
            }
        )
    return pd.Series(
        {
            "model_version": record["model_version"],
            "trained_on": record["trained_on"],
            "model_registry_source": "registry journal",
            "model_confidence_metric": float(record["metrics"]["accuracy"]),
        }
    )


def stamp_version(proposals: pd.DataFrame, record: dict[str, Any] | None) -> pd.DataFrame:
    """Attribution proposals with the columns of the version that made them (`describe`)."""
    for column, value in describe(record).items():
        proposals[column] = value
    return proposals.astype(
        {"model_version": "string", "trained_on": "string", "model_registry_source": "string"}
    )


CONFIRMED_ANOMALIES = """
select store_id, sku, window_start, coalesce(window_end, last_detected_at) as window_end
from minority_reports
where final_decision = 'approved'
  and window_start < cast(? as timestamp)
  and coalesce(window_end, last_detected_at) > cast(? as timestamp)
order by store_id, sku, window_start
"""


def train_baseline(database: Path, training_start: str, training_end: str) -> dict[str, Any]:
    """Record a baseline version fitted on [training_start, training_end) without the
    series-days of the reports analysts approved as anomalies (the fit itself runs in dbt,
    from these parameters, when the version is approved)."""
    if training_start >= training_end:
        raise MrsError("--training-start must be before --training-end")
    with read_only(database, wait_seconds=600) as con:
        anomalies = con.execute(CONFIRMED_ANOMALIES, [training_end, training_start]).df()
        as_of, run_id = con.execute("select as_of, run_id from run_settings").fetchone()
    folder = registry_dir(database)
    number = next_candidate_number(folder, "baseline_sales_model")
    excluded = [
        {
            "store_id": row.store_id,
            "sku": row.sku,
            "window_start": str(row.window_start),
            "window_end": str(row.window_end),
        }
        for row in anomalies.itertuples(index=False)
    ]
    record = {
        "record_type": "candidate",
        "model_name": "baseline_sales_model",
        "model_version": f"robust-hour-of-week-retrained-{number}",
        "implementation": "real",
        "trained_on": f"sales {training_start} to {training_end} of run {run_id}, without "
        f"{len(excluded)} confirmed anomalies",
        "training_start": training_start,
        "training_end": training_end,
        "parameters": {
            "training_start": training_start,
            "training_end": training_end,
            "excluded_windows": excluded,
        },
        "metrics": {"excluded_anomalies": len(excluded)},
        "recorded_at": str(as_of),
        "recorded_by": "mrs train",
    }
    write_record(folder, record)
    return record


APPROVED_SHAPES = """
select c.report_id, c.feature_vector, r.final_cause_category, r.run_id,
       (select as_of from run_settings) as as_of
from minority_reports_clustered_log_current as c
inner join minority_reports as r using (report_id)
where r.final_decision = 'approved'
order by c.report_id
"""
CENTROID_SHRINKAGE = 2.0


def train_centroids(database: Path) -> dict[str, Any]:
    """Record a cluster_comparison_model version whose centroids are recomputed from the
    shape vectors of approved reports: each library cluster moves to the mean of the
    approved reports of its cause, shrunk towards its library centroid by
    CENTROID_SHRINKAGE pseudo-reports (a cluster with one report moves a third of the way)."""
    from mrs.models.features import FEATURE_NAMES

    with read_only(database, wait_seconds=600) as con:
        shapes = con.execute(APPROVED_SHAPES).df()
        library = con.execute("select * from stg_cluster_library order by cluster_id").df()
    if shapes.empty:
        raise MrsError("no approved report to learn shapes from; approve reports first")
    centroids: dict[str, list[float]] = {}
    for cluster in library.itertuples(index=False):
        own = shapes[shapes["final_cause_category"] == cluster.cause_category]
        if own.empty:
            continue
        vectors = np.vstack([np.asarray(v, dtype=float) for v in own["feature_vector"]])
        prior = np.array([getattr(cluster, name) for name in FEATURE_NAMES], dtype=float)
        weight = len(own) / (len(own) + CENTROID_SHRINKAGE)
        centroid = weight * vectors.mean(axis=0) + (1 - weight) * prior
        centroids[cluster.cluster_id] = [round(float(v), 6) for v in centroid]
    accuracy = _nearest_cause_accuracy(shapes, library, centroids)
    folder = registry_dir(database)
    number = next_candidate_number(folder, "cluster_comparison_model")
    record = {
        "record_type": "candidate",
        "model_name": "cluster_comparison_model",
        "model_version": f"cosine-centroid-retrained-{number}",
        "implementation": "real",
        "trained_on": f"{len(shapes)} approved reports of run {shapes['run_id'].iloc[0]}",
        "training_start": None,
        "training_end": str(shapes["as_of"].iloc[0]),
        "parameters": {"centroids": centroids, "shrinkage": CENTROID_SHRINKAGE},
        "metrics": {
            "approved_reports": len(shapes),
            "clusters_moved": len(centroids),
            "accuracy": accuracy,
        },
        "recorded_at": str(shapes["as_of"].iloc[0]),
        "recorded_by": "mrs train",
    }
    write_record(folder, record)
    return record


def library_in_force(
    library: pd.DataFrame, versions: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, Any] | None]:
    """The cluster library as the cluster_comparison_model version in force moves it (from
    model approved_model_versions, `versions`), and that version's registry record (None for
    the shipped library); shared by the report-level and the event-level match."""
    record = record_in_force(versions, "cluster_comparison_model")
    return library_of(library, record), record


def library_of(library: pd.DataFrame, record: dict[str, Any] | None) -> pd.DataFrame:
    """The cluster library with an approved version's centroids in place of its own."""
    from mrs.models.features import FEATURE_NAMES

    if record is None:
        return library
    moved = library.copy()
    for cluster_id, centroid in record["parameters"]["centroids"].items():
        moved.loc[moved["cluster_id"] == cluster_id, list(FEATURE_NAMES)] = centroid
    return moved


def _nearest_cause_accuracy(
    shapes: pd.DataFrame, library: pd.DataFrame, centroids: dict[str, list[float]]
) -> float:
    """Share of the approved reports whose most similar centroid (trained where moved, the
    library's otherwise) is a cluster of their confirmed cause: the version's training fit."""
    from mrs.models.features import FEATURE_NAMES

    matrix = np.vstack(
        [
            centroids.get(row.cluster_id, [float(getattr(row, name)) for name in FEATURE_NAMES])
            for row in library.itertuples(index=False)
        ]
    )
    vectors = np.vstack([np.asarray(v, dtype=float) for v in shapes["feature_vector"]])
    norms = np.linalg.norm(vectors, axis=1, keepdims=True) * np.linalg.norm(matrix, axis=1)
    nearest = np.argmax(vectors @ matrix.T / np.where(norms == 0, 1, norms), axis=1)
    causes = library["cause_category"].to_numpy()[nearest]
    return round(float(np.mean(causes == shapes["final_cause_category"].to_numpy())), 6)
