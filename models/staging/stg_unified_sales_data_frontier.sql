-- The feed's frontier, one row: rows more than `sales_max_lead_hours` after the last hour of
-- the feed's body are ahead of it (a mistyped year must not move as_of and zero-fill months
-- of ticks). Judged again at every build over every checked row (their hour totals), so the
-- day-by-day staging keeps no verdict that depends on other days; `stg_unified_sales_data`
-- and `unified_sales_data_errors` hold those rows back until the feed has caught up with them.
{{ config(materialized='table') }}

with

feed_hours as (
    -- How many rows the feed delivered for each hour (rows that passed every rule), over
    -- every store (every shard's, in a sharded build).
    select
        sales_ts,
        hour_rows
    from {{ ref('stg_unified_sales_data_hour_totals') }}
),

typical_hour as (
    select median(hour_rows) as median_rows
    from feed_hours
),

normal_hours as (
    -- Hours the feed delivered in earnest: at least `sales_normal_hour_share` of its median
    -- hour's rows (a stray row is not an hour of the feed).
    select feed_hours.sales_ts
    from feed_hours
    cross join typical_hour
    where
        feed_hours.hour_rows
        >= {{ var('sales_normal_hour_share') }} * typical_hour.median_rows
),

body_hours as (
    -- Normal hours with at least `sales_body_min_hours` normal hours in the week up to them:
    -- the feed's body, as opposed to a lone hour far from it.
    select sales_ts
    from (
        select
            sales_ts,
            count(*) over (
                order by sales_ts
                range between interval 7 days preceding and current row
            ) as recent_normal_hours,
            count(*) over () as normal_hours
        from normal_hours
    ) as counted
    where recent_normal_hours >= least({{ var('sales_body_min_hours') | int }}, normal_hours)
),

frontier as (
    select
        {{ dbt.dateadd('hour', var('sales_max_lead_hours') | int, 'max(sales_ts)') }}
            as frontier_ts
    from body_hours
)

select * from frontier
