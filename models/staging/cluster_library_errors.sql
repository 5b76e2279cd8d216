with

checked as (
    select * from {{ ref('stg_cluster_library_checked') }}
),

rejected as (
    select
        source_file,
        source_row_number,
        {{ mrs_raw_columns('cluster_library') }},
        error_reason
    from checked
    where error_reason is not null
)

select * from rejected
