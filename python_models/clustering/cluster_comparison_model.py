"""cluster_comparison_model: the library shape each report snapshot looks like.

Thin wrapper over mrs.clustering; routing and the similarity threshold come from config.
"""

from mrs.clustering import match_clusters, narrative_clusters


def model(dbt, session):
    dbt.config(materialized="table")
    hours = dbt.ref("report_shape_hours").df()
    library = dbt.ref("stg_cluster_library").df()
    narratives = dbt.ref("stg_master_narratives")
    if dbt.config.get("route") == "mock":
        return narrative_clusters(hours, narratives.df(), library)
    return match_clusters(hours, library, float(dbt.config.get("similarity_threshold")))
