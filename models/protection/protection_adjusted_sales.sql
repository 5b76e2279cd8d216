-- Sales for the MMM and MAB with anomalous uplift removed (DESIGN.md section 8): per store x
-- sku x hour from detection_start, adjusted = actual - removed uplift, where an hour inside
-- a protected report's window whose cause is not paid media loses its units above the
-- baseline. Drops are left as they are (no sales are invented).
with

settings as (
    select * from {{ ref('run_settings') }}
),

predictions as (
    select * from {{ ref('baseline_sales_predictions') }}
),

protected as (
    select * from {{ ref('protected_reports') }}
),

hours as (
    select predictions.*
    from predictions
    cross join settings
    where predictions.sales_ts >= settings.detection_start
),

removals as (
    select
        hours.store_id,
        hours.sku,
        hours.sales_ts,
        protected.report_id,
        protected.final_cause_category,
        greatest(hours.actual_units - hours.expected_units, 0) as removed_uplift_units
    from hours
    inner join protected
        on
            hours.store_id = protected.store_id
            and hours.sku = protected.sku
            and hours.sales_ts >= protected.window_start
            and hours.sales_ts < protected.protected_until
    where protected.removes_uplift
    -- Reports of one series never overlap in time, but keep one removal per hour anyway.
    qualify row_number() over (
            partition by hours.store_id, hours.sku, hours.sales_ts order by protected.report_id
        ) = 1
),

adjusted as (
    select
        hours.store_id,
        hours.sku,
        hours.sales_ts,
        hours.actual_units,
        hours.expected_units,
        coalesce(removals.removed_uplift_units, 0) as removed_uplift_units,
        hours.actual_units - coalesce(removals.removed_uplift_units, 0) as adjusted_units,
        removals.report_id as removed_by_report_id,
        removals.final_cause_category as removed_cause_category
    from hours
    left join removals
        on
            hours.store_id = removals.store_id
            and hours.sku = removals.sku
            and hours.sales_ts = removals.sales_ts
)

select * from adjusted
