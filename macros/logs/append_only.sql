{#-
  Append-only tick logic shared by every log (DESIGN.md section 2): a build writes the ticks
  after the newest tick this log already holds for the active run, up to as_of. A fresh
  build replays every tick; a build with nothing new appends nothing.
-#}

{#- The newest value of `column` this log holds for the active run (null when none). -#}
{% macro mrs_newest_logged(column='written_at') -%}
    {%- if is_incremental() and mrs_is_shard() and column == 'written_at' -%}
        {#- a shard's log resumes where the newest of every shard's does (one process's) -#}
        {{ mrs_every_shard_logged_through([this.identifier]) }}
    {%- elif is_incremental() -%}
        (
            select max(logged.{{ column }})
            from {{ this }} as logged
            where logged.run_id = (select settings.run_id from {{ ref('run_settings') }} as settings)
        )
    {%- else -%}
        cast(null as timestamp)
    {%- endif -%}
{%- endmacro %}

{#- The ticks this build must write for this log. -#}
{% macro mrs_pending_ticks() -%}
    select ticks.tick_ts
    from {{ ref('ticks') }} as ticks
    where ticks.tick_ts > coalesce({{ mrs_newest_logged('written_at') }}, '-infinity'::timestamp)
{%- endmacro %}

{#- The highest version this log holds per key for the active run (0 for a new key). -#}
{% macro mrs_previous_versions(key_column) -%}
    {%- if is_incremental() -%}
        select
            logged.{{ key_column }},
            max(logged.version) as previous_version
        from {{ this }} as logged
        where logged.run_id = (select settings.run_id from {{ ref('run_settings') }} as settings)
        group by logged.{{ key_column }}
    {%- else -%}
        select
            cast(null as varchar) as {{ key_column }},
            cast(0 as integer) as previous_version
        where false
    {%- endif -%}
{%- endmacro %}

{#-
  The final select of a per-report log: `rows` (a CTE with report_id, written_at and the
  log's other columns) numbered with a version per report that continues from the versions
  this log already holds for the active run. Needs a `previous_versions` CTE
  (mrs_previous_versions) beside it.
-#}
{% macro mrs_select_with_versions(rows, key_column='report_id') -%}
    select
        {{ rows }}.{{ key_column }},
        cast(
            coalesce(previous_versions.previous_version, 0)
            + row_number() over (
                partition by {{ rows }}.{{ key_column }} order by {{ rows }}.written_at
            )
            as integer
        ) as version,  -- noqa: RF04
        {{ rows }}.* exclude ({{ key_column }})
    from {{ rows }}
    left join previous_versions on {{ rows }}.{{ key_column }} = previous_versions.{{ key_column }}
{%- endmacro %}

{#-
  The rows of an upstream log (`relation`) that this log must process in this build: those
  of the active run written at the ticks this log has not logged yet.
-#}
{% macro mrs_pending_rows(relation) -%}
    select upstream.*
    from {{ relation }} as upstream
    where
        upstream.run_id = (select settings.run_id from {{ ref('run_settings') }} as settings)
        and upstream.written_at in ({{ mrs_pending_ticks() }})
{%- endmacro %}

{#-
  The first tick cohorting computes: the newest tick that both cohort logs already hold for
  the active run (its events are what the next tick's changes are judged against). A past
  tick's events never change (DESIGN.md section 2: a restatement writes at a new tick), so a
  build's cohorting costs its new ticks, not the whole history.
-#}
{% macro mrs_cohort_resume_tick() -%}
    {{ mrs_logged_through(['minority_event_log', 'minority_reports_cohorted_log']) }}
{%- endmacro %}


{#-
  The report snapshots (rows of `relation`, an alias with report_id and written_at) that a
  model whose rows `log_names` take at their pending ticks still has to score: those after the
  newest tick the logs hold (mrs_logged_through) and each report's latest, which a rereview
  round scores again. A qualify condition.
-#}
{% macro mrs_snapshot_still_to_score(relation, log_names) -%}
    {{ relation }}.written_at > {{ mrs_logged_through(log_names) }}
    or {{ relation }}.written_at = max({{ relation }}.written_at) over (
        partition by {{ relation }}.report_id
    )
{%- endmacro %}


{#-
  The newest tick that every log of `log_names` already holds for the active run, or
  -infinity when one of them does not exist yet, holds nothing for the run, or is rebuilt
  with --full-refresh: a model whose rows those logs consume at their pending ticks only
  needs the ticks after it. The logs are looked up, not ref'd: they are the model's children.
-#}
{% macro mrs_logged_through(log_names) -%}
    {%- if mrs_is_shard() -%}
        {{ return(mrs_every_shard_logged_through(log_names)) }}
    {%- endif -%}
    {%- set logs = [] -%}
    {%- if execute and not flags.FULL_REFRESH -%}
        {%- for name in log_names -%}
            {%- set node = graph.nodes.values() | selectattr('name', 'equalto', name) | first -%}
            {%- set relation = adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.alias
            ) -%}
            {%- if relation is not none -%}{%- do logs.append(relation) -%}{%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if logs and logs | length == log_names | length -%}
        {%- set newest_per_log -%}
            {%- for relation in logs %}
                select max(logged.written_at) as written_at
                from {{ relation }} as logged
                where
                    logged.run_id
                    = (select settings.run_id from {{ ref('run_settings') }} as settings)
                {{- " union all" if not loop.last }}
            {%- endfor %}
        {%- endset -%}
        {{ mrs_logged_through_all(newest_per_log, logs | length) }}
    {%- else -%}
        '-infinity'::timestamp
    {%- endif -%}
{%- endmacro %}


{#-
  No rows, with the columns of a log's latest state: `typed_columns` (name: type) first, then
  `state_columns` left untyped (the caller compares them with `is distinct from`). What a
  log's "last logged state" CTE is on its first build, or any read of a folder with no file.
-#}
{% macro mrs_no_logged_state(typed_columns, state_columns=[]) -%}
    {%- set columns = [] -%}
    {%- for column, type in typed_columns.items() -%}
        {%- do columns.append('cast(null as ' ~ type ~ ') as ' ~ column) -%}
    {%- endfor -%}
    {%- for column in state_columns -%}
        {%- do columns.append('null as ' ~ column) -%}
    {%- endfor %}
    select
        {%- for column in columns %}
            {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    where false
{%- endmacro %}


{#-
  mrs_logged_through in a shard of a sharded build: the newest tick every log of `log_names`
  holds for the active run in any shard, as the build started (shard_log_watermarks, which
  every shard writes in its first phase), or -infinity when one of them holds nothing yet or
  the build is a full refresh.
-#}
{% macro mrs_every_shard_logged_through(log_names) -%}
    {%- if flags.FULL_REFRESH -%}{{ return("'-infinity'::timestamp") }}{%- endif -%}
    {%- set newest_per_log -%}
        select max(watermarks.newest_written_at) as written_at
        from {{ mrs_every_shard_file('shard_log_watermarks') }} as watermarks
        where
            watermarks.log_name in ('{{ log_names | join("', '") }}')
            and watermarks.run_id
            = (select settings.run_id from {{ ref('run_settings') }} as settings)
        group by watermarks.log_name
    {%- endset -%}
    {{ mrs_logged_through_all(newest_per_log, log_names | length) }}
{%- endmacro %}


{#- The oldest of the newest ticks of `log_count` logs (`newest_per_log`: a select of one
    written_at per log holding rows for the run), or -infinity when one of them has none. -#}
{% macro mrs_logged_through_all(newest_per_log, log_count) -%}
    (
        select
            case
                when count(newest_logged.written_at) = {{ log_count }}
                    then min(newest_logged.written_at)
                else '-infinity'::timestamp
            end
        from (
            {{ newest_per_log }}
        ) as newest_logged
    )
{%- endmacro %}


{#- The append-only logs of a shard's stores: the per_shard models of the `logs` folders. -#}
{% macro mrs_shard_logs() -%}
    {%- set logs = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and 'per_shard' in node.tags
        and 'logs' in node.fqn and node.config.materialized == 'incremental' -%}
        {%- do logs.append(node) -%}
    {%- endfor -%}
    {{ return(logs | sort(attribute='name')) }}
{%- endmacro %}
