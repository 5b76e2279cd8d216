with

checked as (
    select * from {{ ref('stg_all_campaign_data_checked') }}
),

rejected as (
    select
        source_file,
        source_row_number,
        {{ mrs_raw_columns('all_campaign_data') }},
        error_reason
    from checked
    where error_reason is not null
)

select * from rejected
