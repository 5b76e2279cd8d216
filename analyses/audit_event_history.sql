-- Governance audit: one event's history: its MELOG changes, the analysts' event edits, and
-- each report joining or leaving it (MRCH), in order. Run with `dbt compile --select
-- audit_event_history --vars '{audit_report_group_id: ME-...}'`.
{%- set report_group_id = var('audit_report_group_id', '') %}

with

events as (
    select * from {{ ref('minority_event_log') }}
),

cohorted as (
    select * from {{ ref('minority_reports_cohorted_log') }}
),

event_edits as (
    select * from {{ ref('user_minority_events_edits_log') }}
),

memberships as (
    -- A report's event changes: the first row under this event, and the first row after.
    select
        run_id,
        report_id,
        written_at,
        report_group_id,
        lag(report_group_id) over (
            partition by run_id, report_id order by version
        ) as previous_group_id
    from cohorted
),

history as (
    select
        run_id,
        written_at as happened_at,
        1 as entry_order,
        'MELOG' as log_name,
        event_status || ': ' || report_count || ' report(s) in ' || store_count
        || ' store(s), ' || proposed_cause_category || ' (' || round(confidence_score, 2)
        || ')' as what
    from events
    where report_group_id = '{{ report_group_id }}'
    union all
    select
        run_id,
        written_at as happened_at,
        2 as entry_order,
        'MRCH' as log_name,
        case
            when report_group_id = '{{ report_group_id }}'
                then report_id || ' joined'
            else report_id || ' moved to ' || report_group_id
        end as what
    from memberships
    where
        report_group_id is distinct from previous_group_id
        and '{{ report_group_id }}' in (report_group_id, previous_group_id)
    union all
    select
        run_id,
        edited_at as happened_at,
        3 as entry_order,
        'user_minority_events_edits_log' as log_name,
        action || ' by ' || actor || ' (' || user_role || ')'
        || coalesce(': ' || cause_category, '') || coalesce(' ' || evidence, '') as what
    from event_edits
    where report_group_id = '{{ report_group_id }}'
)

select * from history
order by run_id asc, happened_at asc, entry_order asc, what asc
