{#-
  A comma-separated list of one expression per name: `template` with '@' replaced by the
  name, one per line at `indent` spaces (so the rendered SQL stays lint-clean).
-#}
{% macro mrs_listed(names, template, indent=8) -%}
    {%- set items = [] -%}
    {%- for name in names -%}
        {%- do items.append(template | replace('@', name)) -%}
    {%- endfor -%}
    {{ items | join(',\n' ~ ' ' * indent) }}
{%- endmacro %}
