-- The cluster comparison model's inference per report snapshot: its input (the shape
-- vector) and output (cluster, similarity), written at the snapshot's tick.
with

clustered as (
    {{ mrs_pending_rows(ref('minority_reports_clustered_log')) }}
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
)

select * from inferences
