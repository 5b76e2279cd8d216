-- Actual against baseline around every report of the active run (a day either side of its
-- window): what the review app draws, from the published copy.
with

reports as (
    select * from {{ ref('minority_reports') }}
),

predictions as (
    select * from {{ ref('baseline_sales_predictions') }}
),

series as (
    select
        reports.report_id,
        predictions.store_id,
        predictions.sku,
        predictions.sales_ts,
        predictions.actual_units,
        predictions.expected_units,
        predictions.sales_ts >= reports.window_start
        and predictions.sales_ts < coalesce(reports.window_end, reports.last_detected_at)
            as is_in_window
    from reports
    inner join predictions
        on
            reports.store_id = predictions.store_id
            and reports.sku = predictions.sku
            and predictions.sales_ts
            >= {{ dbt.dateadd('hour', -24, 'reports.window_start') }}
            and predictions.sales_ts < {{ dbt.dateadd(
                'hour', 24, 'coalesce(reports.window_end, reports.last_detected_at)'
            ) }}
)

select * from series
