-- Governance audit: one report's full history across every log, in order (DESIGN.md
-- section 1). Run with `dbt compile --select audit_report_history --vars
-- '{audit_report_id: MR-...}'` and execute the compiled query against the DuckDB file.
{%- set report_id = var('audit_report_id', '') %}

with

detected as (
    select * from {{ ref('minority_reports_detected_log') }}
),

ended as (
    select * from {{ ref('minority_event_ended_log') }}
),

clustered as (
    select * from {{ ref('minority_reports_clustered_log') }}
),

attributed as (
    select * from {{ ref('minority_reports_proposed_attribution_log') }}
),

cohorted as (
    select * from {{ ref('minority_reports_cohorted_log') }}
),

report_edits as (
    select * from {{ ref('user_edits_log') }}
),

event_edits as (
    select * from {{ ref('user_minority_events_edits_log') }}
),

finalised as (
    select * from {{ ref('minority_reports_finalised_log') }}
),

history as (
    select
        run_id,
        written_at as happened_at,
        1 as log_order,
        'MRDL' as log_name,
        version,  -- noqa: RF04
        'severity ' || round(severity_score, 2) || ', window ' || window_start || ' to '
        || coalesce(cast(window_end as varchar), 'open') as what
    from detected
    where report_id = '{{ report_id }}'
    union all
    select
        run_id,
        written_at as happened_at,
        2 as log_order,
        'MEEL' as log_name,
        null as version,  -- noqa: RF04
        event_status || ' at ' || window_end || ' (' || closure_reason || ')' as what
    from ended
    where report_id = '{{ report_id }}'
    union all
    select
        run_id,
        written_at as happened_at,
        3 as log_order,
        'MRCL' as log_name,
        version,
        cluster_name || ' (similarity ' || round(similarity_score, 3) || ')' as what
    from clustered
    where report_id = '{{ report_id }}'
    union all
    select
        run_id,
        written_at as happened_at,
        4 as log_order,
        'MRPAL' as log_name,
        version,
        proposed_cause_category || ': ' || proposed_cause || ' (' || round(confidence_score, 2)
        || ')' as what
    from attributed
    where report_id = '{{ report_id }}'
    union all
    select
        run_id,
        written_at as happened_at,
        5 as log_order,
        'MRCH' as log_name,
        version,
        report_group_id || ' ' || event_status || ', ' || cohort_size || ' report(s)' as what
    from cohorted
    where report_id = '{{ report_id }}'
    union all
    select
        run_id,
        edited_at as happened_at,
        6 as log_order,
        'user_edits_log' as log_name,
        null as version,  -- noqa: RF04
        action || ' by ' || actor || ' (' || user_role || ') ' || annotation_id as what
    from report_edits
    where report_id = '{{ report_id }}'
    union all
    select
        event_edits.run_id,
        event_edits.edited_at as happened_at,
        7 as log_order,
        'user_minority_events_edits_log' as log_name,
        null as version,  -- noqa: RF04
        event_edits.action || ' on ' || event_edits.report_group_id || ' by '
        || event_edits.actor || ' (' || event_edits.user_role || ') '
        || event_edits.annotation_id as what
    from event_edits
    where event_edits.report_group_id in (
            select cohorted.report_group_id from cohorted
            where cohorted.report_id = '{{ report_id }}'
        )
    union all
    select
        run_id,
        written_at as happened_at,
        8 as log_order,
        'MRFL' as log_name,
        version,
        final_decision || ' / ' || review_status || ': ' || final_cause_category || ' ('
        || coalesce(cast(round(final_confidence, 2) as varchar), '-') || ')' as what
    from finalised
    where report_id = '{{ report_id }}'
)

select * from history
order by run_id asc, happened_at asc, log_order asc, version asc
