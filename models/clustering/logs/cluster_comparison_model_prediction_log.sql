-- The cluster comparison model's inference per report snapshot: its input (the shape
-- vector) and output (cluster, similarity), written at the snapshot's tick.
with

pending_ticks as (
    {{ mrs_pending_ticks() }}
),

clustered as (
    select * from {{ ref('minority_reports_clustered_log') }}
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
        clustered.run_id
    from clustered
    inner join pending_ticks on clustered.written_at = pending_ticks.tick_ts
    where clustered.run_id = (select settings.run_id from {{ ref('run_settings') }} as settings)
)

select * from inferences
