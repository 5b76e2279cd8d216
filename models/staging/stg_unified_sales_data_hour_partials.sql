-- The accepted sales rows and units of each hour, over this build's stores: the partial sums
-- the feed's hour totals add up over every shard of a sharded build
-- (macros/sharding/shards.sql).
-- Kept from build to build in one process (issue 18), day by day as the checked rows are:
-- the pre-hook removes the hours of every day whose digest is no longer the day's, and only
-- the days this table does not hold are summed (a tick's own day, a restated day), not every
-- staged row. A sharded build writes its shard's file whole.
{%- set one_process = mrs_shard_count() == 1 %}
{%- set day_digests = ref('stg_unified_sales_data_day_digests') %}
{{ config(
    tags=['shard_partials'],
    **(mrs_shard_partials_config('stg_unified_sales_data_hour_partials') if not one_process
        else {
            'materialized': 'incremental',
            'incremental_strategy': 'append',
            'on_schema_change': 'fail',
            'pre_hook': "{{ mrs_unstage_changed_days(ref('stg_unified_sales_data_day_digests')) }}",
        })
) }}
{#- The days the checked rows were staged again for (new, restated), as the check finds
    them; a day without a parsed time has no accepted row. -#}
{%- set summed_days = mrs_sales_days_to_check(day_digests, say=false)['days']
    if one_process else none %}
{%- set day_filter = 'true' if summed_days is none
    else mrs_sales_day_in('sales_day_key', summed_days) %}

with

checked as (
    select * from {{ ref('stg_unified_sales_data_checked') }}
),

hour_partials as (
    -- Units summed as decimals: a sum of decimals is the same in any order, so shards that
    -- split an hour's rows differently add up to the same total.
    select
        sales_ts,
        sales_day_key,
        day_digest,
        count(*) as hour_rows,
        sum(cast(units as decimal(38, 9))) as hour_units
    from checked
    where error_reason is null and {{ day_filter }}
    group by sales_ts, sales_day_key, day_digest
)

select * from hour_partials
