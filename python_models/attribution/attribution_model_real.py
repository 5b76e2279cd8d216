"""attribution_model_real: ranked causes per report snapshot from the evidence (DESIGN.md
section 6). Built when model_routing.attribution_model is 'real'; the routing model
attribution_model reads it.

Thin wrapper over mrs.models.attribution; weights come from config, and the trained version in force
(model approved_model_versions) replaces the shipped scorer.
"""

from mrs.models.attribution import rank_causes
from mrs.registry.records import record_in_force
from mrs.registry.training import params_of, stamp_version


def model(dbt, session):
    dbt.config(materialized="table")
    snapshots = dbt.ref("report_snapshots").df()
    candidates = dbt.ref("attribution_candidates").df()
    sources = dbt.ref("input_sources").df()
    versions = dbt.ref("approved_model_versions").df()
    record = record_in_force(versions, "attribution_model")
    params = params_of(record)
    params = params.__class__(
        onset_scale_hours=float(dbt.config.get("onset_scale_hours")),
        logistic=params.logistic,
    )
    evidence = sources[sources["input_name"].isin(["all_campaign_data", "contextual_data"])]
    missing = sorted(
        evidence.loc[evidence["source_location"].isin(["missing", "unreadable"]), "input_name"]
    )
    return stamp_version(rank_causes(snapshots, candidates, params, missing), record)
