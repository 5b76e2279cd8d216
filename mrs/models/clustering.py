"""Cluster comparison: which library shape a report looks like (cluster_comparison_model),
and which one an event's reports look like together (event_cluster_matches).

Plain pandas/numpy over the reports' own hours; nothing here knows about dbt.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from mrs.models.features import FEATURE_NAMES, shape_vector

UNCLASSIFIED = "unclassified"
# Typed even with no row: an object column of no rows reached DuckDB as INTEGER.
FEATURE_VECTOR = pd.ArrowDtype(pa.list_(pa.float64()))
MATCH_COLUMNS: dict[str, str | pd.ArrowDtype] = {
    "report_id": "string",
    "written_at": "datetime64[us]",
    "feature_vector": FEATURE_VECTOR,
    "cluster_id": "string",
    "cluster_name": "string",
    "similarity_score": "float64",
    "cluster_match_confidence": "float64",
    "tsne_x": "float64",
    "tsne_y": "float64",
}
EVENT_MATCH_COLUMNS: dict[str, str | pd.ArrowDtype] = {
    "report_group_id": "string",
    "report_count": "int32",
    "pooled_hours": "int32",
    "feature_vector": FEATURE_VECTOR,
    "cluster_id": "string",
    "cluster_name": "string",
    "similarity_score": "float64",
    "cluster_match_confidence": "float64",
}
# How sharply the map position follows the most similar centroids.
_MAP_TEMPERATURE = 0.05


def snapshot_vectors(hours: pd.DataFrame) -> pd.DataFrame:
    """The shape vector of every report snapshot (report_id, written_at) from its hours."""
    rows = []
    ordered = hours.sort_values(["report_id", "written_at", "sales_ts"], kind="stable")
    for (report_id, written_at), group in ordered.groupby(["report_id", "written_at"], sort=True):
        vector = shape_vector(
            group["actual_units"].to_numpy(dtype=float),
            group["expected_units"].to_numpy(dtype=float),
        )
        rows.append({"report_id": report_id, "written_at": written_at, "vector": vector})
    return pd.DataFrame(rows, columns=["report_id", "written_at", "vector"])


def match_clusters(hours: pd.DataFrame, library: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Real version: cosine similarity of each snapshot's vector to the library centroids.

    The best centroid of the report's own direction names the cluster unless its similarity
    is below `threshold` (then 'unclassified'). Confidence is the similarity scaled by how
    clearly the best beats the runner-up. Map coordinates are a similarity-weighted mean of
    the centroids' own coordinates, so reports land beside the shapes they resemble.
    """
    vectors = snapshot_vectors(hours)
    if vectors.empty:
        return _typed([])
    if library.empty:
        # Nothing to compare with (an empty cluster_library): every shape is unclassified,
        # and its vector is still logged.
        return _typed(
            [
                {
                    "report_id": snapshot.report_id,
                    "written_at": snapshot.written_at,
                    "feature_vector": [round(float(v), 6) for v in snapshot.vector],
                    "cluster_id": None,
                    "cluster_name": UNCLASSIFIED,
                    "similarity_score": None,
                    "cluster_match_confidence": 0.0,
                    "tsne_x": None,
                    "tsne_y": None,
                }
                for snapshot in vectors.itertuples(index=False)
            ]
        )
    centroids = library[list(FEATURE_NAMES)].to_numpy(dtype=float)
    matrix = np.vstack(vectors["vector"].to_numpy())
    similarity = _cosine(matrix, centroids)
    # A drop never looks like an uplift, however alike the curves: only centroids of the
    # report's own direction (or of none) can be its cluster.
    compatible = _same_direction(matrix, centroids)
    ranked = np.where(compatible, similarity, -np.inf)
    order = np.argsort(-ranked, axis=1, kind="stable")
    rows_index = np.arange(len(matrix))
    best = ranked[rows_index, order[:, 0]]
    has_match = np.isfinite(best)
    best = np.where(has_match, best, similarity.max(axis=1))
    runner_up = ranked[rows_index, order[:, 1]] if centroids.shape[0] > 1 else best * 0
    runner_up = np.where(np.isfinite(runner_up), runner_up, -1.0)
    margin = np.clip((best - runner_up) / np.maximum(np.abs(best), 1e-9), 0.0, 1.0)
    confidence = np.where(has_match, np.clip(best, 0.0, 1.0) * (0.5 + 0.5 * margin), 0.0)
    # The map places a report among the centroids it may belong to (all of them when none).
    placed = np.where(has_match[:, None], ranked, similarity)
    weights = np.exp((placed - placed.max(axis=1, keepdims=True)) / _MAP_TEMPERATURE)
    weights /= weights.sum(axis=1, keepdims=True)
    coordinates = library[["tsne_x", "tsne_y"]].to_numpy(dtype=float)
    coordinates = np.nan_to_num(coordinates)
    position = weights @ coordinates

    rows = []
    for i, snapshot in enumerate(vectors.itertuples(index=False)):
        centroid = library.iloc[int(order[i, 0])]
        matched = bool(has_match[i]) and best[i] >= threshold
        rows.append(
            {
                "report_id": snapshot.report_id,
                "written_at": snapshot.written_at,
                "feature_vector": [round(float(v), 6) for v in snapshot.vector],
                "cluster_id": centroid["cluster_id"] if matched else None,
                "cluster_name": centroid["cluster_name"] if matched else UNCLASSIFIED,
                "similarity_score": round(float(best[i]), 6),
                "cluster_match_confidence": round(float(confidence[i]), 6),
                "tsne_x": round(float(position[i, 0]), 4),
                "tsne_y": round(float(position[i, 1]), 4),
            }
        )
    return _typed(rows)


def narrative_clusters(
    hours: pd.DataFrame, narratives: pd.DataFrame, library: pd.DataFrame
) -> pd.DataFrame:
    """Mock version: the cluster named by the master narrative the report overlaps."""
    vectors = snapshot_vectors(hours)
    if vectors.empty:
        return _typed([])
    keys = hours.drop_duplicates(["report_id", "written_at"])[
        ["report_id", "written_at", "store_id", "sku", "window_start"]
    ]
    snapshots = vectors.merge(keys, on=["report_id", "written_at"], how="left")
    by_name = {row.cluster_name: row for row in library.itertuples(index=False)}
    rows = []
    for snapshot in snapshots.itertuples(index=False):
        story = narratives[
            (narratives["store_id"] == snapshot.store_id)
            & (narratives["sku"] == snapshot.sku)
            & (narratives["start_ts"] <= snapshot.written_at)
            & (narratives["end_ts"] > snapshot.window_start)
        ].sort_values("start_ts", kind="stable")
        centroid = by_name.get(story.iloc[0]["cluster_name"]) if len(story) else None
        rows.append(
            {
                "report_id": snapshot.report_id,
                "written_at": snapshot.written_at,
                "feature_vector": [round(float(v), 6) for v in snapshot.vector],
                "cluster_id": centroid.cluster_id if centroid else None,
                "cluster_name": centroid.cluster_name if centroid else UNCLASSIFIED,
                "similarity_score": 0.95 if centroid else 0.0,
                "cluster_match_confidence": float(story.iloc[0]["confidence"]) if centroid else 0.0,
                "tsne_x": float(centroid.tsne_x) if centroid else 0.0,
                "tsne_y": float(centroid.tsne_y) if centroid else 0.0,
            }
        )
    return _typed(rows)


def pool_event_hours(hours: pd.DataFrame) -> pd.DataFrame:
    """One pooled curve per event from its member reports' hours (the event-level shape).

    `hours` has report_group_id, report_id, sales_ts, actual_units and expected_units (each
    member's trading hours over its own window). Each member's relative excess over its
    baseline, the curve the shape features read, is stretched over its own window onto a
    common grid of the members' median length, and the members' curves are averaged with
    equal weights: a report's count noise averages out across the members, and one busy
    member whose window was cut long does not carry the event, as it can when the members
    are weighted by their noise or their units are summed hour by hour on the event's clock.
    The pooled baseline is the mean of the members' baselines, each scaled to its own mean,
    and the pooled actual is rebuilt from it, so a one-report event has exactly its report's
    curve (and features).

    Returns report_group_id, report_count, position (0 .. pooled hours - 1), actual_units and
    expected_units, ordered by event and position; deterministic whatever the input order.
    """
    rows: list[pd.DataFrame] = []
    ordered = hours.sort_values(["report_group_id", "report_id", "sales_ts"], kind="stable")
    for event_id, event in ordered.groupby("report_group_id", sort=True):
        members = [member for _, member in event.groupby("report_id", sort=True)]
        length = max(int(np.floor(np.median([len(member) for member in members]) + 0.5)), 1)
        grid = np.linspace(0.0, 1.0, length)
        baselines, excesses = [], []
        for member in members:
            actual = member["actual_units"].to_numpy(dtype=float)
            baseline = member["expected_units"].to_numpy(dtype=float)
            level = max(float(np.mean(np.abs(baseline))), 1e-9)
            # The relative excess exactly as mrs.models.features reads it (same floor).
            relative = (actual - baseline) / np.maximum(np.abs(baseline), 0.25 * level)
            own = np.linspace(0.0, 1.0, len(member)) if len(member) > 1 else np.zeros(1)
            baselines.append(np.interp(grid, own, baseline / level))
            excesses.append(np.interp(grid, own, relative))
        baseline = np.mean(baselines, axis=0)
        relative = np.mean(excesses, axis=0)
        floor = 0.25 * max(float(np.mean(np.abs(baseline))), 1e-9)
        rows.append(
            pd.DataFrame(
                {
                    "report_group_id": event_id,
                    "report_count": len(members),
                    "position": np.arange(length),
                    "actual_units": baseline + relative * np.maximum(np.abs(baseline), floor),
                    "expected_units": baseline,
                }
            )
        )
    columns = ["report_group_id", "report_count", "position", "actual_units", "expected_units"]
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.concat(rows, ignore_index=True)[columns]


def match_event_clusters(
    hours: pd.DataFrame, library: pd.DataFrame, threshold: float
) -> pd.DataFrame:
    """Real version at event level: the pooled curve of each event's reports
    (pool_event_hours) matched to the library like one report's (match_clusters)."""
    pooled = pool_event_hours(hours)
    if pooled.empty:
        return _typed_events([])
    as_reports = pooled.rename(
        columns={"report_group_id": "report_id", "position": "sales_ts"}
    ).assign(written_at=pd.Timestamp("2000-01-01"))
    matches = match_clusters(as_reports, library, threshold).set_index("report_id")
    sizes = pooled.groupby("report_group_id", sort=True).agg(
        report_count=("report_count", "first"), pooled_hours=("position", "size")
    )
    rows = []
    for event_id, size in sizes.iterrows():
        match = matches.loc[event_id]
        rows.append(
            {
                "report_group_id": event_id,
                "report_count": int(size["report_count"]),
                "pooled_hours": int(size["pooled_hours"]),
                **{column: match[column] for column in list(EVENT_MATCH_COLUMNS)[3:]},
            }
        )
    return _typed_events(rows)


def narrative_event_clusters(
    hours: pd.DataFrame, narratives: pd.DataFrame, library: pd.DataFrame
) -> pd.DataFrame:
    """Mock version at event level: the narrative cluster most of the event's reports have
    (narrative_clusters on each member's window; ties by name), at its members' mean
    similarity and confidence. The pooled vector is logged as in the real version."""
    pooled = match_event_clusters(hours, library.iloc[0:0], threshold=0.0)
    if pooled.empty:
        return pooled
    members = hours.drop_duplicates(["report_group_id", "report_id"])[
        ["report_group_id", "report_id"]
    ]
    named = narrative_clusters(hours, narratives, library).merge(members, on="report_id")
    chosen_rows = []
    for event_id, event in named.groupby("report_group_id", sort=True):
        counts = event.groupby("cluster_name", sort=True).size()
        voters = event[event["cluster_name"] == counts[counts == counts.max()].index[0]]
        chosen_rows.append(
            {
                "report_group_id": event_id,
                "cluster_id": voters["cluster_id"].iloc[0],
                "cluster_name": voters["cluster_name"].iloc[0],
                "similarity_score": round(float(voters["similarity_score"].mean()), 6),
                "cluster_match_confidence": round(
                    float(voters["cluster_match_confidence"].mean()), 6
                ),
            }
        )
    chosen = pd.DataFrame(chosen_rows)
    named_events = pooled[["report_group_id", "report_count", "pooled_hours", "feature_vector"]]
    return _typed_events(named_events.merge(chosen, on="report_group_id").to_dict("records"))


def _same_direction(matrix: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Whether each snapshot may match each centroid: same sign of the direction feature,
    or a centroid that names no direction."""
    column = FEATURE_NAMES.index("direction")
    report = np.sign(matrix[:, column])[:, None]
    centroid = np.sign(centroids[:, column])[None, :]
    return (centroid == 0) | (report == centroid)


def _cosine(matrix: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True) * np.linalg.norm(centroids, axis=1)
    return (matrix @ centroids.T) / np.maximum(norms, 1e-12)


def _typed(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(MATCH_COLUMNS))
    return frame.astype(MATCH_COLUMNS)


def _typed_events(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(EVENT_MATCH_COLUMNS))
    return frame.astype(EVENT_MATCH_COLUMNS)


def stamp_version(matches: pd.DataFrame, version: str | None) -> pd.DataFrame:
    """Cluster matches with the registry version that moved the library (None: as shipped)."""
    matches["model_version"] = version
    return matches.astype({"model_version": "string"})
