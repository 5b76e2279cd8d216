-- The trading hours of every report snapshot of the active run, from the report's start up
-- to its tick (or its end on the closing tick): the input of the cluster comparison.
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
