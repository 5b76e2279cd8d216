{#-
  The detectors' scan of every trading hour, per series and direction (up, down), that
  anomaly_candidate_window_hours assembles into candidate windows (DESIGN.md section 6; the
  detectors are described there and in docs/detection.md):
  - the sharp detector's z (onset_z): the hour's day innovation, the z beyond what the
    earlier trading hours of the same day already say about that day's level, less what
    the previous hour said (neighbouring hours that share more than their day);
  - the two slow CUSUMs of the clipped standardised residual (drift_step), from
    detection_start: their evidence, run start, previous peak and alarms;
  - whether the hour is elevated, and whether the closure block ending at it is inside;
  - where the candidate windows stand: the last elevated and last inside hour so far,
    whether an elevated hour starts a window and whether an inside hour closes one.
  Kept from build to build (issue 18): a build scans again only the sales days from the
  first one whose predictions changed, carrying each series' CUSUM state (cumulative sum,
  running minimum, run start and peak) and its last elevated and inside hour from the last
  hour kept before it, which a scan from the first hour reaches too
  (macros/detection/scanned_days.sql); within the last kept day, only the hours after its
  last kept one when the day's predictions up to it are unchanged (an hourly tick); every
  day when the code, a var or detection_start changed (`scan_digest`).
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_from_first_scanned_hour',
    on_schema_change='fail',
) }}
{%- set closure_hours = var('anomaly_closure_hours') | int %}
{%- set drift_cusums = mrs_drift_cusums() %}
{#- Stand for the first scanned day, the kept rows and the code's digest in the SQL below,
    whose text is digested without them. -#}
{%- set first_day = '__mrs_first_scanned_day__' %}
{%- set first_hour = '__mrs_first_scanned_hour__' %}
{%- set kept_token = '__mrs_kept_scan_hours__' %}
{%- set code_digest_token = '__mrs_code_digest__' %}
{%- set boundary_token = '__mrs_boundary_row__' %}

{%- set scan_sql -%}
with

settings as (
    select * from {{ ref('run_settings') }}
),

kept_hours as (
    select * from {{ kept_token }}
),

predictions as (
    -- The days this build scans: whole sales days, where the day's innovations restart.
    select * from {{ ref('baseline_sales_predictions') }}
    where
        is_trading_hour
        and (
            {{ first_day }} is null
            or {{ mrs_sales_day('sales_ts') }} >= {{ first_day }}
        )
),

input_hours as (
    -- What each scanned hour was scanned from: the digest of its day's trading hours up to
    -- it (a running xor of the hours' digests), the same whichever hour a build scans the day
    -- on from; a day's newest hour's is the whole day's, which mrs_first_scanned_day and
    -- mrs_first_scanned_hour compare.
    {{ mrs_running_day_digests('predictions', mrs_prediction_day_digest) }}
),

carried_hours as (
    -- The kept hours before the first scanned hour (none when every day is scanned).
    select * from kept_hours
    where
        {{ first_day }} is not null
        and {{ mrs_kept_before_scan('kept_hours.', first_day, first_hour) }}
),

carried_last_hours as (
    -- Each series' last kept hour (an aggregate: no sort of the kept history).
    select
        store_id,
        sku,
        direction_sign,
        max(trading_hour_index) as trading_hour_index
    from carried_hours
    group by store_id, sku, direction_sign
),

carried_tail_hours as (
    -- The last kept hours of each series, read once: the last for its state, the last
    -- `anomaly_closure_hours - 1` for the closure block (a series' trading hours are
    -- numbered without gaps).
    select
        carried_hours.*,
        carried_hours.trading_hour_index = carried_last_hours.trading_hour_index as is_last,
        carried_hours.trading_hour_index
        > carried_last_hours.trading_hour_index - {{ closure_hours - 1 }} as is_in_block
    from carried_hours
    inner join carried_last_hours
        on
            carried_hours.store_id = carried_last_hours.store_id
            and carried_hours.sku = carried_last_hours.sku
            and carried_hours.direction_sign = carried_last_hours.direction_sign
            and carried_hours.trading_hour_index
            > carried_last_hours.trading_hour_index - {{ [closure_hours - 1, 1] | max }}
),

carried_states as (
    -- Each series' state at its last kept hour: where its scan goes on from.
    select * from carried_tail_hours
    where is_last
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

series_numbers_checked as (
    -- The scan's windows partition and sort by one integer per series, the hash of its
    -- names (within this statement only, never stored), instead of two texts. Two series of
    -- one hash (for 20,000 series about one chance in 10^11) would share their windows:
    -- the build stops instead. (Numbered by a join with the series instead, DuckDB's
    -- estimate of the joined rows ran to 10^15 and every window of a one-tick build took
    -- 50 ms more.)
    select
        case
            when count(distinct {{ mrs_series_number('scanned_series') }})
                != count(distinct (scanned_series.store_id, scanned_series.sku))
                then error(
                        'anomaly_scan_hours: two series share the hash that numbers them; '
                        || 'report this, with the store_id and sku values, to the MRS team'
                    )
        end as is_collision
    from (
        select predictions.store_id, predictions.sku from predictions
        union all
        select carried_tail_hours.store_id, carried_tail_hours.sku from carried_tail_hours
    ) as scanned_series
),

trading_hours as (
    select
        predictions.store_id,
        predictions.sku,
        {{ mrs_series_number('predictions') }} as series_number,
        directions.direction_sign,
        {{ mrs_sales_day('predictions.sales_ts') }} as sales_day,
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
        coalesce(carried_states.trading_hour_index, 0) + row_number() over (
            partition by {{ mrs_series_number('predictions') }}, directions.direction_sign
            order by predictions.sales_ts
        ) as trading_hour_index,
        -- Each CUSUM's state at the last kept hour (a new series starts at zero).
        {{ mrs_cusum_columns('carried') }},
        -- Where the candidate windows stood at the last kept hour (none for a new series).
        carried_states.last_elevated_index as carried_last_elevated_index,
        carried_states.last_inside_index as carried_last_inside_index
    from hour_innovations as predictions
    cross join series_numbers_checked
    cross join directions
    cross join settings
    left join carried_states
        on
            predictions.store_id = carried_states.store_id
            and predictions.sku = carried_states.sku
            and directions.direction_sign = carried_states.direction_sign
    where
        -- (the first day's earlier hours are read for their innovations: its day so far)
        ({{ first_hour }} is null or predictions.sales_ts >= {{ first_hour }})
        -- (read, so the check is made)
        and series_numbers_checked.is_collision is null
),

cusum_steps as (
    -- What the CUSUMs read of each hour, alone: their passes below sort these narrow rows,
    -- not every column of every hour (the query of a 12-month scan of 500 series: 34-38 s
    -- with every column and the series' names, 29-30 s on these, docs/benchmark.md).
    select
        series_number,
        direction_sign,
        trading_hour_index,
        drift_step,
        {{ mrs_cusum_columns('carried_names') }}
    from trading_hours
),

cumulated as (
    -- Each CUSUM's cumulative step, on from the carried one (zero before the first hour).
    select
        *,
        {{ mrs_cusum_columns('cumulative') }}
    from cusum_steps
    window series_so_far as (
        partition by series_number, direction_sign
        order by trading_hour_index
        rows between unbounded preceding and current row
    )
),

cusums as (
    -- CUSUM = cumulative sum minus its running minimum (floored at zero, the start).
    select
        *,
        {{ mrs_cusum_columns('running_minimum') }}
    from cumulated
    window series_so_far as (
        partition by series_number, direction_sign
        order by trading_hour_index
        rows between unbounded preceding and current row
    )
),

evidences as (
    select
        *,
        {{ mrs_cusum_columns('evidence') }}
    from cusums
),

cusum_runs as (
    -- A run starts after the last hour the CUSUM was at zero.
    select
        *,
        {{ mrs_cusum_columns('run_start') }}
    from evidences
    window series_so_far as (
        partition by series_number, direction_sign
        order by trading_hour_index
        rows between unbounded preceding and current row
    )
),

drift_peaks as (
    -- Each slow CUSUM's highest evidence so far in its current run, before this hour (with
    -- the carried peak when the run began before the first scanned day).
    select
        *,
        {{ mrs_cusum_columns('previous_peak') }}
    from cusum_runs
),

cusum_alarms as (
    -- An alarm: beyond the interval and at a new peak of the run.
    select
        *,
        {{ mrs_cusum_columns('alarm') }}
    from drift_peaks
),

drift_hours as (
    -- Every hour with its CUSUMs.
    select
        trading_hours.*,
        {{ mrs_cusum_columns('computed') }}
    from trading_hours
    inner join cusum_alarms
        on
            trading_hours.series_number = cusum_alarms.series_number
            and trading_hours.direction_sign = cusum_alarms.direction_sign
            and trading_hours.trading_hour_index = cusum_alarms.trading_hour_index
),

block_hours as (
    -- The closure block's hours: this scan's, and the kept ones just before it. This scan's
    -- say whether they are elevated and whether no slow CUSUM is still near a peak above
    -- its interval, so the narrow passes below find the windows' states (the same over
    -- every column of every hour cost the 12-month scan of 500 series 8 s more).
    select
        drift_hours.series_number,
        drift_hours.direction_sign,
        drift_hours.trading_hour_index,
        drift_hours.residual_z,
        false as is_carried,
        drift_hours.sales_ts >= settings.detection_start and (
            greatest(
                drift_hours.direction_sign * drift_hours.residual_z,
                drift_hours.direction_sign * drift_hours.onset_z
            ) >= {{ var('anomaly_z_elevated') }}
            or {{ mrs_cusum_columns('any_alarm') }}
        ) as is_elevated,
        {{ mrs_cusum_columns('no_peak_near') }} as is_past_peaks,
        drift_hours.carried_last_elevated_index,
        drift_hours.carried_last_inside_index
    from drift_hours
    cross join settings
    union all
    select
        {{ mrs_series_number('carried_tail_hours') }} as series_number,
        carried_tail_hours.direction_sign,
        carried_tail_hours.trading_hour_index,
        carried_tail_hours.residual_z,
        true as is_carried,
        null as is_elevated,
        null as is_past_peaks,
        null as carried_last_elevated_index,
        null as carried_last_inside_index
    from carried_tail_hours
    where carried_tail_hours.is_in_block
),

closure_blocks as (
    -- Stouffer's combination of the block's z values, added hour by hour in one order.
    select
        * exclude (residual_z, is_carried),
        count(*) over closure_block = {{ closure_hours }} as is_full_block,
        {{ mrs_closure_block_sum('residual_z', closure_hours) }} as block_z_sum
    from block_hours
    window
        closure_block as (
            partition by series_number, direction_sign
            order by trading_hour_index
            rows between {{ closure_hours - 1 }} preceding and current row
        ),
        closure_order as (
            partition by series_number, direction_sign order by trading_hour_index
        )
    qualify not is_carried
),

inside_hours as (
    -- The block is inside, and no slow CUSUM still near a peak above its interval.
    select
        * exclude (is_full_block, block_z_sum, is_past_peaks),
        is_full_block
        and direction_sign * block_z_sum / sqrt({{ closure_hours }}) < {{ var('anomaly_z_inside') }}
        and is_past_peaks as is_inside
    from closure_blocks
),

window_states as (
    -- Where the candidate windows stand, as prefix states carried from the last kept hour
    -- like the CUSUMs, so anomaly_candidate_window_hours assembles a window from its own hours
    -- without reading the history before it: the series' last elevated hour and last inside
    -- hour before this one (two running maxima over narrow rows: together about 3.5 s of
    -- the 12-month scan of 500 series), and so far.
    select
        *,
        case when is_elevated then trading_hour_index else previous_elevated_index end
            as last_elevated_index,
        case when is_inside then trading_hour_index else previous_inside_index end
            as last_inside_index
    from (
        select
            series_number,
            direction_sign,
            trading_hour_index,
            is_elevated,
            is_inside,
            coalesce(
                max(case when is_elevated then trading_hour_index end) over series_before,
                carried_last_elevated_index
            ) as previous_elevated_index,
            coalesce(
                max(case when is_inside then trading_hour_index end) over series_before,
                carried_last_inside_index
            ) as previous_inside_index
        from inside_hours
        window series_before as (
            partition by series_number, direction_sign
            order by trading_hour_index
            rows between unbounded preceding and 1 preceding
        )
    ) as states_before
),

flagged as (
    select
        drift_hours.*,
        window_states.* exclude (series_number, direction_sign, trading_hour_index)
    from drift_hours
    inner join window_states
        on
            drift_hours.series_number = window_states.series_number
            and drift_hours.direction_sign = window_states.direction_sign
            and drift_hours.trading_hour_index = window_states.trading_hour_index
),

scan_digest as (
    -- The code as rendered and detection_start: rows scanned with another are scanned again.
    select hash('{{ code_digest_token }}', settings.detection_start) as digest
    from settings
),

scanned as (
    select
        flagged.store_id,
        flagged.sku,
        flagged.direction_sign,
        flagged.sales_day,
        flagged.sales_ts,
        flagged.trading_hour_index,
        flagged.actual_units,
        flagged.expected_units,
        flagged.variance_units,
        flagged.residual_units,
        flagged.residual_z,
        flagged.onset_z,
        flagged.drift_step,
        {{ mrs_cusum_columns('scanned') }},
        flagged.is_elevated,
        flagged.is_inside,
        flagged.last_elevated_index,
        flagged.last_inside_index,
        -- An elevated hour starts a window when the window of the elevated hour before it
        -- had closed (an inside hour at least `anomaly_closure_hours` after it), or there
        -- was none; a window closes at the first such inside hour after its last elevated one.
        flagged.is_elevated and (
            flagged.previous_elevated_index is null
            or coalesce(
                flagged.previous_inside_index
                >= flagged.previous_elevated_index + {{ closure_hours }},
                false
            )
        ) as is_window_start,
        coalesce(
            flagged.is_inside
            and flagged.trading_hour_index >= flagged.last_elevated_index + {{ closure_hours }}
            and coalesce(
                flagged.previous_inside_index
                < flagged.last_elevated_index + {{ closure_hours }},
                true
            ),
            false
        ) as is_window_closure,
        input_hours.input_day_digest,
        scan_digest.digest as scan_digest
    from flagged
    inner join input_hours
        on flagged.sales_day = input_hours.sales_day and flagged.sales_ts = input_hours.sales_ts
    cross join scan_digest
),

boundary_rows as (
    -- The first day scanned, for the incremental strategy: one row it never inserts (none on
    -- a first or full-refresh build, which inserts every row).
    {{ mrs_scan_boundary_row(first_day, first_hour) }}
    where {{ boundary_token }}
)

-- Stored in day and hour order (later builds append theirs), so a build that reads the
-- kept hours before the first day it scans skips the other row groups by their statistics:
-- unsorted, that read decompressed every row group's decimal CUSUM columns (2.5 s at 12
-- months; by day only, a whole day's where a few hours are needed, 0.4 s at 20 M rows).
select * from scanned
union all
select * from boundary_rows
order by sales_day, sales_ts
{%- endset %}

{%- set code_digest = mrs_code_digest(scan_sql) %}
{%- set scanned_from = mrs_first_scanned_day(code_digest) %}
{%- set scanned_from_hour = mrs_first_scanned_hour(scanned_from) %}
{%- if is_incremental() %}
    {#- Only the kept days that hold the carried states and closure blocks. #}
    {%- set kept_rows = '(select * from ' ~ this ~ ' where '
        ~ mrs_carried_tail_condition(scanned_from, scanned_from_hour) ~ ')' %}
{%- else %}
    {%- set kept_rows = mrs_no_kept_scan_hours(drift_cusums) %}
{%- endif %}

{{ scan_sql | replace(first_day, scanned_from) | replace(first_hour, scanned_from_hour)
    | replace(kept_token, kept_rows)
    | replace(code_digest_token, code_digest)
    | replace(boundary_token, 'true' if is_incremental() else 'false') }}
