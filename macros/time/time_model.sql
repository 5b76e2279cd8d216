{#- The time model of DESIGN.md section 2, in one place. -#}

{#- Hour of the week, Monday 00:00 = 0 ... Sunday 23:00 = 167. -#}
{% macro mrs_hour_of_week(ts) -%}
    ((isodow({{ ts }}) - 1) * 24 + hour({{ ts }}))
{%- endmacro %}

{#- A build setting holding a time, as a timestamp literal. -#}
{% macro mrs_timestamp_setting(name) -%}
    cast('{{ mrs_build_setting(name) }}' as timestamp)
{%- endmacro %}

{#-
  The first tick at or after `ts`: ticks are detection_start + n * tick_hours. A decision
  made from the hours before `ts` is first visible at that tick.
-#}
{% macro mrs_tick_at_or_after(ts) -%}
    {%- set start = mrs_timestamp_setting('detection_start') -%}
    {%- set step = var('tick_hours') | int -%}
    -- greatest() skips nulls, so a null time stays null explicitly.
    case
        when ({{ ts }}) is not null
            then greatest(
                {{ start }},
                {{ dbt.dateadd(
                    'hour',
                    step ~ ' * cast(ceil(' ~ dbt.datediff(start, ts, 'minute')
                    ~ ' / ' ~ (step * 60) ~ '.0) as bigint)',
                    start) }}
            )
    end
{%- endmacro %}

{#- Hours from `start` to `finish` (fractional; negative when finish is earlier). -#}
{% macro mrs_hours_between(start, finish) -%}
    ((epoch({{ finish }}) - epoch({{ start }})) / 3600.0)
{%- endmacro %}
