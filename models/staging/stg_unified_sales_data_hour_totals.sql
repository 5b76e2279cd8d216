-- What the feed delivered each hour over every store: the hour partials of every shard (this
-- build's own in one process) added up. The frontier, the build's as_of and the feed's gaps
-- are judged on these totals, so every shard judges them alike.
{{ config(materialized='table') }}
-- depends_on: {{ ref('stg_unified_sales_data_hour_partials') }}

with

partials as (
    select * from {{ mrs_every_shard('stg_unified_sales_data_hour_partials') }}
),

hour_totals as (
    select
        sales_ts,
        cast(sum(hour_rows) as bigint) as hour_rows,
        cast(sum(hour_units) as double) as hour_units
    from partials
    group by sales_ts
)

select * from hour_totals
