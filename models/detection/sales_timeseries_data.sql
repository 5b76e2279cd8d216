-- The hourly sales series the models read: one row per store x sku x hour from the start of
-- training (or the series' first sale, if later) up to the last hour before as_of. Hours the
-- feed did not report are zero sales; `is_reported` says which hours the feed held, and
-- `is_feed_gap` which hours the feed as a whole missed (no sales known, not zero sales;
-- `sales_feed_hours`).
with

settings as (
    select * from {{ ref('run_settings') }}
),

sales as (
    select
        sales.sales_ts,
        sales.store_id,
        sales.sku,
        sales.units
    from {{ ref('stg_unified_sales_data') }} as sales
    cross join settings
    where
        sales.sales_ts >= settings.training_start
        and sales.sales_ts < settings.as_of
),

series as (
    select
        store_id,
        sku,
        min(sales_ts) as first_sales_ts
    from sales
    group by store_id, sku
),

feed_hours as (
    select * from {{ ref('sales_feed_hours') }}
),

grid as (
    select
        series.store_id,
        series.sku,
        feed_hours.sales_ts,
        feed_hours.is_feed_gap
    from series
    inner join feed_hours on series.first_sales_ts <= feed_hours.sales_ts
),

filled as (
    select
        grid.store_id,
        grid.sku,
        grid.sales_ts,
        coalesce(sales.units, 0) as units,
        sales.units is not null as is_reported,
        grid.is_feed_gap
    from grid
    left join sales
        on
            grid.store_id = sales.store_id
            and grid.sku = sales.sku
            and grid.sales_ts = sales.sales_ts
)

select * from filled
