-- The accepted sales rows and units of each hour, over this build's stores: the partial sums
-- the feed's hour totals add up over every shard of a sharded build
-- (macros/sharding/shards.sql).
{{ config(
    tags=['shard_partials'],
    **mrs_shard_partials_config('stg_unified_sales_data_hour_partials')
) }}

with

checked as (
    select * from {{ ref('stg_unified_sales_data_checked') }}
),

hour_partials as (
    -- Units summed as decimals: a sum of decimals is the same in any order, so shards that
    -- split an hour's rows differently add up to the same total.
    select
        sales_ts,
        count(*) as hour_rows,
        sum(cast(units as decimal(38, 9))) as hour_units
    from checked
    where error_reason is null
    group by sales_ts
)

select * from hour_partials
