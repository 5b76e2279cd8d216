with

checked as (
    select * from {{ ref('stg_contextual_data_checked') }}
),

accepted as (
    select
        event_id,
        event_type,
        event_subtype,
        event_name,
        start_ts,
        end_ts,
        retailer,
        region,
        city,
        store_id,
        sku,
        url,
        severity
    from checked
    where error_reason is null
)

select * from accepted
