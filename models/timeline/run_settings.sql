-- The settings of this build: the active run, the latest tick and the time vars
-- (DESIGN.md section 2). Every stage reads its run and ticks from here. The run is the
-- build setting run_id (macro mrs_build_setting), else the one the last `mrs reset`
-- recorded in the journal (so a plain `dbt build` builds what `mrs build` would), else the
-- demo_run_config seed's.
{%- set active_run_file = mrs_active_run_file() %}
{%- set run_id = mrs_build_setting('run_id') %}
{%- set as_of = mrs_build_setting('as_of') %}
with

demo_run as (
    select run_id from {{ ref('demo_run_config') }}
),

hour_totals as (
    select sales_ts from {{ ref('stg_unified_sales_data_hour_totals') }}
),

frontier as (
    select frontier_ts from {{ ref('stg_unified_sales_data_frontier') }}
),

latest_sales as (
    -- The last hour of accepted sales that is not ahead of the feed, over every store
    -- (every shard's in a sharded build): `stg_unified_sales_data`'s last hour.
    select max(hour_totals.sales_ts) as last_sales_ts
    from hour_totals
    cross join frontier
    where frontier.frontier_ts is null or hour_totals.sales_ts <= frontier.frontier_ts
),

settings as (
    select
        {%- if run_id %}
        cast('{{ run_id }}' as varchar) as run_id,
        {%- elif active_run_file %}
            coalesce(
                (
                    select json_extract_string(recorded.content, '$.run_id')
                    from read_text({{ mrs_quote_path(active_run_file) }}) as recorded
                    where json_valid(recorded.content)
                ),
                error(
                    {{ mrs_quote_path(active_run_file) }}
                    || ' is damaged; run `mrs reset --run-id NEW_ID` to start a new run'
                )
            ) as run_id,
        {%- else %}
            (select min(demo_run.run_id) from demo_run) as run_id,
        {%- endif %}
        {{ mrs_timestamp_setting('training_start') }} as training_start,
        {{ mrs_timestamp_setting('detection_start') }} as detection_start,
        cast({{ var('tick_hours') }} as integer) as tick_hours,
        {%- if as_of %}
        {{ mrs_timestamp_setting('as_of') }} as as_of,
        {%- else %}
            {{ dbt.dateadd('hour', 1, 'latest_sales.last_sales_ts') }} as as_of,
        {%- endif %}
        latest_sales.last_sales_ts
    from latest_sales
)

select * from settings
