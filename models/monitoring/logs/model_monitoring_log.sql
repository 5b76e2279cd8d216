-- model_monitoring_log: one row per model, metric and tick (DESIGN.md section 6), with the
-- reference it is compared against and whether it breaches its threshold. Appends only ticks
-- after the newest logged.
with

metrics as (
    select * from {{ ref('model_monitoring_metrics') }}
),

pending_ticks as (
    {{ mrs_pending_ticks() }}
),

settings as (
    select * from {{ ref('run_settings') }}
),

logged as (
    select
        metrics.model_name,
        metrics.metric,
        case metrics.model_name
            when 'baseline_sales_model' then '{{ mrs_model_version("baseline_sales_model") }}'
            when 'attribution_model' then '{{ mrs_model_version("attribution_model") }}'
        end as model_version,
        cast(metrics.measured_value as double) as measured_value,
        cast(metrics.reference_value as double) as reference_value,
        cast(metrics.threshold as double) as threshold,
        metrics.is_breached,
        cast(metrics.sample_size as bigint) as sample_size,
        {{ var('monitoring_window_hours') | int }} as window_hours,
        metrics.tick_ts as written_at,
        settings.run_id
    from metrics
    cross join settings
    where metrics.tick_ts in (select pending_ticks.tick_ts from pending_ticks)
)

select * from logged
