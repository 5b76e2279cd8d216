"""attribution_model_mock: the cause of the master narrative each report snapshot overlaps
(DESIGN.md section 6). Built when model_routing.attribution_model is 'mock'; the routing
model attribution_model reads it. Only the mock reads the narratives (the answer key).
"""

from mrs.models.attribution import narrative_causes
from mrs.registry.training import stamp_version


def model(dbt, session):
    dbt.config(materialized="table")
    snapshots = dbt.ref("report_snapshots").df()
    narratives = dbt.ref("stg_master_narratives").df()
    return stamp_version(narrative_causes(snapshots, narratives), None)
