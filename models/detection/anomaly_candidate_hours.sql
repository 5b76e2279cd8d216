{#-
  Candidate windows for the anomaly classifier, one row per trading hour the classifier needs.

  Per series and direction (up, down), over trading hours only, three detectors run side by
  side (DESIGN.md section 6), each calibrated to a false-alarm rate on independent Gaussian
  hours (docs/detection.md):
  - sharp: an hour is elevated when its z (or its day innovation, below) beyond
    `anomaly_z_elevated` points the window's way; the classifier confirms an onset with a
    CUSUM of reference `anomaly_onset_reference_z` over the hours' day innovations: the z
    beyond what the earlier trading hours of the same day already say about that day's
    level, so a day that runs high as a whole adds up once while one hour far above its own
    day stands out. An hour whose innovation reaches `anomaly_single_hour_z` confirms alone;
    otherwise the run needs `anomaly_onset_hours` elevated hours;
  - drift: two slower CUSUMs of the hourly standardised residual (actual - expected) /
    spread, clipped at `anomaly_drift_clip_z` and divided by the square root of the series'
    day inflation, so correlated hours do not add up to a false alarm. Linear in the units,
    unlike the deviance z, so a sum of hours is the sum of their excess: on a count of one or
    two units an hour the deviance z undervalues every extra unit of a sustained rise. With
    references `anomaly_drift_reference_z` and
    `anomaly_shift_reference_z` and decision intervals `anomaly_drift_evidence` and
    `anomaly_shift_evidence`, starting at detection_start. An hour where one of them is
    beyond its interval and at a new peak of its run is elevated too, so a mild shift of one
    to three days opens a window.
  - the window is over at the first trading hour c, at least `anomaly_closure_hours` after
    its last elevated hour, where those last closure hours together are inside
    `anomaly_z_inside` and neither slow CUSUM is still within `anomaly_drift_drawdown` of
    its peak above its interval;
  - elevated hours before that closure belong to the same window, later ones start a new one.
  Only windows with at least `anomaly_onset_hours` elevated hours, or one hour at
  `anomaly_single_hour_z`, can become reports; their
  hours go to the classifier with `anomaly_backdate_hours` of context before them, or back
  to where a confirming slow CUSUM started.
  All of it is window functions over past hours, so it is the same whichever tick computes it;
  the CUSUM sums are exact decimals, so no thread order can flip a threshold.
-#}
{%- set closure_hours = var('anomaly_closure_hours') | int %}
{%- set backdate_hours = var('anomaly_backdate_hours') | int %}
{%- set drift_cusums = [
    ('drift', var('anomaly_drift_reference_z'), var('anomaly_drift_evidence')),
    ('shift', var('anomaly_shift_reference_z'), var('anomaly_shift_evidence')),
] %}

with

settings as (
    select * from {{ ref('run_settings') }}
),

predictions as (
    select * from {{ ref('baseline_sales_predictions') }}
),

context_scores as (
    -- What each trading hour says about its day's level: its z clipped so one wild hour
    -- cannot set the level, and nothing beyond `anomaly_day_context_exclude_z`: that hour is
    -- an anomaly, not the day's level (counted, an up-spike's clipped hours would make the
    -- ordinary hours after it look low, a rebound report the other way). Decimals, so the
    -- sums below are exact, as for the CUSUMs.
    select
        *,
        case
            when abs(residual_z) <= {{ var('anomaly_day_context_exclude_z') }}
                then cast(
                        least(
                            greatest(residual_z, -{{ var('anomaly_day_context_clip_z') }}),
                            {{ var('anomaly_day_context_clip_z') }}
                        ) as decimal(18, 6)
                    )
        end as context_z
    from predictions
    where is_trading_hour
),

same_day_context as (
    -- The day so far: how many earlier trading hours speak for its level, and their sum.
    select
        * exclude (context_z),
        count(context_z) over same_day_before as day_hours_before,
        coalesce(sum(context_z) over same_day_before, 0) as day_z_before,
        -- Hours of one day correlate at rho (measured in training, at most 0.9).
        coalesce(within_day_correlation, 0.0) as rho
    from context_scores
    window same_day_before as (
        partition by store_id, sku, {{ mrs_sales_day('sales_ts') }}
        order by sales_ts
        rows between unbounded preceding and 1 preceding
    )
),

day_innovations as (
    -- Gaussian conditioning of equicorrelated hours: given k earlier hours of the day
    -- summing to S, an hour's z has mean rho S / (1 + (k - 1) rho) and variance
    -- 1 - k rho^2 / (1 + (k - 1) rho); the innovations of a day are then independent.
    select
        *,
        (
            residual_z
            - case
                when day_hours_before = 0 then 0
                else rho * cast(day_z_before as double) / (1 + (day_hours_before - 1) * rho)
            end
        )
        / sqrt(
            greatest(
                1 - day_hours_before * rho * rho / (1 + greatest(day_hours_before - 1, 0) * rho),
                0.1
            )
        ) as day_innovation_z
    from same_day_context
),

previous_hours as (
    -- Neighbouring hours that share more than their day (`hour_persistence`, measured in
    -- training: weather that lasts a few hours) would add one passing wave up, hour by hour,
    -- into a sharp onset. What the previous trading hour of the day said, clipped, and
    -- nothing from an hour beyond `anomaly_day_context_exclude_z`: its anomaly is not the
    -- noise the next hour shares.
    select
        *,
        coalesce(hour_persistence, 0.0) as persistence,
        lag(
            case
                when abs(residual_z) <= {{ var('anomaly_day_context_exclude_z') }}
                    then least(
                            greatest(
                                day_innovation_z, -{{ var('anomaly_day_context_clip_z') }}
                            ),
                            {{ var('anomaly_day_context_clip_z') }}
                        )
            end
        ) over (
            partition by store_id, sku, {{ mrs_sales_day('sales_ts') }}
            order by sales_ts
        ) as previous_innovation_z
    from day_innovations
),

hour_innovations as (
    -- An AR(1) step: the day innovation less what the previous hour already said, over
    -- what remains of its variance.
    select
        * exclude (persistence, previous_innovation_z),
        case
            when previous_innovation_z is null then day_innovation_z
            else
                (day_innovation_z - persistence * previous_innovation_z)
                / sqrt(1 - persistence * persistence)
        end as hour_innovation_z
    from previous_hours
),

directions as (
    select 1 as direction_sign
    union all
    select -1 as direction_sign
),

trading_hours as (
    select
        predictions.store_id,
        predictions.sku,
        directions.direction_sign,
        predictions.sales_ts,
        predictions.actual_units,
        predictions.expected_units,
        predictions.variance_units,
        predictions.residual_units,
        predictions.residual_z,
        -- The sharp detector's z: the day innovation; the slow detectors' step, clipped so
        -- one wild hour cannot confirm a shift alone, in units of the day-scale inflation.
        -- The slow detectors start at detection_start: before it, the hours are context for
        -- back-dating, and a holiday on the last training days must not carry its evidence
        -- into the first detection hours (it did: a report on most series of a world).
        predictions.hour_innovation_z as onset_z,
        case
            when predictions.sales_ts >= settings.detection_start
                then cast(
                        least(
                            greatest(
                                directions.direction_sign * predictions.residual_units
                                / sqrt(predictions.variance_units),
                                -{{ var('anomaly_drift_clip_z') }}
                            ),
                            {{ var('anomaly_drift_clip_z') }}
                        ) / sqrt(
                            greatest(predictions.day_inflation, 1.0)
                            -- neighbours' persistence adds 2 phi / (1 - phi) to a run's
                            -- variance per hour (AR(1) over the hours that do not share
                            -- their day alone)
                            + 2 * coalesce(predictions.hour_persistence, 0.0)
                            / (1 - coalesce(predictions.hour_persistence, 0.0))
                        ) as decimal(18, 6)
                    )
            else cast(0 as decimal(18, 6))
        end as drift_step,
        row_number() over (
            partition by predictions.store_id, predictions.sku, directions.direction_sign
            order by predictions.sales_ts
        ) as trading_hour_index
    from hour_innovations as predictions
    cross join directions
    cross join settings
),

cumulated as (
    select
        *,
    {%- for name, reference, _ in drift_cusums %}
        sum(drift_step - {{ reference }}) over series_so_far as {{ name }}_cumulative
        {{- "," if not loop.last }}
    {%- endfor %}
    from trading_hours
    window series_so_far as (
        partition by store_id, sku, direction_sign
        order by trading_hour_index
        rows between unbounded preceding and current row
    )
),

cusums as (
    -- CUSUM = cumulative sum minus its running minimum (zero before the first hour).
    select
        *,
    {%- for name, _, _ in drift_cusums %}
        {{ name }}_cumulative
        - least(0, min({{ name }}_cumulative) over series_so_far) as {{ name }}_evidence
        {{- "," if not loop.last }}
    {%- endfor %}
    from cumulated
    window series_so_far as (
        partition by store_id, sku, direction_sign
        order by trading_hour_index
        rows between unbounded preceding and current row
    )
),

cusum_runs as (
    -- A run starts after the last hour the CUSUM was at zero.
    select
        *,
    {%- for name, _, _ in drift_cusums %}
        coalesce(
            max(case when {{ name }}_evidence = 0 then trading_hour_index end)
                over series_so_far,
            0
        ) + 1 as {{ name }}_run_start_index
        {{- "," if not loop.last }}
    {%- endfor %}
    from cusums
    window series_so_far as (
        partition by store_id, sku, direction_sign
        order by trading_hour_index
        rows between unbounded preceding and current row
    )
),

drift_peaks as (
    -- Each slow CUSUM's highest evidence so far in its current run, before this hour.
    select
        cusum_runs.*,
    {%- for name, _, _ in drift_cusums %}
        coalesce(max({{ name }}_evidence) over (
            partition by
                cusum_runs.store_id,
                cusum_runs.sku,
                cusum_runs.direction_sign,
                {{ name }}_run_start_index
            order by cusum_runs.trading_hour_index
            rows between unbounded preceding and 1 preceding
            ), 0) as {{ name }}_previous_peak
        {{- "," if not loop.last }}
    {%- endfor %}
    from cusum_runs
),

drift_hours as (
    -- An alarm: beyond the interval and at a new peak of the run.
    select
        *,
    {%- for name, _, evidence in drift_cusums %}
        {{ name }}_evidence >= {{ evidence }}
        and {{ name }}_evidence > {{ name }}_previous_peak as is_{{ name }}_alarm
        {{- "," if not loop.last }}
    {%- endfor %}
    from drift_peaks
),

flagged as (
    select
        drift_hours.*,
        drift_hours.sales_ts >= settings.detection_start and (
            greatest(
                drift_hours.direction_sign * drift_hours.residual_z,
                drift_hours.direction_sign * drift_hours.onset_z
            ) >= {{ var('anomaly_z_elevated') }}
            {%- for name, _, _ in drift_cusums %}
                or drift_hours.is_{{ name }}_alarm
            {%- endfor %}
        ) as is_elevated,
        -- Stouffer's combination of the block's z values, and no slow CUSUM still near a
        -- peak above its interval.
        count(*) over closure_block = {{ closure_hours }}
        and drift_hours.direction_sign * sum(drift_hours.residual_z) over closure_block
        / sqrt({{ closure_hours }}) < {{ var('anomaly_z_inside') }}
        {%- for name, _, evidence in drift_cusums %}
            and (
                drift_hours.{{ name }}_evidence < {{ evidence }}
                or drift_hours.{{ name }}_evidence
                <= drift_hours.{{ name }}_previous_peak - {{ var('anomaly_drift_drawdown') }}
            )
        {%- endfor %} as is_inside
    from drift_hours
    cross join settings
    window closure_block as (
        partition by
            drift_hours.store_id, drift_hours.sku, drift_hours.direction_sign
        order by drift_hours.trading_hour_index
        rows between {{ closure_hours - 1 }} preceding and current row
    )
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
    from flagged
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
