-- Every hour from training_start to the hour before as_of, with the rows and units the feed
-- delivered in it over every store (none: zero). Read on the hours as they are (UTC), so the
-- clock the baseline reads them on (baseline_clock_change) can be found from it.
with

settings as (
    select * from {{ ref('run_settings') }}
),

hour_totals as (
    -- Every store's rows of the hour (every shard's in a sharded build).
    select * from {{ ref('stg_unified_sales_data_hour_totals') }}
),

frontier as (
    select frontier_ts from {{ ref('stg_unified_sales_data_frontier') }}
),

sales as (
    -- The hours of `stg_unified_sales_data`: rows ahead of the feed are not delivered yet.
    select hour_totals.*
    from hour_totals
    cross join frontier
    where frontier.frontier_ts is null or hour_totals.sales_ts <= frontier.frontier_ts
),

hours as (
    select
        unnest(generate_series(
            settings.training_start,
            {{ dbt.dateadd('hour', -1, 'settings.as_of') }},
            interval 1 hour
        )) as sales_ts
    from settings
),

delivered as (
    -- The hours bound the window: a row outside it joins no hour.
    select
        hours.sales_ts,
        coalesce(sales.hour_rows, 0) as hour_rows,
        coalesce(sales.hour_units, 0) as hour_units
    from hours
    left join sales on hours.sales_ts = sales.sales_ts
)

select * from delivered
