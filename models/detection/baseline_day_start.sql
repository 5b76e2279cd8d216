-- The hour on the stores' clock at which the baseline's trading day starts: midnight, unless
-- the feed's quietest point in the training window falls in the day on that clock. A
-- day cut inside the trading hours (a UTC feed of stores far from UTC, stores open past
-- midnight) scores each trading day as two halves: the day-level noise is counted twice and
-- the sharp detector floods the busy series (docs/detection.md). Read from the feed's hour
-- totals (every store's, every shard's), so it is one hour for the whole feed and the same in
-- every shard; from the training window only, so every tick reads the same hour.
{{ config(post_hook="{{ mrs_say_day_start() }}") }}
{#- (mrs_clock_time below checks the zone's name) -#}
{%- set zone = var('mrs_store_timezone', none) %}
{%- set zone_literal = "'" ~ zone ~ "'" if zone else 'null' %}
with

plan as (
    select * from {{ ref('baseline_training_plan') }}
),

feed_hours as (
    select * from {{ ref('sales_feed_hours') }}
),

clock_hour_units as (
    -- The training window's units at each hour of the stores' clock (feed gaps sold nothing
    -- known, so they are left out).
    select
        hour({{ mrs_clock_time('feed_hours.sales_ts') }}) as clock_hour,
        sum(feed_hours.hour_units) as units
    from feed_hours
    cross join plan
    where
        feed_hours.sales_ts >= plan.training_start
        and feed_hours.sales_ts < plan.training_end
        and not feed_hours.is_feed_gap
    group by hour({{ mrs_clock_time('feed_hours.sales_ts') }})
),

clock_hours as (
    select
        every_hour.clock_hour,
        coalesce(clock_hour_units.units, 0) as units
    from generate_series(0, 23) as every_hour (clock_hour)
    left join clock_hour_units on every_hour.clock_hour = clock_hour_units.clock_hour
),

cuts as (
    -- A cut before each clock hour, and the share of the week's units in the hour either
    -- side of it: how much trading a day cut there would split.
    select
        clock_hours.clock_hour as cut_hour,
        (clock_hours.units + hour_before.units)
        / nullif(sum(clock_hours.units) over (), 0) as cut_share
    from clock_hours
    inner join clock_hours as hour_before
        on hour_before.clock_hour = (clock_hours.clock_hour + 23) % 24
),

distances as (
    -- Every pair of cuts up to six hours apart, round the clock.
    select
        cuts.cut_hour,
        cuts.cut_share,
        around.cut_share as around_share,
        least(
            abs(cuts.cut_hour - around.cut_hour), 24 - abs(cuts.cut_hour - around.cut_hour)
        ) as hours_apart
    from cuts
    cross join cuts as around
),

neighbourhoods as (
    -- Each cut with the shares of the cuts around it, the nearer the more: of several
    -- equally quiet cuts (the hours a feed is closed), the middle one is the quietest,
    -- whichever way the closed hours lie.
    select
        cut_hour,
        any_value(cut_share) as cut_share,
        sum(around_share * (7 - hours_apart)) as neighbourhood_share
    from distances
    where hours_apart <= 6
    group by cut_hour
),

chosen as (
    select
        max(case when cut_hour = 0 then cut_share end) as midnight_cut_share,
        min(cut_share) as quietest_cut_share,
        first(cut_hour order by cut_share, neighbourhood_share, cut_hour) as quietest_cut_hour
    from neighbourhoods
)

select
    -- A feed read on its stores' clock is quietest at night, whatever it sells around
    -- midnight (a late store, round the clock), and keeps its calendar days; one whose
    -- quietest cut falls in the day is read on a clock whose midnight lies in its trading
    -- day (a UTC feed of stores far from UTC), unless midnight is nearly as quiet (within
    -- twice the share: a feed busy at every hour).
    cast(
        case
            when
                chosen.quietest_cut_hour > {{ var('baseline_night_cut_hours')[1] | int }}
                and chosen.quietest_cut_hour < {{ var('baseline_night_cut_hours')[0] | int }}
                and chosen.midnight_cut_share > 2 * chosen.quietest_cut_share
                then chosen.quietest_cut_hour
            else 0
        end as integer
    ) as day_start_hour,
    chosen.midnight_cut_share,
    chosen.quietest_cut_share,
    chosen.quietest_cut_hour,
    -- The clock the hours are read on, so that a reader can name an hour's baseline day:
    -- cast(timezone(store_timezone, sales_ts at time zone 'UTC') - day_start_hour hours as
    -- date), the hour as it is where the zone is null.
    cast({{ zone_literal }} as varchar) as store_timezone
from chosen
