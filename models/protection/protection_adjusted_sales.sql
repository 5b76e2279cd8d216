-- Sales for the MMM and MAB with anomalous uplift removed (DESIGN.md section 8): the kept
-- hours of protection_adjusted_hours, which says how they are computed, without their day.
with

adjusted_hours as (
    select * from {{ ref('protection_adjusted_hours') }}
)

select
    store_id,
    sku,
    sales_ts,
    actual_units,
    expected_units,
    removed_uplift_units,
    adjusted_units,
    removed_by_report_id,
    removed_cause_category
from adjusted_hours
