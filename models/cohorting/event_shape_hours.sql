-- The trading hours of every member report of every event of the active run: the input of
-- the event-level shape match (event_cluster_matches). An event's members are the reports
-- whose latest cohort row (MRCH) names it, as minority_reports shows them; each brings its
-- hours from its latest snapshot (MRDL), from its start to its end (or to that tick while
-- active). A report restated sales superseded is left out.
with

latest_cohorts as (
    select * from {{ ref('minority_reports_cohorted_log_current') }}
),

latest_detections as (
    select * from {{ ref('minority_reports_detected_log_current') }}
),

predictions as (
    select * from {{ ref('baseline_sales_predictions') }}
),

members as (
    select
        latest_cohorts.report_group_id,
        latest_detections.report_id,
        latest_detections.written_at,
        latest_detections.store_id,
        latest_detections.sku,
        latest_detections.window_start,
        coalesce(latest_detections.window_end, latest_detections.written_at) as window_stop
    from latest_cohorts
    inner join latest_detections on latest_cohorts.report_id = latest_detections.report_id
    where latest_detections.report_status != 'superseded'
),

member_hours as (
    select
        members.report_group_id,
        members.report_id,
        members.written_at,
        members.store_id,
        members.sku,
        members.window_start,
        predictions.sales_ts,
        predictions.actual_units,
        predictions.expected_units
    from members
    inner join predictions
        on
            members.store_id = predictions.store_id
            and members.sku = predictions.sku
            and members.window_start <= predictions.sales_ts
            and members.window_stop > predictions.sales_ts
    where predictions.is_trading_hour
)

select * from member_hours
