"""cluster_comparison_model_mock: the library shape of the master narrative each report
snapshot overlaps. Built when model_routing.cluster_comparison_model is 'mock'; the routing
model cluster_comparison_model reads it. Only the mock reads the narratives (the answer key).
"""

from mrs.models.clustering import narrative_clusters, stamp_version


def model(dbt, session):
    dbt.config(materialized="table")
    hours = dbt.ref("report_shape_hours").df()
    library = dbt.ref("stg_cluster_library").df()
    narratives = dbt.ref("stg_master_narratives").df()
    return stamp_version(narrative_clusters(hours, narratives, library), None)
