{#- The time model of DESIGN.md section 2, in one place. -#}

{#-
  The stores' wall-clock time of a UTC timestamp (DESIGN.md section 4: times are UTC): var
  mrs_store_timezone, an IANA zone such as 'Europe/Berlin'; null takes the feed's hours as the
  stores' own, unless they were found to follow a zone's daylight-saving change (model
  baseline_clock_change: from the hour found, that zone's clock less its offset before the
  change). An opening hour stays the opening hour across a daylight-saving change: on a UTC
  feed every trading hour moves by one, and a profile fitted before the change would see
  every opening and closing hour as an anomaly.
-#}
{% macro mrs_clock_time(ts) -%}
    {%- set zone = var('mrs_store_timezone', none) -%}
    {%- if zone -%}
        {%- if not modules.re.match('^[A-Za-z][A-Za-z0-9_+/-]*$', zone) -%}
            {{ exceptions.raise_compiler_error(
                "mrs_store_timezone must be an IANA time zone such as 'Europe/Berlin', not '"
                ~ zone ~ "'") }}
        {%- endif -%}
        timezone('{{ zone }}', ({{ ts }}) at time zone 'UTC')
    {%- else -%}
        {%- set change = mrs_clock_change() -%}
        {%- if change -%}
            {#- From the first hour the feed was seen to follow the zone's clock: that clock,
                less its offset before the change, so the hours before read as they are. -#}
            (case
                when ({{ ts }}) >= cast('{{ change.read_from_ts }}' as timestamp)
                    then timezone('{{ change.clock_zone }}', ({{ ts }}) at time zone 'UTC')
                    - to_seconds(cast({{ change.offset_before_seconds }} as bigint))
                else ({{ ts }})
            end)
        {%- else -%}
            {{ ts }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
  The daylight-saving change a UTC feed left without its zone follows, as the build reads it
  from baseline_clock_change: a mapping (clock_zone, read_from_ts, offset_before_seconds), or
  none. As mrs_day_start_hour: the ref at parse, the graph's relation at execution; none when
  nothing is built and in a dbt unit test.
-#}
{% macro mrs_clock_change() -%}
    {%- if model is not mapping or model.resource_type == 'unit_test' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not execute -%}
        {%- do ref('baseline_clock_change') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = mrs_built_relation('baseline_clock_change') -%}
    {%- if relation is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        'select clock_zone, read_from_ts, offset_before_seconds from ' ~ relation
        ~ ' where is_clock_moved').rows -%}
    {%- if found | length != 1 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return({
        'clock_zone': found[0][0],
        'read_from_ts': found[0][1].strftime('%Y-%m-%d %H:%M:%S'),
        'offset_before_seconds': found[0][2] | int,
    }) }}
{%- endmacro %}

{#-
  The baseline's calendar time of a UTC timestamp: the stores' clock less the hour its
  trading day starts at (model baseline_day_start). The baseline's day, weekday and hour of
  the week are read on it, so a day is cut where the feed's week is quietest, not inside the
  trading hours (a UTC feed of stores far from UTC: every trading day scored as two halves,
  the day-level variance doubled and the sharp detector flooded; docs/detection.md). Where
  the day starts at midnight (most feeds) this is the clock, as SQL unchanged.
-#}
{% macro mrs_local_time(ts) -%}
    {%- set day_start = mrs_day_start_hour() -%}
    {%- if day_start == 0 -%}
        {{ mrs_clock_time(ts) }}
    {%- else -%}
        ({{ mrs_clock_time(ts) }} - interval {{ day_start }} hour)
    {%- endif -%}
{%- endmacro %}

{#-
  The hour (0-23 on the stores' clock) the baseline's trading day starts at, as the build
  reads it from baseline_day_start: a number in the SQL, so the fit's fingerprint and the
  kept scores' code digests change with it. Parsing takes the ref, so a model that reads the
  baseline's calendar depends on that model; a build finds it through the graph, so a macro
  that reads the calendar only when it runs (a kept table's comparisons) needs no ref of its
  own. 0 when nothing is built (sqlfluff, `dbt compile` on an empty file) and in a dbt unit
  test.
-#}
{% macro mrs_day_start_hour() -%}
    {%- if model is not mapping or model.resource_type == 'unit_test' -%}
        {{ return(0) }}
    {%- endif -%}
    {%- if not execute -%}
        {%- do ref('baseline_day_start') -%}
        {{ return(0) }}
    {%- endif -%}
    {%- set relation = mrs_built_relation('baseline_day_start') -%}
    {%- if relation is none -%}
        {{ return(0) }}
    {%- endif -%}
    {%- set found = run_query('select day_start_hour from ' ~ relation) -%}
    {{ return(found.columns[0].values()[0] | int if found.rows | length == 1 else 0) }}
{%- endmacro %}

{#-
  A model's relation as built in this build's database (the graph's node, so no ref is
  taken at execution), or none before it is built.
-#}
{% macro mrs_built_relation(model_name) -%}
    {%- set node = graph.nodes['model.' ~ project_name ~ '.' ~ model_name] -%}
    {{ return(adapter.get_relation(
        database=node.database, schema=node.schema, identifier=node.alias
    )) }}
{%- endmacro %}

{#- Hour of the week on the baseline's calendar, Monday's first hour = 0 ... 167; on the
    stores' clock with time_of=mrs_clock_time (Monday 00:00 = 0). -#}
{% macro mrs_hour_of_week(ts, time_of=mrs_local_time) -%}
    ((isodow({{ time_of(ts) }}) - 1) * 24 + hour({{ time_of(ts) }}))
{%- endmacro %}

{#- The baseline's day of a UTC timestamp: the stores' trading day, named by the date it
    starts on. -#}
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
