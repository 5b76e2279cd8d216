{#-
  A file or folder path (or any text, such as a reader call holding one) as a SQL string
  literal: its single quotes doubled, so a folder named like `o'brien` is read, not pasted
  into the query as broken SQL.
-#}
{% macro mrs_quote_path(path) -%}
    {{- return("'" ~ (path | string) | replace("'", "''") ~ "'") -}}
{%- endmacro %}
