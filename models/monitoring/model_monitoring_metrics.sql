{#-
  Monitoring metrics at every tick of the active run (DESIGN.md sections 6 and 8), over the
  trailing `monitoring_window_hours` before the tick:
  - baseline_sales_model, on trading hours outside the windows of the reports known at the
    tick: residual_bias (mean z; reference 0), residual_rms (root mean square z against the
    same on the two training days the baseline also scores), and per feature of the baseline
    a population stability index in six bins against those training days: residual_psi (its
    residual z) and level_factor_psi (the log of the daily level it applies);
  - baseline_sales_model also: anomaly_rate, the share of the window's trading hours inside
    known reports (a regime shift looks like anomalies everywhere);
  - attribution_model: confidence_decay, the drop of the mean rank-1 confidence of the
    window's snapshots from the run's first window (null until a first window has passed).
  Hours are aggregated once; each tick subtracts the hours of its known reports, so the cost
  grows with ticks x reports, not ticks x series.
  Kept from build to build (issue 18): a build computes the ticks after the newest it holds
  for the active run, as model_monitoring_log logs them (a tick's metrics are what was known
  when it was first computed), reading only the hours of their windows; the pre-hook forgets
  another run's ticks, ticks no longer in the run, and every tick when the code or a
  monitoring var changed.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ mrs_forget_outdated_metrics(mrs_monitoring_digest()) }}",
) }}
{%- set metrics_digest = mrs_monitoring_digest() %}
{%- set first_pending_tick = mrs_first_pending_metrics_tick(metrics_digest) %}
{%- set window = var('monitoring_window_hours') | int %}
{#- Six bins per monitored feature of the baseline: its residual z and its daily level. -#}
{%- set feature_bins = {
    'residual_psi': [
        ('bin_1', 'residual_z < -2'),
        ('bin_2', 'residual_z >= -2 and residual_z < -1'),
        ('bin_3', 'residual_z >= -1 and residual_z < 0'),
        ('bin_4', 'residual_z >= 0 and residual_z < 1'),
        ('bin_5', 'residual_z >= 1 and residual_z < 2'),
        ('bin_6', 'residual_z >= 2'),
    ],
    'level_factor_psi': [
        ('level_bin_1', 'level_factor < exp(-0.1)'),
        ('level_bin_2', 'level_factor >= exp(-0.1) and level_factor < exp(-0.03)'),
        ('level_bin_3', 'level_factor >= exp(-0.03) and level_factor < 1'),
        ('level_bin_4', 'level_factor >= 1 and level_factor < exp(0.03)'),
        ('level_bin_5', 'level_factor >= exp(0.03) and level_factor < exp(0.1)'),
        ('level_bin_6', 'level_factor >= exp(0.1)'),
    ],
} %}
{#-
  The level bins are bins of ln(level_factor) at -0.1, -0.03, 0, 0.03 and 0.1, compared on
  the factor itself (ln is monotonic): a series that sold nothing over its level days has a
  factor of 0, whose log does not exist (DuckDB stops with "cannot take logarithm of zero");
  here it falls in the lowest bin, where ln -> -inf would put it.
-#}
{#-
  The baseline's metrics: (metric, reference value, threshold var, what is compared with the
  threshold, sample size). A level PSI breaches on the same threshold as the residual's; an
  anomaly rate everywhere means the baseline no longer describes normal sales.
-#}
{%- set baseline_rules = [
    ('residual_bias', '0.0', 'monitoring_max_residual_bias', 'abs(residual_bias)', 'sample_size'),
    ('residual_rms_ratio', '1.0', 'monitoring_max_residual_rms_ratio', 'residual_rms_ratio',
        'sample_size'),
    ('residual_psi', '0.0', 'monitoring_max_residual_psi', 'residual_psi', 'sample_size'),
    ('level_factor_psi', '0.0', 'monitoring_max_residual_psi', 'level_factor_psi', 'sample_size'),
    ('anomaly_rate', '0.0', 'monitoring_max_anomaly_rate', 'anomaly_rate', 'window_hours'),
] %}
{%- set z_bins = feature_bins.residual_psi | map(attribute=0) | list %}
{%- set level_bins = feature_bins.level_factor_psi | map(attribute=0) | list %}
{%- set sums = ['hours', 'z_sum', 'z_square_sum'] %}
{%- set bin_columns = [] %}
{%- for feature, bins in feature_bins.items() %}
    {%- for name, condition in bins %}
        {%- do sums.append(name) %}
        {%- do bin_columns.append('cast(' ~ condition ~ ' as integer) as ' ~ name) %}
    {%- endfor %}
{%- endfor %}

with

settings as (
    select * from {{ ref('run_settings') }}
),

all_ticks as (
    select * from {{ ref('ticks') }}
),

ticks as (
    -- The ticks this build computes: every tick, or those after the newest kept.
    select * from all_ticks
    {%- if first_pending_tick is not none %}
    where all_ticks.tick_ts >= {{ first_pending_tick }}
    {%- endif %}
),

predictions as (
    select * from {{ ref('baseline_sales_predictions') }}
),

detected as (
    select * from {{ ref('minority_reports_detected_log') }}
),

attributed as (
    select * from {{ ref('minority_reports_proposed_attribution_log') }}
),

scored_hours as (
    select
        store_id,
        sku,
        sales_ts,
        1 as hours,
        -- Decimal sums are exact: independent of the order threads add rows (determinism).
        -- z is clamped at 1e6 standard units (no less anomalous, and far beyond any
        -- threshold) so that z^2 and its sums fit decimal(38, 12) whatever the sales.
        cast(least(greatest(residual_z, -1e6), 1e6) as decimal(38, 12)) as z_sum,
        cast(least(residual_z * residual_z, 1e12) as decimal(38, 12)) as z_square_sum,
        {{ bin_columns | join(',\n        ') }}
    from predictions
    -- A z that is not a finite number (null, nan, inf) cannot be cast to a decimal or
    -- binned: such an hour is not scored.
    where
        is_trading_hour
        and isfinite(residual_z)
        -- The training days (the reference) and the windows of the ticks computed.
        and {{ mrs_monitored_hours(first_pending_tick, window) }}
),

hour_totals as (
    select
        sales_ts,
        {{ mrs_listed(sums, 'sum(@) as @') }}
    from scored_hours
    group by sales_ts
),

reference as (
    -- The training days the baseline scores (before detection_start).
    select
        {{ mrs_listed(sums, 'sum(hour_totals.@) as @') }}
    from hour_totals
    cross join settings
    where hour_totals.sales_ts < settings.detection_start
),

window_totals as (
    select
        ticks.tick_ts,
        {{ mrs_listed(sums, 'coalesce(sum(hour_totals.@), 0) as @') }}
    from ticks
    left join hour_totals
        on
            ticks.tick_ts > hour_totals.sales_ts
            and ticks.tick_ts - to_hours({{ window }}) <= hour_totals.sales_ts
    group by ticks.tick_ts
),

known_snapshots as (
    -- Each report as known at each tick: its latest snapshot at or before the tick.
    select
        ticks.tick_ts,
        detected.store_id,
        detected.sku,
        detected.report_status,
        greatest(detected.window_start, ticks.tick_ts - to_hours({{ window }})) as from_ts,
        least(coalesce(detected.window_end, ticks.tick_ts), ticks.tick_ts) as to_ts
    from ticks
    inner join detected
        on
            ticks.run_id = detected.run_id
            and ticks.tick_ts >= detected.written_at
            and ticks.tick_ts - to_hours({{ window }})
            < coalesce(detected.window_end, detected.written_at)
    qualify row_number() over (
            partition by ticks.tick_ts, detected.report_id
            order by detected.written_at desc, detected.version desc
        ) = 1
),

known_windows as (
    -- A report superseded by restated sales is no longer known: its hours are quiet again
    -- (its last snapshot would otherwise stay open, overlapping the report that replaced it).
    select * from known_snapshots
    where report_status is distinct from 'superseded'
),

known_hours as (
    -- Each hour once per tick, even inside two reports of its series: counted twice, it
    -- would be subtracted twice from the window and leave negative sums (and a negative
    -- mean square under the root of the RMS).
    select distinct
        known_windows.tick_ts,
        scored_hours.*
    from known_windows
    inner join scored_hours
        on
            known_windows.store_id = scored_hours.store_id
            and known_windows.sku = scored_hours.sku
            and known_windows.from_ts <= scored_hours.sales_ts
            and known_windows.to_ts > scored_hours.sales_ts
),

known_anomalous_hours as (
    select
        tick_ts,
        {{ mrs_listed(sums, 'sum(@) as @') }}
    from known_hours
    group by tick_ts
),

quiet_hours as (
    select
        window_totals.tick_ts,
        {{ mrs_listed(sums, 'window_totals.@ - coalesce(known_anomalous_hours.@, 0) as @') }}
    from window_totals
    left join known_anomalous_hours on window_totals.tick_ts = known_anomalous_hours.tick_ts
),

baseline_metrics as (
    select
        quiet_hours.tick_ts,
        window_totals.hours as window_hours,
        (window_totals.hours - quiet_hours.hours) / nullif(window_totals.hours, 0)
            as anomaly_rate,
        quiet_hours.hours as sample_size,
        quiet_hours.z_sum / nullif(quiet_hours.hours, 0) as residual_bias,
        -- Root mean squares: the sums of squares are exact decimals over distinct hours, so
        -- never negative; greatest(.., 0) keeps sqrt defined whatever the subtraction gives.
        sqrt(greatest(quiet_hours.z_square_sum, 0) / nullif(quiet_hours.hours, 0))
        / nullif(sqrt(greatest(reference.z_square_sum, 0) / nullif(reference.hours, 0)), 0)
            as residual_rms_ratio,
        sqrt(greatest(reference.z_square_sum, 0) / nullif(reference.hours, 0))
            as reference_rms,
        -- Population stability index per feature over its six bins.
        {{ mrs_population_stability(z_bins, 'quiet_hours', 'reference') }} as residual_psi,
        {{ mrs_population_stability(level_bins, 'quiet_hours', 'reference') }}
            as level_factor_psi
    from quiet_hours
    inner join window_totals on quiet_hours.tick_ts = window_totals.tick_ts
    cross join reference
),

confidence_ticks as (
    -- The ticks computed and the run's first full window, the reference of every tick.
    select all_ticks.*
    from all_ticks
    cross join settings
    where
        all_ticks.tick_ts in (select ticks.tick_ts from ticks)
        or all_ticks.tick_ts = settings.detection_start + to_hours({{ window }})
),

confidence_windows as (
    select
        ticks.tick_ts,
        cast(avg(cast(attributed.confidence_score as decimal(38, 12))) as double)
            as mean_confidence,
        count(attributed.confidence_score) as snapshots
    from confidence_ticks as ticks
    left join attributed
        on
            ticks.run_id = attributed.run_id
            and ticks.tick_ts >= attributed.written_at
            and ticks.tick_ts - to_hours({{ window }}) < attributed.written_at
            -- A confidence is in [0, 1]; anything else could not be cast to a decimal.
            and attributed.confidence_score between 0 and 1
    group by ticks.tick_ts
),

confidence_reference as (
    -- The run's first full window: the reference once it has passed.
    select
        confidence_windows.mean_confidence as reference_confidence,
        confidence_windows.tick_ts as reference_tick
    from confidence_windows
    cross join settings
    where
        confidence_windows.tick_ts
        = settings.detection_start + to_hours({{ window }})
),

metrics as (
    {%- for metric, reference, threshold, compared, sample in baseline_rules %}
        select
            'baseline_sales_model' as model_name,
            '{{ metric }}' as metric,
            tick_ts,
            {{ metric }} as measured_value,
            {{ reference }} as reference_value,
            {{ var(threshold) }} as threshold,
            {{ compared }} > {{ var(threshold) }} as is_breached,
            {{ sample }} as sample_size
        from baseline_metrics
        union all
    {%- endfor %}
    select
        'attribution_model' as model_name,
        'confidence_decay' as metric,
        confidence_windows.tick_ts,
        case
            when confidence_windows.tick_ts >= confidence_reference.reference_tick
                then confidence_reference.reference_confidence
                    - confidence_windows.mean_confidence
        end as measured_value,
        case
            when confidence_windows.tick_ts >= confidence_reference.reference_tick
                then confidence_reference.reference_confidence
        end as reference_value,
        {{ var('monitoring_max_confidence_decay') }} as threshold,
        coalesce(
            confidence_windows.tick_ts >= confidence_reference.reference_tick
            and confidence_reference.reference_confidence - confidence_windows.mean_confidence
            > {{ var('monitoring_max_confidence_decay') }},
            false
        ) as is_breached,
        confidence_windows.snapshots as sample_size
    from confidence_windows
    left join confidence_reference on true
    where confidence_windows.tick_ts in (select ticks.tick_ts from ticks)
),

previous_breaches as (
    -- Whether each metric breached at the newest tick kept: a breach that goes on from it
    -- does not start again.
    {{ mrs_previous_breaches(first_pending_tick) }}
),

with_history as (
    select
        metrics.*,
        metrics.is_breached
        and not coalesce(
            case
                when row_number() over metric_ticks = 1 then previous_breaches.is_breached
                else lag(metrics.is_breached) over metric_ticks
            end,
            false
        ) as starts_breach
    from metrics
    left join previous_breaches
        on
            metrics.model_name = previous_breaches.model_name
            and metrics.metric = previous_breaches.metric
    window metric_ticks as (
        partition by metrics.model_name, metrics.metric order by metrics.tick_ts
    )
),

final as (
    select
        with_history.*,
        settings.run_id,
        '{{ metrics_digest }}' as metrics_digest
    from with_history
    cross join settings
)

select * from final
