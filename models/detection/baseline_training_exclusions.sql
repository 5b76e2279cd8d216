-- The series-days the approved baseline version leaves out of its training: each day touched
-- by a report analysts confirmed as an anomaly (the baseline is built from day totals and
-- shares, so a whole day goes), so a past incident never widens what counts as normal.
with

plan as (
    select * from {{ ref('baseline_training_plan') }}
),

windows as (
    select
        unnest(
            cast(
                json_extract(plan.parameters, '$.excluded_windows')
                as struct(
                    store_id varchar, sku varchar, window_start timestamp, window_end timestamp
                )[]
            )
        ) as excluded
    from plan
    where plan.parameters is not null
),

days as (
    select distinct
        windows.excluded.store_id,
        windows.excluded.sku,
        unnest(generate_series(
            {{ mrs_sales_day('cast(windows.excluded.window_start as timestamp)') }},
            {{ mrs_sales_day(
                "cast(windows.excluded.window_end as timestamp) - interval 1 second"
            ) }},
            interval 1 day
        )) as excluded_day
    from windows
)

select
    store_id,
    sku,
    cast(excluded_day as date) as excluded_day
from days
