"""cluster_comparison_model_real: the library shape each report snapshot looks like.
Built when model_routing.cluster_comparison_model is 'real'; the routing model
cluster_comparison_model reads it.

Thin wrapper over mrs.models.clustering; the similarity threshold comes from config, and the version
in force (model approved_model_versions) moves the library's centroids.
"""

from mrs.models.clustering import match_clusters, stamp_version
from mrs.registry.training import library_in_force


def model(dbt, session):
    dbt.config(materialized="table")
    hours = dbt.ref("report_shape_hours").df()
    library = dbt.ref("stg_cluster_library").df()
    versions = dbt.ref("approved_model_versions").df()
    library, record = library_in_force(library, versions)
    matches = match_clusters(hours, library, float(dbt.config.get("similarity_threshold")))
    return stamp_version(matches, record["model_version"] if record else None)
