{#-
  Candidate windows for the anomaly classifier, one row per trading hour the classifier needs,
  assembled from the detectors' scan of every trading hour (anomaly_scan_hours: the sharp
  detector's z, the two slow CUSUMs, which hours are elevated and which closure blocks are
  inside; DESIGN.md section 6, docs/detection.md):
  - the window is over at the first trading hour c, at least `anomaly_closure_hours` after
    its last elevated hour, where those last closure hours together are inside
    `anomaly_z_inside` and neither slow CUSUM is still within `anomaly_drift_drawdown` of
    its peak above its interval;
  - elevated hours before that closure belong to the same window, later ones start a new one.
  Only windows with at least `anomaly_onset_hours` elevated hours, or one hour at
  `anomaly_single_hour_z`, can become reports; their
  hours go to the classifier with `anomaly_backdate_hours` of context before them, or back
  to where a confirming slow CUSUM started.
  All of it is window functions over past hours, so it is the same whichever tick computes it.
-#}
{%- set closure_hours = var('anomaly_closure_hours') | int %}
{%- set backdate_hours = var('anomaly_backdate_hours') | int %}
{%- set drift_cusums = mrs_drift_cusums() %}

with

scan as not materialized (
    -- Read where each CTE needs it: materialised once, every hour's columns would be held
    -- in memory (0.7 GB more at 12 months of 500 series).
    select * from {{ ref('anomaly_scan_hours') }}
),

elevated_hours as (
    select * from scan
    where is_elevated
),

inside_hours as (
    select
        store_id,
        sku,
        direction_sign,
        trading_hour_index
    from scan
    where is_inside
),

closures as (
    -- Each elevated hour's first trading hour whose closure block lies wholly after it: the
    -- nearest inside hour at least `anomaly_closure_hours` later (a series' trading hours
    -- are numbered without gaps). An as-of join of the elevated hours alone, where a window
    -- over every hour took 2.5 times as long at 12 months of history.
    select
        elevated_hours.*,
        inside_hours.trading_hour_index as next_closure_index
    from elevated_hours
    asof left join inside_hours
        on
            elevated_hours.store_id = inside_hours.store_id
            and elevated_hours.sku = inside_hours.sku
            and elevated_hours.direction_sign = inside_hours.direction_sign
            and inside_hours.trading_hour_index
            >= elevated_hours.trading_hour_index + {{ closure_hours }}
),

elevated as (
    select
        *,
        max(coalesce(next_closure_index, 9223372036854775807)) over (
            partition by store_id, sku, direction_sign
            order by trading_hour_index
            rows between unbounded preceding and 1 preceding
        ) as previous_window_closure_index
    from closures
),

window_starts as (
    select
        *,
        coalesce(trading_hour_index > previous_window_closure_index, true) as starts_window
    from elevated
),

numbered as (
    select
        *,
        sum(cast(starts_window as integer)) over (
            partition by store_id, sku, direction_sign
            order by trading_hour_index
        ) as window_number
    from window_starts
),

windows as (
    select
        store_id,
        sku,
        direction_sign,
        window_number,
        min(sales_ts) as first_elevated_ts,
        min(trading_hour_index) as first_elevated_index,
        max(trading_hour_index) as last_elevated_index,
        count(*) as elevated_hours,
        -- next_closure_index never decreases along a window, and is null only while the
        -- window is open (arg_max would skip that null, so it is spelt out).
        case
            when bool_or(next_closure_index is null) then null
            else max(next_closure_index)
        end as closure_index,
        -- Back-dating never reaches into the previous window of the same series.
        max(case when starts_window then previous_window_closure_index end)
            as previous_window_closure_index,
        -- ... but may reach back to where a slow CUSUM that fired in it began its run.
        least(
            min(trading_hour_index) - {{ backdate_hours }},
            {%- for name, _, _ in drift_cusums %}
                coalesce(
                    min(case when is_{{ name }}_alarm then {{ name }}_run_start_index end),
                    9223372036854775807
                ),
            {%- endfor %}
            9223372036854775807
        ) as context_start_index
    from numbered
    group by store_id, sku, direction_sign, window_number
    having
        count(*) >= {{ var('anomaly_onset_hours') | int }}
        or max(direction_sign * onset_z) >= {{ var('anomaly_single_hour_z') }}
),

identified as (
    select
        {{ mrs_id('CW-', [
            'store_id', 'sku', "case when direction_sign = 1 then 'up' else 'down' end",
            'first_elevated_ts'
        ]) }} as candidate_window_id,
        *
    from windows
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

candidate_hours as (
    select
        window_hours.candidate_window_id,
        window_hours.store_id,
        window_hours.sku,
        case when window_hours.direction_sign = 1 then 'up' else 'down' end as direction,
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
    {%- for name, _, _ in drift_cusums %}
        scan.is_{{ name }}_alarm,
        scan.{{ name }}_run_start_index
        {{- "," if not loop.last }}
    {%- endfor %}
    from window_hours
    inner join scan
        on
            window_hours.store_id = scan.store_id
            and window_hours.sku = scan.sku
            and window_hours.direction_sign = scan.direction_sign
            and window_hours.trading_hour_index = scan.trading_hour_index
)

select * from candidate_hours
