with

checked as (
    select * from {{ ref('stg_unified_sales_data_checked') }}
),

frontier as (
    select * from {{ ref('stg_unified_sales_data_frontier') }}
),

accepted as (
    -- Rows that passed every check and are not ahead of the feed.
    select
        checked.sales_ts,
        checked.store_id,
        checked.sku,
        checked.units,
        checked.revenue
    from checked
    cross join frontier
    where
        checked.error_reason is null
        and (frontier.frontier_ts is null or checked.sales_ts <= frontier.frontier_ts)
)

select * from accepted
