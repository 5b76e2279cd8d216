{#-
  A factor estimated as a median of recent ratios, shrunk towards 1 by `weight` (real), and
  the relative variance that remains uncertain about it (`remaining_variance`;
  `missing_variance` when there is no median yet); 1 and 0 (mock). Two columns, named
  `factor_name` and `variance_name`.
-#}
{% macro mrs_shrunk_factor(
    route, median, weight, remaining_variance, missing_variance, factor_name, variance_name
) -%}
    {%- if route == 'real' %}
        coalesce(1 + ({{ median }} - 1) * {{ weight }}, 1.0) as {{ factor_name }},
        case
            when {{ median }} is null then {{ missing_variance }}
            else {{ remaining_variance }}
        end as {{ variance_name }}
    {%- else %}
        cast(1.0 as double) as {{ factor_name }},
        cast(0.0 as double) as {{ variance_name }}
    {%- endif %}
{%- endmacro %}
