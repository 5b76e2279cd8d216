-- The report snapshots of the active run attribution still has to score, with what it weighs
-- them by: its window so far, direction, store location and the cause typical of its matched
-- cluster. Those are the snapshots after the newest tick both attribution logs hold (they
-- append only later ticks; mrs_logged_through) and each report's latest snapshot, which a
-- rereview round scores again: a build's attribution costs its new ticks and its reports,
-- not every tick of every report's life.

with

settings as (
    select * from {{ ref('run_settings') }}
),

detected as (
    select * from {{ ref('minority_reports_detected_log') }}
),

clustered as (
    select * from {{ ref('minority_reports_clustered_log') }}
),

library as (
    select * from {{ ref('stg_cluster_library') }}
),

stores as (
    select * from {{ ref('stg_stores') }}
),

snapshots as (
    select
        detected.report_id,
        detected.written_at,
        detected.store_id,
        detected.sku,
        detected.window_start,
        coalesce(detected.window_end, detected.written_at) as window_end_so_far,
        detected.direction,
        stores.retailer,
        stores.region,
        stores.city,
        clustered.cluster_name,
        library.cause_category as cluster_cause_category,
        clustered.report_id is not null as has_cluster
    from detected
    inner join settings on detected.run_id = settings.run_id
    left join clustered
        on
            detected.run_id = clustered.run_id
            and detected.report_id = clustered.report_id
            and detected.written_at = clustered.written_at
    left join library on clustered.cluster_name = library.cluster_name
    left join stores on detected.store_id = stores.store_id
),

unscored as (
    select *
    from snapshots
    qualify {{ mrs_snapshot_still_to_score('snapshots', [
        'minority_reports_proposed_attribution_log', 'attribution_model_prediction_log'
    ]) }}
)

select * from unscored
