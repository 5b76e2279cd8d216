{#- The time model of DESIGN.md section 2, in one place. -#}

{#-
  The stores' wall-clock time of a UTC timestamp (DESIGN.md section 4: times are UTC): var
  mrs_store_timezone, an IANA zone such as 'Europe/Berlin'; null takes the feed's hours as the
  stores' own. The baseline's calendar (hour of the week, the day an hour belongs to) is read
  on it, so an opening hour stays the opening hour across a daylight-saving change: on a UTC
  feed every trading hour moves by one, and a profile fitted before the change would see
  every opening and closing hour as an anomaly.
-#}
{% macro mrs_local_time(ts) -%}
    {%- set zone = var('mrs_store_timezone', none) -%}
    {%- if zone -%}
        {%- if not modules.re.match('^[A-Za-z][A-Za-z0-9_+/-]*$', zone) -%}
            {{ exceptions.raise_compiler_error(
                "mrs_store_timezone must be an IANA time zone such as 'Europe/Berlin', not '"
                ~ zone ~ "'") }}
        {%- endif -%}
        timezone('{{ zone }}', ({{ ts }}) at time zone 'UTC')
    {%- else -%}
        {{ ts }}
    {%- endif -%}
{%- endmacro %}

{#- Hour of the week in the stores' time, Monday 00:00 = 0 ... Sunday 23:00 = 167. -#}
{% macro mrs_hour_of_week(ts) -%}
    ((isodow({{ mrs_local_time(ts) }}) - 1) * 24 + hour({{ mrs_local_time(ts) }}))
{%- endmacro %}

{#- The stores' calendar day of a UTC timestamp. -#}
{% macro mrs_sales_day(ts) -%}
    cast({{ mrs_local_time(ts) }} as date)
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
