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

scan as (
    select * from {{ ref('anomaly_scan_hours') }}
),

closures as (
    select
        *,
        -- The first trading hour whose closure block lies wholly after this hour.
        min(case when is_inside then trading_hour_index end) over (
            partition by store_id, sku, direction_sign
            order by trading_hour_index
            rows between {{ closure_hours }} following and unbounded following
        ) as next_closure_index
    from scan
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
    where is_elevated
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

candidate_hours as (
    select
        identified.candidate_window_id,
        identified.store_id,
        identified.sku,
        case when identified.direction_sign = 1 then 'up' else 'down' end as direction,
        identified.first_elevated_ts,
        identified.closure_index is not null as is_window_closed,
        closures.sales_ts,
        closures.trading_hour_index,
        closures.trading_hour_index >= identified.first_elevated_index as is_in_window,
        closures.is_elevated,
        coalesce(closures.trading_hour_index = identified.closure_index, false)
            as is_closure_hour,
        closures.actual_units,
        closures.expected_units,
        closures.variance_units,
        closures.residual_units,
        closures.residual_z,
        closures.onset_z,
        closures.drift_step,
    {%- for name, _, _ in drift_cusums %}
        closures.is_{{ name }}_alarm,
        closures.{{ name }}_run_start_index
        {{- "," if not loop.last }}
    {%- endfor %}
    from identified
    inner join closures
        on
            identified.store_id = closures.store_id
            and identified.sku = closures.sku
            and identified.direction_sign = closures.direction_sign
            and closures.trading_hour_index
            between greatest(
                identified.context_start_index,
                identified.first_elevated_index - {{ var('anomaly_drift_backdate_hours') | int }},
                coalesce(identified.previous_window_closure_index + 1, 0)
            )
            and coalesce(identified.closure_index, 9223372036854775807)
)

select * from candidate_hours
