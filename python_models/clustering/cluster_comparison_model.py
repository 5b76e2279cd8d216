"""cluster_comparison_model: the library shape each report snapshot looks like.

Thin wrapper over mrs.clustering; routing and the similarity threshold come from config, and
the version in force (model approved_model_versions) moves the library's centroids.
"""

from mrs.clustering import match_clusters, narrative_clusters
from mrs.training import library_in_force


def model(dbt, session):
    dbt.config(materialized="table")
    hours = dbt.ref("report_shape_hours").df()
    library = dbt.ref("stg_cluster_library").df()
    narratives = dbt.ref("stg_master_narratives")
    versions = dbt.ref("approved_model_versions").df()
    if dbt.config.get("route") == "mock":
        matches = narrative_clusters(hours, narratives.df(), library)
        record = None
    else:
        library, record = library_in_force(library, versions)
        threshold = float(dbt.config.get("similarity_threshold"))
        matches = match_clusters(hours, library, threshold)
    matches["model_version"] = record["model_version"] if record else None
    return matches.astype({"model_version": "string"})
