-- model_retrain_event_log: one row when a monitored metric starts to breach its threshold
-- (DESIGN.md section 6): the model should be retrained (`mrs train`) and the new version
-- reviewed. A breach that lasts writes one event; a new one after recovery writes another.
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

events as (
    select
        {{ mrs_id('RT-', [
            'settings.run_id', 'metrics.model_name', 'metrics.metric', 'metrics.tick_ts'
        ]) }} as retrain_event_id,
        metrics.model_name,
        metrics.metric,
        cast(metrics.measured_value as double) as measured_value,
        cast(metrics.threshold as double) as threshold,
        metrics.metric || ' ' || round(metrics.measured_value, 3) || ' beyond '
        || metrics.threshold || ' over the last {{ var("monitoring_window_hours") }} hours'
            as reason,
        metrics.tick_ts as written_at,
        settings.run_id
    from metrics
    cross join settings
    where
        metrics.starts_breach
        and metrics.tick_ts in (select pending_ticks.tick_ts from pending_ticks)
)

select * from events
