-- MEEL: one row when a report closes, written at the tick its closure became known: the
-- tick of the report's closing MRDL row (a report restated sales give only after it ended
-- closes at the tick MRDL first logs it).
with

settings as (
    select * from {{ ref('run_settings') }}
),

closing_rows as (
    {{ mrs_pending_rows(ref('minority_reports_detected_log')) }}
        and upstream.window_end is not null
        and upstream.report_status = 'detected'
),

ended as (
    select
        closing_rows.report_id,
        cast(1 as integer) as version,  -- noqa: RF04
        closing_rows.window_end,
        'ended' as event_status,
        {%- if mrs_model_route('anomaly_classifier_model') == 'real' %}
            'returned_to_baseline' as closure_reason,
        {%- else %}
        'narrative_window_ended' as closure_reason,
        {%- endif %}
        'detected' as report_status,
        closing_rows.written_at,
        settings.run_id
    from closing_rows
    cross join settings
)

select * from ended
