"""event_cluster_matches: the library shape each event's reports look like together.

Thin wrapper over mrs.clustering (pool_event_hours, match_event_clusters): routing, the
similarity threshold and the approved registry version are those of
cluster_comparison_model, so an event is named with the same centroids as its reports.
"""

from mrs.clustering import match_event_clusters, narrative_event_clusters
from mrs.training import library_in_force


def model(dbt, session):
    dbt.config(materialized="table")
    hours = dbt.ref("event_shape_hours").df()
    library = dbt.ref("stg_cluster_library").df()
    narratives = dbt.ref("stg_master_narratives")
    versions = dbt.ref("approved_model_versions").df()
    if dbt.config.get("route") == "mock":
        matches = narrative_event_clusters(hours, narratives.df(), library)
        record = None
    else:
        library, record = library_in_force(library, versions)
        threshold = float(dbt.config.get("similarity_threshold"))
        matches = match_event_clusters(hours, library, threshold)
    matches["model_version"] = record["model_version"] if record else None
    return matches.astype({"model_version": "string"})
