-- MRCL: one row per live report per tick with its shape vector and matched cluster.
-- Appends only ticks after the newest one logged for the active run.
with

snapshots as (
    {{ mrs_pending_rows(ref('minority_reports_detected_log')) }}
),

matches as (
    select * from {{ ref('cluster_comparison_model') }}
),

previous_versions as (
    {{ mrs_previous_versions('report_id') }}
),

clustered as (
    select
        snapshots.report_id,
        snapshots.store_id,
        snapshots.sku,
        snapshots.first_detected_from,
        snapshots.window_start,
        snapshots.window_end,
        cast(matches.feature_vector as double[]) as feature_vector,
        cast(matches.cluster_id as varchar) as cluster_id,
        cast(matches.cluster_name as varchar) as cluster_name,
        cast(matches.similarity_score as double) as similarity_score,
        cast(matches.cluster_match_confidence as double) as cluster_match_confidence,
        cast(matches.tsne_x as double) as tsne_x,
        cast(matches.tsne_y as double) as tsne_y,
        -- The approved registry version, else the version shipped with the project.
        coalesce(
            cast(matches.model_version as varchar),
            '{{ mrs_model_version("cluster_comparison_model") }}'
        ) as model_version,
        snapshots.report_status,
        snapshots.written_at,
        snapshots.run_id
    from snapshots
    inner join matches
        on
            snapshots.report_id = matches.report_id
            and snapshots.written_at = matches.written_at
)

{{ mrs_select_with_versions('clustered') }}
