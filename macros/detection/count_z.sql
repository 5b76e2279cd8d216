{#-
  The deviation score of a count against its baseline, in standard units (DESIGN.md
  section 6): the count's variance-stabilising transform for variance = m (1 + b m), with
  m the mean shifted by 3/8 (Anscombe), is (2 / sqrt(b)) asinh(sqrt(b m)): 2 sqrt(m) for
  Poisson counts, (ln m) / sqrt(b) for busy, overdispersed ones, so a quiet hour's stray sale
  and a busy hour's drop are judged on one symmetric scale. The transform has unit variance
  for the model's own noise; `variance` (units squared) may add estimation error and a floor
  on top (delta method).
-#}
{% macro mrs_count_z(actual, expected, variance, quadratic) -%}
    {%- set b = 'greatest(' ~ quadratic ~ ', 1e-9)' -%}
    {%- set m = '(' ~ expected ~ ' + 0.375)' -%}
    (
        2 / sqrt({{ b }}) * (
            asinh(sqrt({{ b }} * ({{ actual }} + 0.375))) - asinh(sqrt({{ b }} * {{ m }}))
        )
        -- A transformed count is on average below the transformed mean by about
        -- (1 + 2 b m) / (4 sqrt(m (1 + b m))) (second order; the last factor keeps it from
        -- overshooting below one unit an hour): added back, or quiet hours would drift low
        -- and the slow detectors would read the drift as a drop.
        + (1 + 2 * {{ b }} * {{ m }}) * (1 - exp(-({{ expected }})))
        / (4 * sqrt({{ m }} * (1 + {{ b }} * {{ m }})))
    )
    / sqrt(nullif({{ variance }}, 0) / ({{ m }} * (1 + {{ b }} * {{ m }})))
{%- endmacro %}


{#-
  The baseline's count variance of an hour with mean `mean`: mean * (1 + b * mean), b the
  series' overdispersion (negative-binomial-like; b = 0 is Poisson).
-#}
{% macro mrs_count_variance(mean, quadratic) -%}
    ({{ mean }}) * (1 + coalesce({{ quadratic }}, 0.0) * ({{ mean }}))
{%- endmacro %}
