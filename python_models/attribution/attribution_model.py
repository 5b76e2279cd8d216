"""attribution_model: ranked causes per report snapshot (DESIGN.md section 6).

Thin wrapper over mrs.attribution; routing and weights come from config, and the trained
version in force (model approved_model_versions) replaces the shipped scorer.
"""

from mrs.attribution import narrative_causes, rank_causes
from mrs.registry import record_in_force
from mrs.training import describe, params_of


def model(dbt, session):
    dbt.config(materialized="table")
    snapshots = dbt.ref("report_snapshots").df()
    candidates = dbt.ref("attribution_candidates").df()
    sources = dbt.ref("input_sources").df()
    narratives = dbt.ref("stg_master_narratives")
    versions = dbt.ref("approved_model_versions").df()
    if dbt.config.get("route") == "mock":
        proposals = narrative_causes(snapshots, narratives.df())
        version = describe(None)
    else:
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
        proposals = rank_causes(snapshots, candidates, params, missing)
        version = describe(record)
    for column, value in version.items():
        proposals[column] = value
    return proposals.astype(
        {"model_version": "string", "trained_on": "string", "model_registry_source": "string"}
    )
