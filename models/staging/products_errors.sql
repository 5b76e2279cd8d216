with

checked as (
    select * from {{ ref('stg_products_checked') }}
),

rejected as (
    select
        source_file,
        source_row_number,
        {{ mrs_raw_columns('products') }},
        error_reason
    from checked
    where error_reason is not null
)

select * from rejected
