-- Sales for the MMM and MAB with anomalous uplift removed (DESIGN.md section 8): the kept
-- hours of protection_adjusted_hours, which says how they are computed, without their day.
with

adjusted_hours as (
    select * from {{ ref('protection_adjusted_hours') }}
)

-- The published columns, one list with what the kept hours' day digest hashes.
select
    {{ mrs_adjusted_sales_columns() | join(',\n    ') }}
from adjusted_hours
