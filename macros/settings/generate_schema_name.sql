{#-
  Schemas that show the layers: a folder that sets `+schema` (staging) lands in that schema
  by its own name, everything else in the target's (main). dbt's default would prefix the
  target's name (main_staging).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
