-- A report's window_end appears in MRDL only on its last detected row, and that row agrees
-- with the report's single MEEL row (same tick, same end); an open report has no MEEL row.
-- A 'superseded' row (restated sales) repeats the report's last state and is left out.
with

detected as (
    select * from {{ ref('minority_reports_detected_log') }}
    where report_status = 'detected'
),

ended as (
    select * from {{ ref('minority_event_ended_log') }}
),

last_rows as (
    select
        run_id,
        report_id,
        max(version) as last_version
    from detected
    group by run_id, report_id
),

closing_rows as (
    select
        detected.run_id,
        detected.report_id,
        detected.version,
        detected.window_end,
        detected.written_at,
        last_rows.last_version
    from detected
    inner join last_rows
        on
            detected.run_id = last_rows.run_id
            and detected.report_id = last_rows.report_id
    where detected.window_end is not null
),

problems as (
    select
        closing_rows.report_id,
        'window_end before the last row' as problem
    from closing_rows
    where closing_rows.version != closing_rows.last_version
    union all
    select
        closing_rows.report_id,
        'closing row disagrees with MEEL' as problem
    from closing_rows
    left join ended
        on
            closing_rows.run_id = ended.run_id
            and closing_rows.report_id = ended.report_id
    where
        ended.report_id is null
        or ended.window_end != closing_rows.window_end
        or ended.written_at != closing_rows.written_at
    union all
    select
        ended.report_id,
        'MEEL row without a closing MRDL row' as problem
    from ended
    left join closing_rows
        on
            ended.run_id = closing_rows.run_id
            and ended.report_id = closing_rows.report_id
    where closing_rows.report_id is null
)

select * from problems
