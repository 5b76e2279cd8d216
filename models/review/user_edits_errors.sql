-- Journal files of report edits that break a rule (dead letter): never applied.
with

checked as (
    select * from {{ ref('stg_user_edits_checked') }}
),

rejected as (
    {{ mrs_rejected_edits('report_id', ref('user_edits_log')) }}
)

select * from rejected
