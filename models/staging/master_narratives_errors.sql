with

checked as (
    select * from {{ ref('stg_master_narratives_checked') }}
),

rejected as (
    select
        source_file,
        source_row_number,
        {{ mrs_raw_columns('master_narratives') }},
        error_reason
    from checked
    where error_reason is not null
)

select * from rejected
