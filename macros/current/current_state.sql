{#-
  The current state of an append-only log (DESIGN.md section 7): its latest row per key among
  the active run's rows, `order_column` deciding which row is latest. When the log's table is
  missing (a build that selects readers without it), no rows of the log's contract columns
  and types, and a build message: readers then mark what the log would have supplied as
  degraded, so a missing upstream never fails them. Every `<log>_current` model is this macro.
-#}
{% macro mrs_current_state(log_name, key_column='report_id', order_column='version') -%}
    {%- set log_relation = ref(log_name) -%}
    {#- A unit test's fixture (a CTE, no schema) always exists. -#}
    {%- set found = adapter.get_relation(
        database=log_relation.database,
        schema=log_relation.schema,
        identifier=log_relation.identifier
    ) if execute and log_relation.schema else log_relation -%}
    {%- if found is none %}
        {{ log("mrs: " ~ log_name ~ " is missing; " ~ this.identifier
            ~ " has no rows, and what reads it marks what the log would supply as degraded",
            info=true) }}
        select
            {%- for column in mrs_contract_columns(log_name) %}
            cast(null as {{ column.data_type }}) as {{ column.name }}
            {{- ',' if not loop.last }}
            {%- endfor %}
        where false
    {%- else %}
        select logged.*
        from {{ log_relation }} as logged
        where logged.run_id = (select settings.run_id from {{ ref('run_settings') }} as settings)
        qualify row_number() over (
            partition by logged.{{ key_column }} order by logged.{{ order_column }} desc
        ) = 1
    {%- endif %}
{%- endmacro %}


{#- The contract columns (name, data_type) of a model, in the order of its YAML. -#}
{% macro mrs_contract_columns(model_name) -%}
    {%- set nodes = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', model_name) | list -%}
    {%- if nodes | length != 1 or not nodes[0].columns -%}
        {{ exceptions.raise_compiler_error(
            "mrs_contract_columns: no documented columns for model " ~ model_name) }}
    {%- endif -%}
    {{ return(nodes[0].columns.values() | list) }}
{%- endmacro %}
