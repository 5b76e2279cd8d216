{#-
  Population stability index of binned counts: sum over the bins of (live share - reference
  share) * ln(live share / reference share), shares floored at 1e-4 so an empty bin stays
  finite. `bins` names the count columns; `live` and `reference` are relations with those
  columns and a `hours` total.
-#}
{% macro mrs_population_stability(bins, live, reference) -%}
    {%- set terms = [] %}
    {%- for name in bins %}
        {%- set live_share = 'greatest(' ~ live ~ '.' ~ name ~ ' / nullif(' ~ live
            ~ '.hours, 0), 1e-4)' %}
        {%- set reference_share = 'greatest(' ~ reference ~ '.' ~ name ~ ' / nullif('
            ~ reference ~ '.hours, 0), 1e-4)' %}
        {%- do terms.append('(' ~ live_share ~ ' - ' ~ reference_share ~ ') * ln('
            ~ live_share ~ ' / ' ~ reference_share ~ ')') %}
    {%- endfor %}
    {{- '(' ~ terms | join(' + ') ~ ')' -}}
{%- endmacro %}
