{#- Typing helpers for raw text inputs: blank text is null, unparseable text is null. -#}

{% macro mrs_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{% macro mrs_to_timestamp(column) -%}
    try_cast(nullif(trim({{ column }}), '') as timestamp)
{%- endmacro %}

{% macro mrs_to_double(column) -%}
    try_cast(nullif(trim({{ column }}), '') as double)
{%- endmacro %}

{#- True when the text is present but does not parse as `type`. -#}
{% macro mrs_unparseable(column, type) -%}
    (nullif(trim({{ column }}), '') is not null
        and try_cast(trim({{ column }}) as {{ type }}) is null)
{%- endmacro %}

{#-
  Builds the rejection reason of a row from (condition, reason) pairs: every failed rule is
  named, separated by '; '; null when the row passes.
-#}
{% macro mrs_reject_reasons(rules) -%}
    nullif(concat_ws('; '
        {%- for condition, reason in rules %}
        , case when {{ condition }} then '{{ reason }}' end
        {%- endfor %}
    ), '')
{%- endmacro %}

{#- The 'missing <column>' rules for every required column of an input (raw_ columns). -#}
{% macro mrs_required_rules(input_name) -%}
    {%- set rules = [] -%}
    {%- for column in mrs_input_contract()[input_name]['required'] -%}
        {%- do rules.append((mrs_text('raw_' ~ column) ~ ' is null', 'missing ' ~ column)) -%}
    {%- endfor -%}
    {{ return(rules) }}
{%- endmacro %}

{#- The raw text columns of an input under their contract names, for its _errors table. -#}
{% macro mrs_raw_columns(input_name) -%}
    {%- for column in mrs_input_contract()[input_name]['columns'] %}
        raw_{{ column }} as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
