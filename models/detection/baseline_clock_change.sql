-- The daylight-saving change the feed's hours follow when they are UTC and the stores' zone
-- was not given (var mrs_store_timezone unset): every trading hour moves by one hour on the
-- UTC clock when the stores' clocks change, and a baseline read on UTC then sees every
-- opening and closing hour as an anomaly (a flood of reports from the change on). At each
-- change of a candidate zone's clock (var baseline_clock_change_zones), the hours after it are
-- compared with the same hours of the weeks before and with the hours of those weeks that
-- the stores' clock now names; where the feed's hours have moved, the baseline reads them on
-- that zone's clock from the first hour the evidence is plain (macro mrs_clock_time). Only the
-- hours up to each hour decide it, so a later build reads every earlier hour as an earlier
-- build did (tick equivalence); one row, the same in every shard (the feed's hour totals).
{{ config(post_hook="{{ mrs_say_clock_change() }}") }}
{%- set zones = [] if var('mrs_store_timezone', none) else var('baseline_clock_change_zones') %}
{#- (a list given as text on the command line: '[]', '[Europe/London]') -#}
{%- set zones = fromyaml(zones) if zones is string else zones %}
{%- set zones = [zones] if zones is string else (zones or []) %}
{%- set zone_literals = [] %}
{%- for zone in zones %}
    {%- if not modules.re.match('^[A-Za-z][A-Za-z0-9_+/-]*$', zone) %}
        {{ exceptions.raise_compiler_error(
            "baseline_clock_change_zones must list IANA time zones such as 'America/New_York', "
            ~ "not '" ~ zone ~ "'") }}
    {%- endif %}
    {%- do zone_literals.append("'" ~ zone ~ "'") %}
{%- endfor %}
with

settings as (
    select * from {{ ref('run_settings') }}
),

delivered as (
    select * from {{ ref('sales_feed_delivered_hours') }}
),

candidate_zones as (
    select
        unnest(zones.zone_names) as clock_zone,
        generate_subscripts(zones.zone_names, 1) as zone_rank
    from (
        select cast([{{ zone_literals | join(', ') }}] as varchar[]) as zone_names
    ) as zones
),

feed_hours as (
    -- Every hour of the feed, on a log scale, with the variance counting alone gives that
    -- log (a Poisson count's, by the delta method, its mean taken as at least 1): an hour of
    -- a few units is noisier than one of thousands.
    select
        sales_ts,
        hour_units,
        ln(1 + hour_units) as log_units,
        greatest(hour_units, 1) / pow(1 + greatest(hour_units, 1), 2) as count_log_variance
    from delivered
),

zone_offsets as (
    -- Each candidate zone's UTC offset at every hour of the feed.
    select
        candidate_zones.clock_zone,
        candidate_zones.zone_rank,
        feed_hours.sales_ts,
        epoch(timezone(candidate_zones.clock_zone, feed_hours.sales_ts at time zone 'UTC'))
        - epoch(feed_hours.sales_ts) as offset_seconds
    from candidate_zones
    cross join feed_hours
),

clock_changes as (
    -- The hours a zone's clock moved by a whole hour at: an hour that happened at UTC hour h
    -- of the stores' clock before it happens at h - moved_seconds after it.
    select
        clock_zone,
        zone_rank,
        sales_ts as change_ts,
        offset_before_seconds,
        offset_seconds - offset_before_seconds as moved_seconds
    from (
        select
            *,
            lag(offset_seconds) over (partition by clock_zone order by sales_ts)
                as offset_before_seconds
        from zone_offsets
    ) as hour_offsets
    where abs(offset_seconds - offset_before_seconds) = 3600
),

tests as (
    -- Which way each change is tested: the week after it against the week before
    -- (looking_back 1, hour by hour), or, for a change in the training window with two
    -- training weeks after it, the week before it against the week after (looking_back -1:
    -- every build reads the training window whole, so the test may read ahead inside it).
    select
        clock_changes.*,
        way.looking_back
    from clock_changes
    cross join settings
    cross join (values (1), (-1)) as way (looking_back)
    where
        way.looking_back = 1
        or clock_changes.change_ts + interval 336 hour <= settings.detection_start
),

week_pairs as (
    -- Each hour of the week on the far side of the tested one with the same hour a week
    -- away: how much an hour usually differs from it.
    select
        tests.clock_zone,
        tests.zone_rank,
        tests.change_ts,
        tests.moved_seconds,
        tests.looking_back,
        abs(this_week.log_units - week_away.log_units) as log_difference,
        this_week.count_log_variance + week_away.count_log_variance as count_variance
    from tests
    inner join feed_hours as this_week
        on
            tests.change_ts - to_hours(84 * (1 + tests.looking_back)) <= this_week.sales_ts
            and tests.change_ts + to_hours(84 * (1 - tests.looking_back)) > this_week.sales_ts
    inner join feed_hours as week_away
        on week_away.sales_ts = this_week.sales_ts - to_hours(168 * tests.looking_back)
    -- (two closed hours say nothing of the noise: a shop's nights would make it none)
    where this_week.hour_units != 0 or week_away.hour_units != 0
),

variance_grid as (
    -- Log variances an hour may have beyond counting: none, and tenths of a decade from 1e-6
    -- to 1.
    select 0.0 as extra_log_variance
    union all
    select pow(10, decades.decade / 10.0 - 6) as extra_log_variance
    from range(0, 61) as decades (decade)
),

noise_grid as (
    -- At each of those, the median hour's week-to-week difference in its own sd.
    select
        week_pairs.clock_zone,
        week_pairs.zone_rank,
        week_pairs.change_ts,
        week_pairs.moved_seconds,
        week_pairs.looking_back,
        variance_grid.extra_log_variance,
        count(*) as hour_pairs,
        median(
            week_pairs.log_difference
            / sqrt(week_pairs.count_variance + 2 * variance_grid.extra_log_variance)
        ) as median_ratio
    from week_pairs
    cross join variance_grid
    group by all
),

week_noise as (
    -- The feed's week-to-week noise beyond counting (a day's weather, a promotion, an
    -- over-dispersed count) as a log variance of every hour: the least of the grid at
    -- which the median hour's difference is a normal median's, 0.6745 sd (none where counting
    -- alone explains the differences). An hour tells the two clocks apart only where they
    -- differ by much more than both; one sd over every hour instead let a small feed's noisy
    -- nights hide the move of its busy hours.
    select
        clock_zone,
        zone_rank,
        change_ts,
        moved_seconds,
        looking_back,
        any_value(hour_pairs) as hour_pairs,
        coalesce(
            min(extra_log_variance) filter (where median_ratio <= 0.6745), 1
        ) as extra_log_variance
    from noise_grid
    group by all
),

tested as (
    -- Two days of hour pairs, at least, to measure the noise on; looking back wherever that
    -- can be done, else ahead.
    select *
    from (
        select
            *,
            coalesce(
                max(hour_pairs) filter (where looking_back = 1)
                    over (partition by clock_zone, change_ts),
                0
            ) as pairs_looking_back
        from week_noise
    ) as both_ways
    where
        hour_pairs >= 48
        and (looking_back = 1 or pairs_looking_back < 48)
),

reference_hours as (
    -- Each hour of the tested week, against the same UTC hour of each of the weeks away (up
    -- to `baseline_clock_change_reference_weeks`; the feed's hours as they are) and the hour
    -- of that week that the stores' clock names on the tested side of the change (the feed's
    -- hours moved with the stores' clock).
    select
        tested.clock_zone,
        tested.zone_rank,
        tested.change_ts,
        tested.looking_back = -1 as is_tested_before,
        tested.extra_log_variance,
        tested_hour.sales_ts,
        tested_hour.log_units,
        as_is.log_units as as_is_log_units,
        as_is.count_log_variance as as_is_count_variance,
        moved.log_units as moved_log_units,
        moved.count_log_variance as moved_count_variance
    from tested
    inner join feed_hours as tested_hour
        on
            tested.change_ts - to_hours(84 * (1 - tested.looking_back)) <= tested_hour.sales_ts
            and tested.change_ts + to_hours(84 * (1 + tested.looking_back))
            > tested_hour.sales_ts
    cross join
        range(1, {{ var('baseline_clock_change_reference_weeks') | int }} + 1)
            as weeks_away (weeks)
    inner join feed_hours as as_is
        on
            as_is.sales_ts
            = tested_hour.sales_ts - to_hours(168 * weeks_away.weeks * tested.looking_back)
    inner join feed_hours as moved
        on
            moved.sales_ts
            = as_is.sales_ts
            + to_seconds(cast(tested.looking_back * tested.moved_seconds as bigint))
),

comparisons as (
    -- The median of those weeks, each way, and the sd of their difference: each hour's
    -- counting and beyond, the median of n weeks having about pi / 2n of one week's variance
    -- (half with two, all with one). Several weeks make the hours a week away less noisy
    -- than one is, so more hours tell the clocks apart, and sooner.
    select
        clock_zone,
        zone_rank,
        change_ts,
        is_tested_before,
        extra_log_variance,
        sales_ts,
        log_units,
        median(as_is_log_units) as as_is_log_units,
        median(moved_log_units) as moved_log_units,
        sqrt(
            avg(as_is_count_variance + moved_count_variance + 2 * extra_log_variance)
            * case
                when count(*) >= 3 then pi() / 2 / count(*)
                else 1.0 / count(*)
            end
        ) as as_is_moved_sd
    from reference_hours
    group by all
),

votes as (
    -- An hour tells the two apart where they differ by much more than their noise, and votes
    -- for the one its units are closer to.
    select
        clock_zone,
        zone_rank,
        change_ts,
        is_tested_before,
        extra_log_variance,
        sales_ts,
        abs(as_is_log_units - moved_log_units)
        >= {{ var('baseline_clock_change_telling_sd') }} * as_is_moved_sd as is_telling,
        abs(log_units - moved_log_units) < abs(log_units - as_is_log_units) as is_moved_closer,
        moved_log_units > as_is_log_units as is_moved_higher
    from comparisons
),

running as (
    -- The votes so far, hour by hour after a change, apart for the hours whose moved hour
    -- sold more (a "rising" hour: one ramp of the day) and less (a "falling" hour: the
    -- other): a day that sells less or more than a week before brings the one kind of hour
    -- closer to the moved hour and the other further from it; a clock that moved brings
    -- both. A change
    -- tested on the hours before it is judged on them all, as seen at the last training hour
    -- it read.
    select
        clock_zone,
        zone_rank,
        change_ts,
        extra_log_variance,
        sales_ts,
        count(*) filter (where is_telling) over hours_so_far as telling_hours,
        count(*) filter (where is_telling and is_moved_closer) over hours_so_far as moved_votes,
        count(*) filter (where is_telling and is_moved_higher) over hours_so_far
            as telling_rising_hours,
        count(*) filter (
            where is_telling and is_moved_higher and is_moved_closer
        ) over hours_so_far as rising_moved_votes,
        count(*) filter (where is_telling and not is_moved_higher) over hours_so_far
            as telling_falling_hours,
        count(*) filter (
            where is_telling and not is_moved_higher and is_moved_closer
        ) over hours_so_far as falling_moved_votes
    from votes
    where not is_tested_before
    window
        hours_so_far as (
            partition by clock_zone, change_ts
            order by sales_ts
            rows between unbounded preceding and current row
        )
    union all
    select
        clock_zone,
        zone_rank,
        change_ts,
        any_value(extra_log_variance) as extra_log_variance,
        any_value(change_ts) + interval 335 hour as sales_ts,
        count(*) filter (where is_telling) as telling_hours,
        count(*) filter (where is_telling and is_moved_closer) as moved_votes,
        count(*) filter (where is_telling and is_moved_higher) as telling_rising_hours,
        count(*) filter (
            where is_telling and is_moved_higher and is_moved_closer
        ) as rising_moved_votes,
        count(*) filter (where is_telling and not is_moved_higher) as telling_falling_hours,
        count(*) filter (
            where is_telling and not is_moved_higher and is_moved_closer
        ) as falling_moved_votes
    from votes
    where is_tested_before
    group by clock_zone, zone_rank, change_ts
),

first_seen as (
    -- The first hour at which enough hours that tell the clocks apart, rising and falling
    -- ones, have, nearly all of either kind, moved since a candidate zone's change.
    select
        clock_zone,
        change_ts,
        sales_ts as seen_at_ts,
        telling_hours,
        moved_votes,
        extra_log_variance
    from running
    where
        moved_votes >= {{ var('baseline_clock_change_min_votes') | int }}
        and rising_moved_votes >= 1
        and falling_moved_votes >= 1
        and rising_moved_votes
        >= {{ var('baseline_clock_change_vote_share') }} * telling_rising_hours
        and falling_moved_votes
        >= {{ var('baseline_clock_change_vote_share') }} * telling_falling_hours
    order by sales_ts, zone_rank
    limit 1
),

contenders as (
    -- Zones of the same rule change hours apart (New York's clock, then Chicago's): each
    -- reads the feed's hours from the first change of them to the hour the move was seen
    -- (a late store's night), and the one closest to the hours a week before is the feed's.
    select
        clock_changes.clock_zone,
        clock_changes.zone_rank,
        clock_changes.change_ts,
        clock_changes.offset_before_seconds,
        clock_changes.moved_seconds,
        first_seen.seen_at_ts,
        min(clock_changes.change_ts) over () as first_change_ts
    from first_seen
    inner join clock_changes as seen_change
        on
            first_seen.clock_zone = seen_change.clock_zone
            and first_seen.change_ts = seen_change.change_ts
    inner join clock_changes
        on
            seen_change.moved_seconds = clock_changes.moved_seconds
            and clock_changes.change_ts
            between first_seen.change_ts - interval 12 hour
            and first_seen.change_ts + interval 12 hour
),

contender_errors as (
    select
        contenders.clock_zone,
        any_value(contenders.zone_rank) as zone_rank,
        any_value(contenders.change_ts) as change_ts,
        any_value(contenders.offset_before_seconds) as offset_before_seconds,
        -- (against the week after where the week before is not in the training window: a
        -- change tested on the hours before it)
        sum(pow(
            these_hours.log_units - coalesce(week_before.log_units, week_after.log_units), 2
        )) as squared_error
    from contenders
    -- (the day after the first change at most: the zones' clocks differ only in its night)
    inner join feed_hours as these_hours
        on
            contenders.first_change_ts <= these_hours.sales_ts
            and contenders.seen_at_ts >= these_hours.sales_ts
            and contenders.first_change_ts + interval 24 hour > these_hours.sales_ts
    left join feed_hours as week_before
        on
            week_before.sales_ts
            = these_hours.sales_ts - interval 168 hour
            + case
                when contenders.change_ts <= these_hours.sales_ts
                    then to_seconds(cast(contenders.moved_seconds as bigint))
                else interval 0 second
            end
    left join feed_hours as week_after
        on
            week_after.sales_ts
            = these_hours.sales_ts + interval 168 hour
            - case
                when contenders.change_ts > these_hours.sales_ts
                    then to_seconds(cast(contenders.moved_seconds as bigint))
                else interval 0 second
            end
    group by contenders.clock_zone
),

moved as (
    select
        contender_errors.clock_zone,
        contender_errors.change_ts,
        contender_errors.offset_before_seconds,
        first_seen.seen_at_ts,
        first_seen.extra_log_variance,
        first_seen.telling_hours,
        first_seen.moved_votes
    from contender_errors
    cross join first_seen
    order by contender_errors.squared_error, contender_errors.zone_rank
    limit 1
)

select
    moved.clock_zone is not null as is_clock_moved,
    cast(moved.clock_zone as varchar) as clock_zone,
    cast(moved.change_ts as timestamp) as change_ts,
    -- A change that the training window shows plainly is read from the change itself: every
    -- build scores the detection window after it, so the fit's days are all read right. One
    -- seen only from the detection hours is read from the hour it was seen at, as the builds
    -- before it could not (before its change, the zone's clock less its offset is the hour).
    cast(
        case
            when moved.seen_at_ts < settings.detection_start then moved.change_ts
            else moved.seen_at_ts
        end as timestamp
    ) as read_from_ts,
    cast(moved.seen_at_ts as timestamp) as seen_at_ts,
    cast(moved.offset_before_seconds as bigint) as offset_before_seconds,
    cast(sqrt(2 * moved.extra_log_variance) as double) as week_log_sd,
    cast(moved.telling_hours as bigint) as telling_hours,
    cast(moved.moved_votes as bigint) as moved_votes
from settings
left join moved on true
