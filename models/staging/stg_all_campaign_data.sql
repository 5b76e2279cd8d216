with

checked as (
    select * from {{ ref('stg_all_campaign_data_checked') }}
),

accepted as (
    select
        campaign_id,
        campaign_name,
        channel,
        cause_category,
        start_ts,
        end_ts,
        sku,
        retailer,
        region,
        city,
        store_id,
        spend
    from checked
    where error_reason is null
)

select * from accepted
