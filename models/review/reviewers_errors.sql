-- Lines of the reviewers registry that break a rule: those logins may not review.
with

checked as (
    select * from {{ ref('stg_reviewers_checked') }}
),

rejected as (
    select
        source_file,
        source_row_number,
        raw_reviewer,
        raw_user_role,
        raw_scope,
        error_reason
    from checked
    where error_reason is not null
)

select * from rejected
