-- The trading hours of the report snapshots of the active run the cluster comparison still
-- has to score, from the report's start up to its tick (or its end on the closing tick): the
-- snapshots after the newest tick MRCL holds (it appends only later ticks, and its prediction
-- log reads MRCL; mrs_logged_through) and each report's latest snapshot, which a rereview
-- round scores again.

with

settings as (
    select * from {{ ref('run_settings') }}
),

snapshots as (
    select * from {{ ref('minority_reports_detected_log') }}
),

predictions as (
    select * from {{ ref('baseline_sales_predictions') }}
),

active_snapshots as (
    select snapshots.*
    from snapshots
    inner join settings on snapshots.run_id = settings.run_id
    qualify {{ mrs_snapshot_still_to_score('snapshots', ['minority_reports_clustered_log']) }}
),

snapshot_hours as (
    select
        active_snapshots.report_id,
        active_snapshots.written_at,
        active_snapshots.store_id,
        active_snapshots.sku,
        active_snapshots.window_start,
        predictions.sales_ts,
        predictions.actual_units,
        predictions.expected_units
    from active_snapshots
    inner join predictions
        on
            active_snapshots.store_id = predictions.store_id
            and active_snapshots.sku = predictions.sku
            and active_snapshots.window_start <= predictions.sales_ts
            and predictions.sales_ts
            < coalesce(active_snapshots.window_end, active_snapshots.written_at)
    where predictions.is_trading_hour
)

select * from snapshot_hours
