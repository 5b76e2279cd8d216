-- The reviewers registry's valid rows: one role per reviewer login.
with

checked as (
    select * from {{ ref('stg_reviewers_checked') }}
),

accepted as (
    select
        reviewer,
        user_role,
        scope_entries
    from checked
    where error_reason is null
)

select * from accepted
