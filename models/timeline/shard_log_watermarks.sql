{#-
  The newest tick each of this shard's logs holds, per run, as the build starts (a sharded
  build writes it in its first phase, before any log is written): every shard reads every
  shard's, so each log resumes after the newest tick any shard logged (macros
  mrs_newest_logged and mrs_logged_through), as one process does. A shard whose stores had
  nothing to log at the latest ticks would otherwise replay them, and where sales were
  restated since, write back-dated rows that one process never writes. The logs are looked
  up, not ref'd: they are built after this model.
-#}
{{ config(
    tags=['shard_partials'],
    **mrs_shard_partials_config('shard_log_watermarks')
) }}
{%- set logged = [] %}
{#- One process reads its own logs (mrs_logged_through): nothing to read here. #}
{%- if execute and not flags.FULL_REFRESH and mrs_is_shard() %}
    {%- for node in mrs_shard_logs() %}
        {%- set relation = adapter.get_relation(
            database=node.database, schema=node.schema, identifier=node.alias
        ) %}
        {%- if relation is not none %}
            {%- do logged.append((node.name, relation)) %}
        {%- endif %}
    {%- endfor %}
{%- endif %}

with

newest_logged as (
    {%- for name, relation in logged %}
    select
        '{{ name }}' as log_name,
        logged.run_id,
        max(logged.written_at) as newest_written_at
    from {{ relation }} as logged
    group by logged.run_id
    union all
    {%- endfor %}
    select
        cast(null as varchar) as log_name,
        cast(null as varchar) as run_id,
        cast(null as timestamp) as newest_written_at
    where false
)

select * from newest_logged
