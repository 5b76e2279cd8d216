with

checked as (
    select * from {{ ref('stg_stores_checked') }}
),

accepted as (
    select
        store_id,
        store_name,
        retailer,
        region,
        city,
        latitude,
        longitude
    from checked
    where error_reason is null
)

select * from accepted
