{#-
  Candidate windows for the anomaly classifier, one row per trading hour the classifier needs,
  assembled from the detectors' scan of every trading hour (anomaly_scan_hours: the sharp
  detector's z, the two slow CUSUMs, which hours are elevated, which closure blocks are
  inside, and where each hour's window stands; DESIGN.md section 6, docs/detection.md):
  - the window is over at the first trading hour c, at least `anomaly_closure_hours` after
    its last elevated hour, where those last closure hours together are inside
    `anomaly_z_inside` and neither slow CUSUM is still within `anomaly_drift_drawdown` of
    its peak above its interval (the scan's is_window_closure);
  - elevated hours before that closure belong to the same window, later ones start a new one
    (the scan's is_window_start).
  Only windows with at least `anomaly_onset_hours` elevated hours, or one hour at
  `anomaly_single_hour_z`, can become reports; their hours go to the classifier with
  `anomaly_backdate_hours` of context before them, or back to where a confirming slow CUSUM
  started. anomaly_candidate_hours is this table without its day marks.
  Kept from build to build (issue 18): a row per sales day marks what the scan held for that
  day when it was assembled (`scan_day_digest`); a build assembles again, per series, the
  windows from the one still open at the first day whose mark differs (its first changed
  hour when none is), reading the scan only from the context the first of them needs
  (macros/detection/assembled_days.sql); all of them when the code or a var changed.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_windows_from',
    on_schema_change='fail',
) }}
{%- set backdate_hours = var('anomaly_backdate_hours') | int %}
{#- Stand for the first assembled day, the first day read and the code's digest in the SQL
    below, whose text is digested without them. -#}
{%- set first_day = '__mrs_first_assembled_day__' %}
{%- set read_day = '__mrs_first_read_day__' %}
{%- set code_digest_token = '__mrs_code_digest__' %}
{%- set boundary_token = '__mrs_boundary_rows__' %}

{%- set assembly_sql -%}
with

scan as not materialized (
    -- Read where each CTE needs it: materialised once, every hour's columns would be held
    -- in memory (0.7 GB more at 12 months of 500 series).
    select * from {{ ref('anomaly_scan_hours') }}
    where {{ read_day }} is null or sales_day >= {{ read_day }}
),

{{ mrs_assembled_from('scan', first_day) }},

elevated_hours as (
    select scan.*
    from scan
    left join assembled_from
        on
            scan.store_id = assembled_from.store_id
            and scan.sku = assembled_from.sku
            and scan.direction_sign = assembled_from.direction_sign
    where
        scan.is_elevated
        and (
            {{ first_day }} is null
            or scan.trading_hour_index >= assembled_from.first_index
        )
),

windowed_hours as (
    -- Each elevated hour's window: the last window start at or before it.
    select
        *,
        max(case when is_window_start then trading_hour_index end) over (
            partition by store_id, sku, direction_sign
            order by trading_hour_index
            rows between unbounded preceding and current row
        ) as window_first_index
    from elevated_hours
),

windows as (
    select
        store_id,
        sku,
        direction_sign,
        window_first_index,
        min(sales_ts) as first_elevated_ts,
        min(trading_hour_index) as first_elevated_index,
        max(trading_hour_index) as last_elevated_index,
        -- Back-dating may reach back to where a slow CUSUM that fired in the window began
        -- its run.
        least(
            min(trading_hour_index) - {{ backdate_hours }},
            {{ mrs_window_alarm_columns('run_start') }}
        ) as context_start_index
    from windowed_hours
    group by store_id, sku, direction_sign, window_first_index
    having
        count(*) >= {{ var('anomaly_onset_hours') | int }}
        or max(direction_sign * onset_z) >= {{ var('anomaly_single_hour_z') }}
),

closures as (
    -- The hours a window closed at.
    select
        store_id,
        sku,
        direction_sign,
        trading_hour_index
    from scan
    where is_window_closure
),

closed_windows as (
    -- Each window's closure (the first after its last elevated hour; none while open) and
    -- the previous window's, which its back-dating never reaches into (as-of joins).
    select
        windows.*,
        next_closures.trading_hour_index as closure_index,
        previous_closures.trading_hour_index as previous_window_closure_index
    from windows
    asof left join closures as next_closures
        on
            windows.store_id = next_closures.store_id
            and windows.sku = next_closures.sku
            and windows.direction_sign = next_closures.direction_sign
            and next_closures.trading_hour_index > windows.last_elevated_index
    asof left join closures as previous_closures
        on
            windows.store_id = previous_closures.store_id
            and windows.sku = previous_closures.sku
            and windows.direction_sign = previous_closures.direction_sign
            and previous_closures.trading_hour_index < windows.first_elevated_index
),

identified as (
    select
        {{ mrs_id('CW-', [
            'store_id', 'sku', mrs_direction('direction_sign'),
            'first_elevated_ts'
        ]) }} as candidate_window_id,
        *
    from closed_windows
),

series_last_hours as (
    select
        store_id,
        sku,
        direction_sign,
        max(trading_hour_index) as last_trading_hour_index
    from scan
    group by store_id, sku, direction_sign
),

window_hours as (
    -- Each window's trading hours, by number: its context, then the window up to its
    -- closure (to the series' last hour while open). Numbered, they join the scan on
    -- equality; a join on the series with the range as a filter compared every window with
    -- every hour of its series.
    select
        identified.*,
        unnest(generate_series(
            greatest(
                identified.context_start_index,
                identified.first_elevated_index - {{ var('anomaly_drift_backdate_hours') | int }},
                coalesce(identified.previous_window_closure_index + 1, 0)
            ),
            coalesce(identified.closure_index, series_last_hours.last_trading_hour_index)
        )) as trading_hour_index
    from identified
    inner join series_last_hours
        on
            identified.store_id = series_last_hours.store_id
            and identified.sku = series_last_hours.sku
            and identified.direction_sign = series_last_hours.direction_sign
),

window_series_hours as (
    -- The scan's hours of the series with a window, from their first window's context on:
    -- joined hour by hour with the whole scan read, DuckDB hashed every hour of it (0.6 s of a
    -- 20 M-row tick's 0.7).
    select scan.*
    from scan
    inner join (
        select
            store_id,
            sku,
            direction_sign,
            min(trading_hour_index) as first_index
        from window_hours
        group by store_id, sku, direction_sign
    ) as window_series
        on
            scan.store_id = window_series.store_id
            and scan.sku = window_series.sku
            and scan.direction_sign = window_series.direction_sign
            and scan.trading_hour_index >= window_series.first_index
),

candidate_hours as (
    select
        window_hours.candidate_window_id,
        window_hours.store_id,
        window_hours.sku,
        {{ mrs_direction('window_hours.direction_sign') }} as direction,
        window_hours.first_elevated_ts,
        window_hours.closure_index is not null as is_window_closed,
        scan.sales_ts,
        scan.trading_hour_index,
        scan.trading_hour_index >= window_hours.first_elevated_index as is_in_window,
        scan.is_elevated,
        coalesce(scan.trading_hour_index = window_hours.closure_index, false)
            as is_closure_hour,
        scan.actual_units,
        scan.expected_units,
        scan.variance_units,
        scan.residual_units,
        scan.residual_z,
        scan.onset_z,
        scan.drift_step,
        {{ mrs_window_alarm_columns('hour', 'scan') }},
        cast(null as ubigint) as scan_day_digest
    from window_hours
    inner join window_series_hours as scan
        on
            window_hours.store_id = scan.store_id
            and window_hours.sku = scan.sku
            and window_hours.direction_sign = scan.direction_sign
            and window_hours.trading_hour_index = scan.trading_hour_index
),

day_marks as (
    -- One row per sales day assembled: what the scan held for it (its input and code) and
    -- this code, which a later build compares.
    select
        cast(sales_day as timestamp) as sales_ts,
        {{ mrs_scan_day_digest('scan', code_digest_token) }} as scan_day_digest
    from scan
    where {{ first_day }} is null or sales_day >= {{ first_day }}
    group by sales_day
),

series_boundaries as (
    -- For the incremental strategy, never inserted: per series the first window start
    -- assembled again, from which its kept windows are replaced ...
    select
        assembled_from.store_id,
        assembled_from.sku,
        {{ mrs_direction('assembled_from.direction_sign') }} as direction,
        scan.sales_ts as first_elevated_ts
    from assembled_from
    inner join scan
        on
            assembled_from.store_id = scan.store_id
            and assembled_from.sku = scan.sku
            and assembled_from.direction_sign = scan.direction_sign
            and assembled_from.first_index = scan.trading_hour_index
    where {{ boundary_token }}
),

day_boundary as (
    -- ... and the first day assembled again, from which the day marks are (every kept
    -- window and mark when every day is assembled).
    select
        cast(coalesce({{ first_day }}, cast('-infinity' as date)) as timestamp) as sales_ts,
        case when {{ first_day }} is null then cast('-infinity' as timestamp) end
            as first_elevated_ts
    where {{ boundary_token }}
)

select * from candidate_hours
union all by name
select * from day_marks
union all by name
select * from series_boundaries
union all by name
select * from day_boundary
{%- endset %}

{%- set code_digest = mrs_code_digest(assembly_sql) %}
{%- set assembled = mrs_first_assembled_day(code_digest) %}

{{ assembly_sql
    | replace(first_day, assembled['first_day'])
    | replace(read_day, assembled['read_day'])
    | replace(boundary_token, 'true' if is_incremental() else 'false')
    | replace(code_digest_token, code_digest) }}
