with

checked as (
    select * from {{ ref('stg_products_checked') }}
),

accepted as (
    select
        sku,
        product_name,
        brand,
        category
    from checked
    where error_reason is null
)

select * from accepted
