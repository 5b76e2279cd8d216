-- The accepted sales rows and units of each hour, over this build's stores: the partial sums
-- the feed's hour totals add up over every shard of a sharded build
-- (macros/sharding/shards.sql).
-- Kept from build to build in one process (issue 18), hour by hour as the checked rows are:
-- the pre-hook removes the hours whose digest (their day's up to them) is no longer theirs,
-- and only the hours this table does not hold are summed (a tick's new hour, a restated hour
-- and the hours of its day after it), not every staged row. A sharded build writes its
-- shard's file whole.
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
{#- The hours the checked rows were staged again for (new, restated), as the check finds
    them; rows without a parsed time are never accepted. -#}
{%- set summed_hours = mrs_sales_days_to_check(day_digests, say=false)['hours']
    if one_process else none %}
{%- set hour_filter = 'true' if summed_hours is none
    else mrs_sales_hours_in('sales_ts', summed_hours) %}

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
        hour_digest,
        count(*) as hour_rows,
        sum(cast(units as decimal(38, 9))) as hour_units
    from checked
    where error_reason is null and ({{ hour_filter }})
    group by sales_ts, sales_day_key, hour_digest
)

select * from hour_partials
