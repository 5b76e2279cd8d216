with

checked as (
    select * from {{ ref('stg_unified_sales_data_checked') }}
),

accepted as (
    select
        sales_ts,
        store_id,
        sku,
        units,
        revenue
    from checked
    where error_reason is null
)

select * from accepted
