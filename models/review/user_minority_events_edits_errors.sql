-- Journal files of event edits that break a rule (dead letter): never applied.
with

checked as (
    select * from {{ ref('stg_user_minority_events_edits_checked') }}
),

rejected as (
    select
        source_file,
        annotation_id,
        raw_report_group_id,
        raw_action,
        raw_cause,
        raw_cause_category,
        raw_confidence,
        raw_evidence,
        raw_reopen_reason,
        raw_notes,
        raw_actor,
        raw_user_role,
        raw_edited_at,
        raw_run_id,
        error_reason
    from checked
    where error_reason is not null
)

select * from rejected
