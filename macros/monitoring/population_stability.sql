{#-
  Population stability index of binned counts: sum over the bins of (live share - reference
  share) * ln(live share / reference share). `bins` names the count columns; `live` and
  `reference` are relations with those columns and a `hours` total.
  Shares are smoothed by a floor of 1e-4 (standard practice), so an empty bin (or a count
  that came out below zero) never gives ln(0), a negative log argument or a division by
  zero. A side with no hours has no distribution: its shares, and the index, are null (not
  1e-4 everywhere, which would read as a large shift).
-#}
{% macro mrs_population_stability(bins, live, reference) -%}
    {%- set terms = [] %}
    {%- for name in bins %}
        {%- set live_share = mrs_smoothed_share(live ~ '.' ~ name, live ~ '.hours') %}
        {%- set reference_share = mrs_smoothed_share(reference ~ '.' ~ name, reference ~ '.hours') %}
        {%- do terms.append('(' ~ live_share ~ ' - ' ~ reference_share ~ ') * ln('
            ~ live_share ~ ' / ' ~ reference_share ~ ')') %}
    {%- endfor %}
    {{- '(' ~ terms | join(' + ') ~ ')' -}}
{%- endmacro %}


{#-
  A bin's share of the total, floored at 1e-4; null when the total is not positive (DuckDB's
  greatest() skips nulls, so the null of nullif(total, 0) alone would come back as 1e-4).
-#}
{% macro mrs_smoothed_share(count, total) -%}
    {{- 'case when ' ~ total ~ ' > 0 then greatest(' ~ count ~ ' / ' ~ total ~ ', 1e-4) end' -}}
{%- endmacro %}
