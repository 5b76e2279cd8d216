{#-
  Whether a contextual row's scope takes in a target row: each scope column (DESIGN.md §4:
  store, city, region, retailer, product) names one value or, null, every value.
-#}
{% macro mrs_in_scope(scope, target, columns=['store_id', 'city', 'region', 'retailer']) -%}
    {%- for column in columns %}
        {% if not loop.first %}and {% endif -%}
        ({{ scope }}.{{ column }} is null or {{ target }}.{{ column }} = {{ scope }}.{{ column }})
    {%- endfor %}
{%- endmacro %}
