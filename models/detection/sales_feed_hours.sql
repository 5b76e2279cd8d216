-- The sales feed hour by hour, from training_start to the hour before as_of: how many rows
-- and units it delivered, what it usually delivers at that hour of the week (the medians of
-- the previous `sales_gap_reference_weeks` weeks) and whether the hour is a gap of the feed.
with

delivered as (
    select * from {{ ref('sales_feed_delivered_hours') }}
),

usual as (
    -- The feed's own habit at that hour: a few rows at night in a shop feed, one per hour
    -- for a single series. Only the earlier weeks say what is usual, so a later build
    -- judges a past hour as an earlier one did (tick equivalence).
    select
        sales_ts,
        hour_rows,
        hour_units,
        median(hour_rows) over usual_weeks as usual_rows,
        median(hour_units) over usual_weeks as usual_units
    from delivered
    window usual_weeks as (
        -- (the stores' clock: the baseline's calendar is read from this model's hours)
        partition by {{ mrs_hour_of_week('sales_ts', mrs_clock_time) }}
        order by sales_ts
        rows between {{ var('sales_gap_reference_weeks') | int }} preceding and 1 preceding
    )
),

judged as (
    -- An hour whose rows fall below `sales_normal_hour_share` of the feed's usual rows at
    -- that hour is a gap of the feed (an outage, the hour a local-time feed skips when the
    -- clocks go forward), not an hour in which nothing sold: zero-filled, it was a drop on
    -- every busy series at once. Only where the feed usually sells `sales_gap_min_units` or
    -- more at that hour, so that selling nothing is no chance: a feed of one quiet product
    -- that lists only the hours it sold has no row in an hour it sold nothing.
    select
        *,
        coalesce(
            usual_units >= {{ var('sales_gap_min_units') }}
            and hour_rows < {{ var('sales_normal_hour_share') }} * usual_rows,
            false
        ) as is_feed_gap
    from usual
)

select * from judged
