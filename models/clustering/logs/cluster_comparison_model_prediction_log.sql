-- The cluster comparison model's inference per report snapshot: its input (the shape
-- vector) and output (cluster, similarity), written at the snapshot's tick.
with

clustered as (
    {{ mrs_pending_rows(ref('minority_reports_clustered_log')) }}
),

versions as (
    select * from {{ ref('model_versions') }}
),

inferences as (
    select
        'cluster_comparison_model' as model_name,
        clustered.model_version,
        clustered.report_id,
        clustered.written_at,
        clustered.feature_vector,
        clustered.cluster_name,
        clustered.similarity_score,
        clustered.cluster_match_confidence as quality_score,
        versions.trained_on,
        versions.model_registry_source,
        versions.model_confidence_metric,
        clustered.run_id
    from clustered
    left join versions
        on
            versions.model_name = 'cluster_comparison_model'
            and clustered.model_version = versions.model_version
)

select * from inferences
