with

checked as (
    select * from {{ ref('stg_cause_taxonomy_checked') }}
),

accepted as (
    select
        cause_category,
        label,
        description
    from checked
    where error_reason is null
)

select * from accepted
