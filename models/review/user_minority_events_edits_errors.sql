-- Journal files of event edits that break a rule (dead letter): never applied.
with

checked as (
    select * from {{ ref('stg_user_minority_events_edits_checked') }}
),

rejected as (
    {{ mrs_rejected_edits('report_group_id', ref('user_minority_events_edits_log')) }}
)

select * from rejected
