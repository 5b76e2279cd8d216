-- Journal files of report edits that break a rule (dead letter): never applied.
with

checked as (
    select * from {{ ref('stg_user_edits_checked') }}
),

rejected as (
    select * from checked
    where error_reason is not null
)

select * from rejected
