"""event_cluster_matches_mock: the library shape of the master narrative of each event's
reports. Built when model_routing.cluster_comparison_model is 'mock'; the routing model
event_cluster_matches reads it. Only the mock reads the narratives (the answer key). Built
whole each time (nothing compares its row_digest) with the real version's columns, so
routing changes no schema.
"""

from mrs.models.clustering import narrative_event_clusters, stamp_version
from mrs.models.kept_event_matches import match_digest, match_kept_events


def model(dbt, session):
    dbt.config(materialized="table")
    library = dbt.ref("stg_cluster_library").df()
    narratives = dbt.ref("stg_master_narratives").df()

    def match(hours):
        return stamp_version(narrative_event_clusters(hours, narratives, library), None)

    salt = match_digest(library, 0.0, None)
    matches, _ = match_kept_events(session, dbt.ref("event_shape_hours"), None, match, salt)
    return matches
