"""event_cluster_matches_real: the library shape each event's reports look like together.
Built when model_routing.cluster_comparison_model is 'real'; the routing model
event_cluster_matches reads it.

Thin wrapper over mrs.models.clustering (pool_event_hours, match_event_clusters): the similarity
threshold and the approved registry version are those of cluster_comparison_model, so an
event is named with the same centroids as its reports.
"""

from mrs.models.clustering import match_event_clusters, stamp_version
from mrs.registry.training import library_in_force


def model(dbt, session):
    dbt.config(materialized="table")
    hours = dbt.ref("event_shape_hours").df()
    library = dbt.ref("stg_cluster_library").df()
    versions = dbt.ref("approved_model_versions").df()
    library, record = library_in_force(library, versions)
    matches = match_event_clusters(hours, library, float(dbt.config.get("similarity_threshold")))
    return stamp_version(matches, record["model_version"] if record else None)
