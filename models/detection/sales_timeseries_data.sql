-- The hourly sales series the models read: one row per store x sku x hour from the start of
-- training (or the series' first sale, if later) up to the last hour before as_of. Hours the
-- feed did not report are zero sales; `is_reported` says which hours the feed held, and
-- `is_feed_gap` which hours the feed as a whole missed (no sales known, not zero sales).
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

hours as (
    select
        unnest(generate_series(
            settings.training_start,
            {{ dbt.dateadd('hour', -1, 'settings.as_of') }},
            interval 1 hour
        )) as sales_ts
    from settings
),

feed_rows as (
    -- How many rows and units the feed delivered for each hour, and for the same hour of
    -- the week in the previous `sales_gap_reference_weeks` weeks (their medians): the feed's
    -- own habit at that hour, a few rows at night in a shop feed, one per hour for a single
    -- series.
    select
        sales_ts,
        hour_rows,
        median(hour_rows) over usual_weeks as usual_rows,
        median(hour_units) over usual_weeks as usual_units
    from (
        select
            hours.sales_ts,
            count(sales.sales_ts) as hour_rows,
            coalesce(sum(sales.units), 0) as hour_units
        from hours
        left join sales on hours.sales_ts = sales.sales_ts
        group by hours.sales_ts
    ) as counted
    window usual_weeks as (
        partition by {{ mrs_hour_of_week('sales_ts') }}
        order by sales_ts
        rows between {{ var('sales_gap_reference_weeks') | int }} preceding and 1 preceding
    )
),

feed_gaps as (
    -- An hour whose rows fall below `sales_normal_hour_share` of the feed's usual rows at
    -- that hour is a gap of the feed (an outage, the hour a local-time feed skips when the
    -- clocks go forward), not an hour in which nothing sold: zero-filled, it was a drop on
    -- every busy series at once. Only where the feed usually sells `sales_gap_min_units` or
    -- more at that hour, so that selling nothing is no chance: a feed of one quiet product
    -- that lists only the hours it sold has no row in an hour it sold nothing. Only the
    -- earlier weeks say what is usual, so a later build judges a past hour as an earlier one
    -- did (tick equivalence).
    select
        sales_ts,
        coalesce(
            usual_units >= {{ var('sales_gap_min_units') }}
            and hour_rows < {{ var('sales_normal_hour_share') }} * usual_rows,
            false
        ) as is_feed_gap
    from feed_rows
),

grid as (
    select
        series.store_id,
        series.sku,
        hours.sales_ts
    from series
    inner join hours on series.first_sales_ts <= hours.sales_ts
),

filled as (
    select
        grid.store_id,
        grid.sku,
        grid.sales_ts,
        coalesce(sales.units, 0) as units,
        sales.units is not null as is_reported,
        feed_gaps.is_feed_gap
    from grid
    inner join feed_gaps on grid.sales_ts = feed_gaps.sales_ts
    left join sales
        on
            grid.store_id = sales.store_id
            and grid.sku = sales.sku
            and grid.sales_ts = sales.sales_ts
)

select * from filled
