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


{#-
  How much of a median's distance from 1 a factor keeps: at least what the prior's variance
  earns against the median's noise (prior / (prior + noise)) and, where `passes_whole` holds,
  all of the distance the noise cannot explain (1 - noise / distance^2: a change of several
  noise widths passes almost whole).
-#}
{% macro mrs_shrinkage_weight(prior_variance, noise_variance, median, passes_whole=none) -%}
    {%- set prior_weight -%}
        coalesce(
            ({{ prior_variance }})
            / nullif(({{ prior_variance }}) + ({{ noise_variance }}), 0),
            0
        )
    {%- endset %}
    {%- set distance_weight -%}
        1 - ({{ noise_variance }}) / greatest(pow({{ median }} - 1, 2), 1e-12)
    {%- endset %}
    {%- if passes_whole is none %}
        greatest({{ prior_weight }}, {{ distance_weight }})
    {%- else %}
        case
            when {{ passes_whole }} then greatest({{ prior_weight }}, {{ distance_weight }})
            else {{ prior_weight }}
        end
    {%- endif %}
{%- endmacro %}
