{#-
  Candidate windows for the anomaly classifier, one row per trading hour the classifier needs.

  Per series and direction (up, down), over trading hours only:
  - an hour is elevated when its z beyond `anomaly_z_elevated` points the window's way;
  - the window is over at the first trading hour c, at least `anomaly_closure_hours` after
    its last elevated hour, where those last closure hours together are inside
    `anomaly_z_inside`;
  - elevated hours before that closure belong to the same window, later ones start a new one.
  Only windows with at least `anomaly_onset_hours` elevated hours can become reports; their
  hours go to the classifier with `anomaly_backdate_hours` of context before them.
  All of it is window functions over past hours, so it is the same whichever tick computes it.
-#}
{%- set closure_hours = var('anomaly_closure_hours') | int %}
{%- set backdate_hours = var('anomaly_backdate_hours') | int %}

with

settings as (
    select * from {{ ref('run_settings') }}
),

predictions as (
    select * from {{ ref('baseline_sales_predictions') }}
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
        row_number() over (
            partition by predictions.store_id, predictions.sku, directions.direction_sign
            order by predictions.sales_ts
        ) as trading_hour_index
    from predictions
    cross join directions
    where predictions.is_trading_hour
),

flagged as (
    select
        trading_hours.*,
        trading_hours.direction_sign * trading_hours.residual_z
        >= {{ var('anomaly_z_elevated') }}
        and trading_hours.sales_ts >= settings.detection_start as is_elevated,
        -- Stouffer's combination of the block's z values.
        count(*) over closure_block = {{ closure_hours }}
        and trading_hours.direction_sign * sum(trading_hours.residual_z) over closure_block
        / sqrt({{ closure_hours }}) < {{ var('anomaly_z_inside') }} as is_inside
    from trading_hours
    cross join settings
    window closure_block as (
        partition by
            trading_hours.store_id, trading_hours.sku, trading_hours.direction_sign
        order by trading_hours.trading_hour_index
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
            as previous_window_closure_index
    from numbered
    group by store_id, sku, direction_sign, window_number
    having count(*) >= {{ var('anomaly_onset_hours') | int }}
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
        closures.residual_z
    from identified
    inner join closures
        on
            identified.store_id = closures.store_id
            and identified.sku = closures.sku
            and identified.direction_sign = closures.direction_sign
            and closures.trading_hour_index
            between greatest(
                identified.first_elevated_index - {{ backdate_hours }},
                coalesce(identified.previous_window_closure_index + 1, 0)
            )
            and coalesce(identified.closure_index, 9223372036854775807)
)

select * from candidate_hours
