{#-
  Hydration reads its preferred logs through this macro: the log's rows for the active run,
  or, when the log's table is missing, no rows of the same columns and a build message. The
  caller marks the affected reports degraded (DESIGN.md section 7), so a missing upstream
  never fails hydration. `columns` maps each column read to its type (for the empty case).
-#}
{% macro mrs_optional_log(model_name, columns) -%}
    {%- set relation = ref(model_name) -%}
    {%- set found = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) if execute else relation -%}
    {%- if found is none %}
        {{ log("mrs: " ~ model_name ~ " is missing; " ~ this.identifier
            ~ " marks what it would have supplied as degraded", info=true) }}
        select
            {%- for column, type in columns.items() %}
            cast(null as {{ type }}) as {{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
        where false
    {%- else %}
        select
            {%- for column in columns %}
            logged.{{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ relation }} as logged
        where logged.run_id = (select settings.run_id from {{ ref('run_settings') }} as settings)
    {%- endif %}
{%- endmacro %}


{#- The latest row per key of a CTE (highest version). -#}
{% macro mrs_latest(cte, key_column='report_id') -%}
    select * from {{ cte }}
    qualify row_number() over (partition by {{ key_column }} order by version desc) = 1
{%- endmacro %}


{#- The latest row per key of a log's CTE among the active run's rows (highest version). -#}
{% macro mrs_latest_in_run(cte, key_column='report_id') -%}
    select {{ cte }}.*
    from {{ cte }}
    where {{ cte }}.run_id = (select settings.run_id from {{ ref('run_settings') }} as settings)
    qualify row_number() over (
        partition by {{ cte }}.{{ key_column }} order by {{ cte }}.version desc
    ) = 1
{%- endmacro %}
