{#-
  The deviation score of a count against its baseline, in standard units (DESIGN.md
  section 6): the signed deviance residual of the count under a negative binomial with mean
  m and variance m (1 + b m), sign(y - m) sqrt(2 [y ln(y / m) - (y + 1 / b) ln((1 + b y) /
  (1 + b m))]) (Poisson's 2 [y ln(y / m) - (y - m)] when b m is negligible). It is a
  likelihood-ratio score, so its tails match a standard normal's on both sides at every
  volume and overdispersion (a variance-stabilising transform's do not: its upper tail is
  light and its lower tail heavy once b m is large, which hid rises and invented drops).
  Its mean is below zero by about the skewness over six; that is added back (Pierce and
  Schafer), with a damping fitted to the exact mean below one unit an hour, so quiet hours
  do not drift low and the slow detectors never read the drift as a drop. The score has unit
  variance for the model's own noise; `variance` (units squared) may add estimation error
  and a floor on top, and the score shrinks by the square root of that excess. A mean below
  0.01 units is taken as 0.01 (a sale in a closed hour is a finite deviation).
-#}
{% macro mrs_count_z(actual, expected, variance, quadratic) -%}
    {%- set b = 'greatest(' ~ quadratic ~ ', 1e-9)' -%}
    {%- set m = 'greatest(' ~ expected ~ ', 0.01)' -%}
    {%- set y = '(' ~ actual ~ ')' -%}
    (
        sign({{ y }} - {{ m }})
        * sqrt(greatest(2 * (
            case when {{ y }} > 0 then {{ y }} * ln({{ y }} / {{ m }}) else 0 end
            - case
                -- Poisson limit: (y + 1/b) ln(...) loses every digit to rounding there.
                when {{ b }} * greatest({{ y }}, {{ m }}) < 1e-6 then {{ y }} - {{ m }}
                else ({{ y }} + 1 / {{ b }}) * ln((1 + {{ b }} * {{ y }}) / (1 + {{ b }} * {{ m }}))
            end
        ), 0))
        + (1 + 2 * {{ b }} * {{ m }}) / (6 * sqrt({{ m }} * (1 + {{ b }} * {{ m }})))
        * (1 - exp(-6.25 * {{ m }})) * (1 + 0.3 * {{ m }} * exp(-{{ m }} / 2.5))
    )
    / sqrt(greatest(nullif({{ variance }}, 0) / ({{ m }} * (1 + {{ b }} * {{ m }})), 1))
{%- endmacro %}


{#-
  The baseline's count variance of an hour with mean `mean`: mean * (1 + b * mean), b the
  series' overdispersion (negative-binomial-like; b = 0 is Poisson).
-#}
{% macro mrs_count_variance(mean, quadratic) -%}
    ({{ mean }}) * (1 + coalesce({{ quadratic }}, 0.0) * ({{ mean }}))
{%- endmacro %}


{#-
  Relative variance of one day's total units (of a day expected to sell `day_units` over
  `trading_hours`, its effective hours: (sum m)^2 / sum m^2, fewer than it trades where the
  day has peaks): its count (1 / units), the hours' overdispersion (b / hours) and the
  shared day factor (s^2). What the level factor's median of days and the profile's weekday
  totals are as noisy as.
-#}
{% macro mrs_day_noise_variance(day_units, quadratic, trading_hours, day_variance) -%}
    (
        1 / greatest({{ day_units }}, 1)
        + coalesce({{ quadratic }}, 0) / greatest(coalesce({{ trading_hours }}, 1), 1)
        + coalesce({{ day_variance }}, 0)
    )
{%- endmacro %}


{#-
  How much noisier shares of a day are than a multinomial's, as a variance factor (at least
  1): the median, over pairs of the same hour a week (or more) apart, of the change of the
  hour's share squared, over what a multinomial gives it (the mean share s times (1 - s)
  times 1 / day units + 1 / the earlier day's units) and over the median of a chi-square
  with one degree of freedom (0.455). An aggregate over such pairs; a pair whose shares are
  both 0 or both 1 (or without an earlier day) says nothing and is left out.
-#}
{% macro mrs_share_overdispersion(share, earlier_share, day_units, earlier_day_units) -%}
    {%- set mean_share = '((' ~ share ~ ' + ' ~ earlier_share ~ ') / 2)' -%}
    greatest(
        median(
            pow({{ share }} - {{ earlier_share }}, 2)
            / (
                {{ mean_share }} * (1 - {{ mean_share }})
                * (1 / {{ day_units }} + 1 / {{ earlier_day_units }})
            )
        ) filter (where {{ mean_share }} > 0 and {{ mean_share }} < 1) / 0.455,
        1.0
    )
{%- endmacro %}


{#-
  The sample variance of `value` over a group (null for one row), from exact decimal sums:
  the same whatever order parallel threads add the rows up in (determinism).
-#}
{% macro mrs_exact_sample_variance(value) -%}
    (
        cast(sum(cast(pow({{ value }}, 2) as decimal(38, 12))) as double)
        - pow(cast(sum(cast({{ value }} as decimal(38, 12))) as double), 2) / count(*)
    )
    / nullif(count(*) - 1, 0)
{%- endmacro %}
