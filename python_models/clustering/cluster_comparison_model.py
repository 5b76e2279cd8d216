"""cluster_comparison_model: the library shape each report snapshot looks like.

Thin wrapper over mrs.clustering; routing and the similarity threshold come from config, and
a version approved in the model registry (mrs.registry) moves the library's centroids.
"""

from pathlib import Path

from mrs.clustering import match_clusters, narrative_clusters
from mrs.training import library_in_force


def model(dbt, session):
    dbt.config(materialized="table")
    hours = dbt.ref("report_shape_hours").df()
    library = dbt.ref("stg_cluster_library").df()
    narratives = dbt.ref("stg_master_narratives")
    if dbt.config.get("route") == "mock":
        matches = narrative_clusters(hours, narratives.df(), library)
        record = None
    else:
        library, record = library_in_force(library, Path(dbt.config.get("database_path")))
        threshold = float(dbt.config.get("similarity_threshold"))
        matches = match_clusters(hours, library, threshold)
    matches["model_version"] = record["model_version"] if record else None
    return matches.astype({"model_version": "string"})
