"""attribution_model: ranked causes per report snapshot (DESIGN.md section 6).

Thin wrapper over mrs.attribution; routing and weights come from config.
"""

from mrs.attribution import AttributionParams, narrative_causes, rank_causes


def model(dbt, session):
    dbt.config(materialized="table")
    params = AttributionParams(
        onset_scale_hours=float(dbt.config.get("onset_scale_hours")),
    )
    snapshots = dbt.ref("report_snapshots").df()
    candidates = dbt.ref("attribution_candidates").df()
    sources = dbt.ref("input_sources").df()
    narratives = dbt.ref("stg_master_narratives")
    if dbt.config.get("route") == "mock":
        return narrative_causes(snapshots, narratives.df())
    evidence = sources[sources["input_name"].isin(["all_campaign_data", "contextual_data"])]
    missing = sorted(evidence.loc[evidence["source_location"] == "missing", "input_name"])
    return rank_causes(snapshots, candidates, params, missing)
