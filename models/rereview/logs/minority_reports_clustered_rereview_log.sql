-- MRCRL: the cluster comparison rerun for each new rereview round (DESIGN.md section 8): the
-- model version routed now, on the report's last snapshot. The original MRCL rows are left
-- untouched; hydration prefers this row when it is newer.
with

rerun as (
    select * from {{ ref('cluster_comparison_model') }}
),

pending_rounds as (
    {{ mrs_pending_rereview_rounds() }}
),

reclustered as (
    select
        pending_rounds.report_id,
        pending_rounds.rereview_round,
        cast(rerun.feature_vector as double[]) as feature_vector,
        cast(rerun.cluster_id as varchar) as cluster_id,
        cast(rerun.cluster_name as varchar) as cluster_name,
        cast(rerun.similarity_score as double) as similarity_score,
        cast(rerun.cluster_match_confidence as double) as cluster_match_confidence,
        cast(rerun.tsne_x as double) as tsne_x,
        cast(rerun.tsne_y as double) as tsne_y,
        pending_rounds.cluster_model_version_current as model_version,
        pending_rounds.snapshot_written_at,
        pending_rounds.written_at,
        pending_rounds.run_id
    from pending_rounds
    inner join rerun
        on
            pending_rounds.report_id = rerun.report_id
            and pending_rounds.snapshot_written_at = rerun.written_at
)

select * from reclustered
