"""event_cluster_matches_real: the library shape each event's reports look like together.
Built when model_routing.cluster_comparison_model is 'real'; the routing model
event_cluster_matches reads it.

Thin wrapper over mrs.models.clustering (pool_event_hours, match_event_clusters): the similarity
threshold and the approved registry version are those of cluster_comparison_model, so an
event is named with the same centroids as its reports. Which events a build matches again,
and which matches it keeps, is mrs.models.kept_event_matches (issue 18: a build pools the
events whose members' hours changed, not the history's).
"""

from mrs.models.clustering import match_event_clusters, stamp_version
from mrs.models.kept_event_matches import match_digest, match_kept_events
from mrs.registry.training import library_in_force


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="replace_changed_rows",
        # A table kept by a version without row_digest is dropped before the build and built
        # again in full (on-run-start, mrs_drop_moved_relations).
        on_schema_change="fail",
    )
    library = dbt.ref("stg_cluster_library").df()
    versions = dbt.ref("approved_model_versions").df()
    library, record = library_in_force(library, versions)
    threshold = float(dbt.config.get("similarity_threshold"))
    version = record["model_version"] if record else None

    def match(hours):
        return stamp_version(match_event_clusters(hours, library, threshold), version)

    kept = repr(dbt.this) if dbt.is_incremental else None
    salt = match_digest(library, threshold, version)
    matches, matched = match_kept_events(session, dbt.ref("event_shape_hours"), kept, match, salt)
    if kept is not None:
        print(f"mrs: event shapes kept, {matched} of {len(matches)} event(s) matched again")
    return matches
