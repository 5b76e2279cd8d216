-- Governance audit: an analyst edit traced from the final record (MRFL) to its edit-log row:
-- who, when, what changed, and the proposal against the final state. Run with
-- `dbt compile --select audit_edit_trace --vars '{audit_annotation_id: ...}'`.
{%- set annotation_id = var('audit_annotation_id', '') %}

with

finalised as (
    select * from {{ ref('minority_reports_finalised_log') }}
),

report_edits as (
    select * from {{ ref('user_edits_log') }}
),

event_edits as (
    select * from {{ ref('user_minority_events_edits_log') }}
),

edits as (
    select
        annotation_id,
        'report' as edit_level,
        report_id as edited_id,
        action,
        cause,
        cause_category,
        confidence,
        evidence,
        reopen_reason,
        notes,
        actor,
        user_role,
        edited_at,
        run_id
    from report_edits
    union all
    select
        annotation_id,
        'event' as edit_level,
        report_group_id as edited_id,
        action,
        cause,
        cause_category,
        confidence,
        evidence,
        reopen_reason,
        notes,
        actor,
        user_role,
        edited_at,
        run_id
    from event_edits
),

first_applied as (
    -- The first MRFL row of each report carrying the edit: where it took effect.
    select *
    from finalised
    where annotation_id = '{{ annotation_id }}'
    qualify row_number() over (partition by run_id, report_id order by version) = 1
),

traced as (
    select
        edits.edit_level,
        edits.edited_id,
        edits.actor,
        edits.user_role,
        edits.edited_at,
        edits.action,
        edits.cause as edited_cause,
        edits.cause_category as edited_cause_category,
        edits.confidence as edited_confidence,
        edits.evidence,
        edits.reopen_reason,
        edits.notes,
        first_applied.report_id,
        first_applied.version as mrfl_version,
        first_applied.written_at as applied_at_tick,
        first_applied.proposed_cause,
        first_applied.proposed_cause_category,
        first_applied.confidence_score as proposed_confidence,
        first_applied.final_decision,
        first_applied.final_cause,
        first_applied.final_cause_category,
        first_applied.final_confidence,
        first_applied.source_used_proposed,
        first_applied.source_used_decision
    from edits
    inner join first_applied
        on
            edits.annotation_id = first_applied.annotation_id
            and edits.run_id = first_applied.run_id
)

select * from traced
order by report_id asc
