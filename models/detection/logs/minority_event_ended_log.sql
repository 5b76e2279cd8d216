-- MEEL: one row when a report closes, written at the tick its closure became known.
with

settings as (
    select * from {{ ref('run_settings') }}
),

pending_ticks as (
    {{ mrs_pending_ticks() }}
),

reports as (
    select * from {{ ref('anomaly_classifier_decisions') }}
    where decision = 'reported' and closed_tick is not null
),

ended as (
    select
        reports.report_id,
        cast(1 as integer) as version,  -- noqa: RF04
        reports.window_end,
        'ended' as event_status,
        {%- if mrs_model_route('anomaly_classifier_model') == 'real' %}
            'returned_to_baseline' as closure_reason,
        {%- else %}
        'narrative_window_ended' as closure_reason,
        {%- endif %}
        'detected' as report_status,
        reports.closed_tick as written_at,
        settings.run_id
    from reports
    inner join pending_ticks on reports.closed_tick = pending_ticks.tick_ts
    cross join settings
)

select * from ended
