{#-
  baseline_sales_model, fitted on [training_start, detection_start).
  real: an hour-of-week profile per series, shrunk towards a pooled shape, with a robust,
        count-aware spread and the correlation of neighbouring hours. The training leaves
        out the days of confirmed anomalies (baseline_training_exclusions), of the holidays
        the contextual data names (baseline_holiday_days) and of the feed's gaps.
        1. Disturbed days (holidays, day-long anomalies) are found from each day's total
           against its weekday's median (beyond `baseline_disturbed_day_z` robust
           deviations of the series' own day-to-day spread) and left out of everything below,
           so they neither bend the profile nor widen the spread. Of a weekday's two days
           (two training weeks), the one that moved against its store's same day is the
           one that can be left out (a burst is one product's); moved beyond
           `baseline_disturbed_day_z` of the series' typical pair gap, it is left out of the
           profile, though not of the noise.
        2. The pooled profile is the weekday's daily total x an intraday shape pooled over
           every clean day with the same trading hours and of the same kind, weekday or
           weekend day (winsorised mean shares), shrunk towards the store's shape of that
           weekday as far as it is noise. The store's weekend is the two neighbouring
           weekdays whose shapes sit furthest from its typical day, each at least twice as
           far as its median weekday (Saturday and Sunday, Friday and Saturday: the
           calendar is found, not assumed). The weekday's
           total is the series' base (the median of all its clean days, each over its
           weekday's ratio) x its weekday ratio, the store's ratio (its products' weighted
           by how steady their days are) moved towards the series' own as far as the own is
           more than noise: a median of the four days of one weekday carried those days'
           day factors into every hour of that weekday. A weekday whose every training day is
           a named holiday keeps their intraday shape, but its total is the series' other
           weekdays' of its kind (their median ratio, uncertain by their spread).
        3. The spread: variance = mean * (1 + b * mean), negative-binomial-like, with b
           fitted per series by moments on its squared week-over-week changes and shrunk
           towards the median series' b. Changes beyond `baseline_trim_z` deviations of the
           series' own robust level (short bursts inside training) are left out first.
        4. The profile of each hour of the week is the series' own median over its clean
           weeks, shrunk towards the pooled profile by empirical Bayes: the weight is
           tau^2 / (tau^2 + noise), with tau^2 the series' measured spread of own around
           pooled beyond noise per quarter of each weekday. A busy series keeps its own
           weekday, Friday-night and weekend shapes; a quiet one borrows the pooled shape.
           Each weekday is then scaled to the pooled daily total (own hours shape the day;
           they do not size it). Where an hour has two clean weeks, a median is their mean,
           so when they differ beyond `baseline_trim_z` of their noise the odd one (the
           higher, unless the store's shape says the lower is a dip) is left out of the own
           median: two training weeks with a burst inside no longer bend the profile.
        5. Day-level noise: the relative variance s^2 of a shared day factor (weather, a busy
           day), from week-over-week changes of the clean days' totals beyond what
           independent hours give them, shrunk towards the median series' (the more, the
           more counting noise drowns s^2). The slow
           detectors divide their sums by the resulting day inflation, so their false-alarm
           rates hold on correlated data (baseline_sales_predictions).
        6. Asymmetry: the mean size of the upper and lower deviations of the clean training
           hours; skewed noise gets a wider scale on its long side (shrunk towards 1).
        7. Within-day correlation: of two hours' training scores on one day, each week's
           mean taken out; the sharp detector conditions each hour on its day's earlier
           hours with it (anomaly_candidate_hours).
  mock: the plain mean of each hour of the week, a Poisson spread and independent hours.
  Fitted again only when what it is fitted on changes (macro mrs_fit_fingerprint: the training
  rows, the plan, the exclusions, the holiday days and this SQL as rendered, vars and route
  included); otherwise the fit already built is kept, so an hourly build does not pay for it
  (issue 18).
  Sharded (issue 17, macros/sharding/shards.sql): the three pooled medians are over every
  shard's series. Each shard runs this model three times (MRS_FIT_PASS): `dispersion`
  writes its series' moments to the exchange folder, `day_noise` (the pooled dispersion now
  read from every shard's moments) its series' day variances and hour-pair correlations,
  and `fit` fits with all three medians over every shard's series.
-#}
{%- set fit_pass = mrs_fit_pass() %}
{%- if fit_pass != 'fit' %}
{{ config(**mrs_shard_pass_config('baseline_sales_model_fit', fit_pass)) }}
{%- else %}
{#- Kept, not copied: a build whose fit is current writes no row (a table materialization
    copied the whole fit, 3.4 M rows at 20 M sales rows, at every build: 2.4 s of a tick). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_when_fitted',
    on_schema_change='fail',
    pre_hook="{{ mrs_set_memory_limit(2 / 3) }}",
    post_hook="{{ mrs_set_memory_limit(1) }}",
) }}
{%- endif %}
{%- set route = mrs_model_route('baseline_sales_model') %}
{%- set trim_z = var('baseline_trim_z') %}
{%- set prior_hours = var('baseline_dispersion_prior_hours') %}
{%- set prior_blocks = var('baseline_inflation_prior_blocks') %}

{%- set fit_ctes -%}
with

series_hours as (
    select * from {{ ref('sales_timeseries_data') }}
),

plan as (
    select * from {{ ref('baseline_training_plan') }}
),

exclusions as (
    select * from {{ ref('baseline_training_exclusions') }}
),

holiday_days as (
    select * from {{ ref('baseline_holiday_days') }}
),

feed_gap_days as (
    -- Days with an hour the feed missed: their zeros are no sales, so the day is no day of
    -- the series (left out whole, as a confirmed anomaly's day is). Read from the feed's
    -- hours, not the series': a second scan of every series hour made the fit keep all of
    -- them in memory (peak 2.71 -> 3.03 GiB at 5 M rows).
    select distinct {{ mrs_sales_day('sales_ts') }} as sales_day
    from {{ ref('sales_feed_hours') }}
    where is_feed_gap
),

series_names as (
    select distinct
        store_id,
        sku
    from series_hours
),

series_keys as (
    -- Integer keys for the series, named back at the end: the fit groups, sorts and joins
    -- its training hours by series dozens of times, and on two strings that took a third of
    -- its time (the 20 M-row bench world's fit: 74.5-78.1 s on names, 49.9-52.9 s on these
    -- keys, every value the same). Ranked by name, so any order by series is the names'.
    select
        store_id,
        sku,
        cast(dense_rank() over (order by store_id) as integer) as store_key,
        cast(dense_rank() over (order by sku) as integer) as sku_key
    from series_names
),

training as (
    -- The approved version's window (the vars by default), without the series-days of
    -- confirmed anomalies it excludes, of the holidays the contextual data names and of
    -- the feed's gaps.
    select
        series_keys.store_key,
        series_keys.sku_key,
        series_hours.sales_ts,
        series_hours.units,
        series_hours.is_reported,
        {{ mrs_sales_day('series_hours.sales_ts') }} as sales_day,
        {{ mrs_hour_of_week('series_hours.sales_ts') }} as hour_of_week
    from series_hours
    inner join series_keys
        on
            series_hours.store_id = series_keys.store_id
            and series_hours.sku = series_keys.sku
    cross join plan
    left join exclusions
        on
            series_hours.store_id = exclusions.store_id
            and series_hours.sku = exclusions.sku
            and {{ mrs_sales_day('series_hours.sales_ts') }} = exclusions.excluded_day
    left join feed_gap_days
        on {{ mrs_sales_day('series_hours.sales_ts') }} = feed_gap_days.sales_day
    where
        series_hours.sales_ts >= plan.training_start
        and series_hours.sales_ts < plan.training_end
        and exclusions.excluded_day is null
        and feed_gap_days.sales_day is null
        and not exists (
            select 1
            from holiday_days
            where
                holiday_days.store_id = series_hours.store_id
                and (holiday_days.sku is null or holiday_days.sku = series_hours.sku)
                and holiday_days.holiday_day = {{ mrs_sales_day('series_hours.sales_ts') }}
                and holiday_days.is_left_out
        )
),

-- 1. Disturbed days ---------------------------------------------------------------------

days as (
    select
        store_key,
        sku_key,
        sales_day,
        min(hour_of_week // 24) as day_of_week,
        sum(units) as day_units
    from training
    group by store_key, sku_key, sales_day
),

holiday_weekdays as (
    -- The weekdays whose every training day is a named holiday (two training weeks,
    -- Christmas and New Year on one weekday): their days stay for their intraday shape, but
    -- their totals say how the holidays sold, not how the weekday does; its level is taken
    -- from the series' other weekdays (holiday_weekday_ratios).
    select distinct
        days.store_key,
        days.sku_key,
        days.day_of_week
    from days
    inner join series_keys
        on
            days.store_key = series_keys.store_key
            and days.sku_key = series_keys.sku_key
    inner join holiday_days
        on
            series_keys.store_id = holiday_days.store_id
            and (holiday_days.sku is null or series_keys.sku = holiday_days.sku)
            and days.sales_day = holiday_days.holiday_day
    where not holiday_days.is_left_out
),

all_day_levels as (
    select
        store_key,
        sku_key,
        day_of_week,
        median(day_units) as level_units
    from days
    group by store_key, sku_key, day_of_week
),

series_day_levels as (
    select
        store_key,
        sku_key,
        median(day_units) as level_units
    from days
    group by store_key, sku_key
),

other_weekdays as (
    -- Each day against the other days of its weekday (leaving the day itself out, so its
    -- own deviation is not halved by a median it is part of).
    select
        days.store_key,
        days.sku_key,
        days.sales_day,
        median(other_days.day_units) as reference_units,
        count(*) as reference_days
    from days
    inner join days as other_days
        on
            days.store_key = other_days.store_key
            and days.sku_key = other_days.sku_key
            and days.day_of_week = other_days.day_of_week
            and days.sales_day <> other_days.sales_day
    group by days.store_key, days.sku_key, days.sales_day
),

series_day_ratios as (
    -- Each day's log ratio to the series' median day (+1 unit, so empty days stay finite).
    select
        days.*,
        ln((days.day_units + 1) / (series_day_levels.level_units + 1)) as median_ratio
    from days
    inner join series_day_levels
        on
            days.store_key = series_day_levels.store_key
            and days.sku_key = series_day_levels.sku_key
),

store_day_ratios as (
    -- The store's day: its median product's ratio to that product's median day. A holiday
    -- moves every product of a store alike; a burst is one product's.
    select
        store_key,
        sales_day,
        median(median_ratio) as store_log_ratio
    from series_day_ratios
    group by store_key, sales_day
),

day_ratios as (
    -- Log ratio of the day to the median of its weekday's other days; with fewer than two
    -- of them, a single other day cannot say which one is disturbed, so the series' median
    -- day is the yardstick (`is_against_median`). `store_residual` is how far the day moved
    -- against its store's same day.
    select
        series_day_ratios.* exclude (median_ratio),
        case
            when other_weekdays.reference_days >= 2
                then
                    ln(
                        (series_day_ratios.day_units + 1)
                        / (other_weekdays.reference_units + 1)
                    )
            else series_day_ratios.median_ratio
        end as log_ratio,
        coalesce(other_weekdays.reference_days, 0) < 2 as is_against_median,
        series_day_ratios.median_ratio - store_day_ratios.store_log_ratio as store_residual
    from series_day_ratios
    inner join store_day_ratios
        on
            series_day_ratios.store_key = store_day_ratios.store_key
            and series_day_ratios.sales_day = store_day_ratios.sales_day
    left join other_weekdays
        on
            series_day_ratios.store_key = other_weekdays.store_key
            and series_day_ratios.sku_key = other_weekdays.sku_key
            and series_day_ratios.sales_day = other_weekdays.sales_day
),

day_ratio_centres as (
    select
        store_key,
        sku_key,
        median(log_ratio) as centre,
        median(store_residual) as residual_centre
    from day_ratios
    group by store_key, sku_key
),

spread_floors as (
    -- The least a day's spread around its weekday can be: 0.02 keeps a very regular busy
    -- series from calling every small wobble a disturbance; half of what counting alone gives
    -- a day of the series' median total m (the sd of ln(X + 1) for a Poisson X of mean m,
    -- sqrt(m) / (m + 1)) catches a MAD that ties collapsed (a quiet product whose days repeat
    -- a few units: every day one unit off was disturbed, and its inverse noise outweighed
    -- every other product of its store's week) and leaves alone one that measured the days'
    -- spread: of series with counting noise alone, simulated, 47-71 % have a MAD below the
    -- counting sd, 3-11 % below half of it on two weeks' days and under 4 % on four.
    select
        store_key,
        sku_key,
        greatest(0.5 * sqrt(level_units) / (level_units + 1), 0.02) as spread_floor
    from series_day_levels
),

day_ratio_spreads as (
    -- Robust spread of a day around its weekday (1.4826 x MAD), at least its floor, and
    -- whether most of the series' days were measured against its median day instead (two
    -- training weeks: the spread then holds the series' own week too).
    select
        day_ratios.store_key,
        day_ratios.sku_key,
        day_ratio_centres.centre,
        day_ratio_centres.residual_centre,
        spread_floors.spread_floor,
        count(*) filter (where day_ratios.is_against_median) * 2 > count(*)
            as is_mostly_against_median,
        greatest(
            1.4826 * median(abs(day_ratios.log_ratio - day_ratio_centres.centre)),
            spread_floors.spread_floor
        ) as spread
    from day_ratios
    inner join day_ratio_centres
        on
            day_ratios.store_key = day_ratio_centres.store_key
            and day_ratios.sku_key = day_ratio_centres.sku_key
    inner join spread_floors
        on
            day_ratios.store_key = spread_floors.store_key
            and day_ratios.sku_key = spread_floors.sku_key
    group by
        day_ratios.store_key,
        day_ratios.sku_key,
        day_ratio_centres.centre,
        day_ratio_centres.residual_centre,
        spread_floors.spread_floor
),

weekday_pairs as (
    -- How far apart the residuals of a weekday's days are, where it has two; and the days
    -- themselves (their log ratios to the series' median day).
    select
        store_key,
        sku_key,
        day_of_week,
        max(store_residual) - min(store_residual) as residual_gap,
        max(log_ratio) - min(log_ratio) as own_gap
    from day_ratios
    group by store_key, sku_key, day_of_week
    having count(*) = 2
),

rough_pair_spreads as (
    -- The sd of the gap between two days of one weekday: the median of the series' pairs
    -- over a half-normal's 0.6745 (the residuals' own spread, fourteen values alike two by
    -- two, came out half of it).
    select
        store_key,
        sku_key,
        median(residual_gap) / 0.6745 as gap_spread,
        median(own_gap) / 0.6745 as own_gap_spread
    from weekday_pairs
    group by store_key, sku_key
),

store_paired_series as (
    -- How many series of the store have weekday pairs: a store's median product is mostly
    -- the series itself where they are few (of two, both residuals are half their gap).
    select
        store_key,
        count(*) as paired_series
    from rough_pair_spreads
    group by store_key
),

pair_spreads as (
    -- The same without the pairs beyond `baseline_disturbed_day_z` of it: of seven pairs, a
    -- burst over a weekend (two) moved the median up two ranks, and the spread that was to
    -- find it let it pass. Likewise of the series' own days: what a day's noise is where
    -- the store has too few series to say it (day_spreads).
    select
        weekday_pairs.store_key,
        weekday_pairs.sku_key,
        median(weekday_pairs.residual_gap) filter (
            where
                weekday_pairs.residual_gap
                <= {{ var('baseline_disturbed_day_z') }} * rough_pair_spreads.gap_spread
        ) / 0.6745 as gap_spread,
        median(weekday_pairs.own_gap) filter (
            where
                weekday_pairs.own_gap
                <= {{ var('baseline_disturbed_day_z') }} * rough_pair_spreads.own_gap_spread
        ) / 0.6745 as own_gap_spread
    from weekday_pairs
    inner join rough_pair_spreads
        on
            weekday_pairs.store_key = rough_pair_spreads.store_key
            and weekday_pairs.sku_key = rough_pair_spreads.sku_key
    group by weekday_pairs.store_key, weekday_pairs.sku_key
),

day_spreads as (
    -- How far one day strays from its weekday's level: what the store's week weighs its
    -- products by, and what a weekday ratio's noise is made of. Where most of a series' days
    -- were measured against its median day (two training weeks), `spread` holds the
    -- series' own week besides its noise (a busy product with a strong Saturday looked
    -- noisier than a quiet one with a flat week, and the quiet one set its store's
    -- Saturday); there the gap of a weekday's two days against their store says it (the
    -- pairs' sd over sqrt 2), at the same floor as `spread`. In a store of fewer than
    -- `baseline_store_reference_min_series` such series, the gap of the series' own two days
    -- says it: against their store, a store's two products had one noise, their pair's, and
    -- Capital Bikeshare's registered riders took their casual riders' weekend (docs/
    -- detection.md, "Real demand series").
    select
        day_ratio_spreads.store_key,
        day_ratio_spreads.sku_key,
        case
            when
                day_ratio_spreads.is_mostly_against_median
                and store_paired_series.paired_series
                >= {{ var('baseline_store_reference_min_series') }}
                and pair_spreads.gap_spread is not null
                then greatest(pair_spreads.gap_spread / sqrt(2), day_ratio_spreads.spread_floor)
            when
                day_ratio_spreads.is_mostly_against_median
                and pair_spreads.own_gap_spread is not null
                then greatest(pair_spreads.own_gap_spread / sqrt(2), day_ratio_spreads.spread_floor)
            else day_ratio_spreads.spread
        end as day_spread
    from day_ratio_spreads
    left join pair_spreads
        on
            day_ratio_spreads.store_key = pair_spreads.store_key
            and day_ratio_spreads.sku_key = pair_spreads.sku_key
    left join store_paired_series
        on day_ratio_spreads.store_key = store_paired_series.store_key
),

ranked_days as (
    -- How far each day is from typical, and its rank among its weekday's days (most
    -- deviant first). Of two days whose residuals against their store differ beyond
    -- `baseline_disturbed_day_z` of the series' typical pair, the one that moved more
    -- against its store ranks first (a burst is one product's): against the series' median
    -- day alone, a quiet Sunday's normal day had sat farther out than a burst on the other
    -- Sunday, and was left out in its place. Where the store moved with them (a holiday),
    -- the median day still decides.
    select
        day_ratios.*,
        abs(day_ratios.log_ratio - day_ratio_spreads.centre) as deviation,
        day_ratio_spreads.spread,
        day_ratio_spreads.residual_centre,
        pair_spreads.gap_spread,
        weekday_pairs.residual_gap,
        row_number() over (
            partition by day_ratios.store_key, day_ratios.sku_key, day_ratios.day_of_week
            order by
                case
                    when
                        weekday_pairs.residual_gap
                        > {{ var('baseline_disturbed_day_z') }} * pair_spreads.gap_spread
                        then abs(day_ratios.store_residual - day_ratio_spreads.residual_centre)
                    else abs(day_ratios.log_ratio - day_ratio_spreads.centre)
                end desc,
                day_ratios.sales_day
        ) as deviation_rank,
        count(*) over (
            partition by day_ratios.store_key, day_ratios.sku_key, day_ratios.day_of_week
        ) as weekday_days
    from day_ratios
    inner join day_ratio_spreads
        on
            day_ratios.store_key = day_ratio_spreads.store_key
            and day_ratios.sku_key = day_ratio_spreads.sku_key
    left join weekday_pairs
        on
            day_ratios.store_key = weekday_pairs.store_key
            and day_ratios.sku_key = weekday_pairs.sku_key
            and day_ratios.day_of_week = weekday_pairs.day_of_week
    left join pair_spreads
        on
            day_ratios.store_key = pair_spreads.store_key
            and day_ratios.sku_key = pair_spreads.sku_key
),

noise_days as (
    -- A day is disturbed beyond `baseline_disturbed_day_z` robust deviations, but never
    -- more than a minority of a weekday's days (one of two): a weekday that simply varies
    -- more than the others keeps its own shape. A weekday's only day (two training weeks,
    -- one a named holiday) cannot be weighed against another: it is disturbed where it moved
    -- against its store's same day beyond `baseline_disturbed_day_z` of the series' typical
    -- residual (its pairs' gap over sqrt 2) and by `baseline_lone_day_min_change` at least
    -- (a burst all through it had been the whole profile of its weekday, a false report on
    -- every one of them); the weekday then takes its store's ratio and shape. The days left
    -- are those the noise is measured on (clean_days below leaves out a few more).
    select
        *,
        -- Of a weekday's two days, the one that moved against its store's same day, where
        -- the two are beyond `baseline_disturbed_day_z` of the series' typical pair apart and
        -- it moved by `baseline_lone_day_min_change` at least: a burst through most of a
        -- day, which against the series' median day (whose spread holds the weekdays' own
        -- differences) passed and shaped its weekday.
        coalesce(
            weekday_days = 2 and deviation_rank = 1 and gap_spread > 0
            and residual_gap > {{ var('baseline_disturbed_day_z') }} * gap_spread
            and abs(store_residual - residual_centre)
            >= ln(1 + {{ var('baseline_lone_day_min_change') }}),
            false
        ) as is_moved_day
    from ranked_days
    where
        case
            when weekday_days = 1 and gap_spread > 0
                then
                    abs(store_residual - residual_centre) <= greatest(
                        {{ var('baseline_disturbed_day_z') }} * gap_spread / sqrt(2),
                        ln(1 + {{ var('baseline_lone_day_min_change') }})
                    )
            else
                deviation <= {{ var('baseline_disturbed_day_z') }} * spread
                or deviation_rank > greatest((weekday_days - 1) // 2, least(weekday_days - 1, 1))
        end
),

clean_days as (
    -- The days the profile, the shares and the weekday levels are fitted on: the noise's
    -- days but a weekday's day that moved against its store (is_moved_day). Its
    -- week-over-week change stays in the day-level and hour-level noise: left out there
    -- too, the busy series' day noise on two training weeks came out too small (the day var
    -- of quiet series 1.10 -> 1.18 on tuning seeds, and more false reports).
    select
        * exclude (
            store_residual, residual_centre, deviation, spread, gap_spread, residual_gap,
            deviation_rank, weekday_days, is_moved_day, is_against_median
        )
    from noise_days
    where not is_moved_day
),

noise_training as (
    select
        training.*,
        noise_days.is_moved_day
    from training
    inner join noise_days
        on
            training.store_key = noise_days.store_key
            and training.sku_key = noise_days.sku_key
            and training.sales_day = noise_days.sales_day
),

clean_training as (
    select * exclude (is_moved_day)
    from noise_training
    where not is_moved_day
),

store_day_hours as (
    -- The store's clean units of each training hour and of its day.
    select
        store_key,
        sales_day,
        hour_of_week,
        sum(units) as units,
        sum(sum(units)) over (partition by store_key, sales_day) as day_units
    from clean_training
    group by store_key, sales_day, hour_of_week
),

store_hours as (
    -- The store's intraday shape per weekday: every product's clean training units added up
    -- (busy products dominate, as the store's traffic does).
    select
        store_key,
        hour_of_week // 24 as day_of_week,
        hour_of_week % 24 as hour_of_day,
        sum(units) as store_units
    from store_day_hours
    group by store_key, hour_of_week // 24, hour_of_week % 24
),

store_share_changes as (
    -- Each clean hour's share of its day, and that of the same hour a week (or more) before.
    select
        store_key,
        units / day_units as day_share,
        day_units,
        lag(units / day_units) over same_hour_of_week as earlier_share,
        lag(day_units) over same_hour_of_week as earlier_day_units
    from store_day_hours
    where day_units > 0
    window same_hour_of_week as (partition by store_key, hour_of_week order by sales_day)
),

store_dispersion as (
    -- How much noisier the store's shares of its days are than a multinomial's (robust:
    -- the median of a week-over-week change's square, over what a multinomial gives it and
    -- that of a chi-square, 0.455). A store whose traffic is one busy product's has that
    -- product's overdispersion, and its shape is that product's few training days. A day
    -- factor is out of a share: the level's noise is counted apart.
    select
        store_key,
        {{ mrs_share_overdispersion(
            'day_share', 'earlier_share', 'day_units', 'earlier_day_units'
        ) }} as variance_to_mean
    from store_share_changes
    group by store_key
),

store_shape as (
    -- The store's share of each hour and that share's noise: a multinomial's, at the
    -- store's measured overdispersion, over every unit of that weekday's clean days.
    select
        store_hours.store_key,
        store_hours.day_of_week,
        store_hours.hour_of_day,
        store_hours.store_units / nullif(sum(store_hours.store_units) over store_weekday, 0)
            as store_share,
        coalesce(store_dispersion.variance_to_mean, 1.0) * store_hours.store_units
        * (sum(store_hours.store_units) over store_weekday - store_hours.store_units)
        / nullif(pow(sum(store_hours.store_units) over store_weekday, 3), 0) as store_share_noise
    from store_hours
    left join store_dispersion
        on store_hours.store_key = store_dispersion.store_key
    window store_weekday as (partition by store_hours.store_key, store_hours.day_of_week)
),

store_day_kinds as (
    -- Each weekday's distance from the store's typical day: half the sum over the hours of
    -- how far its share of the day (store_shape) sits from the median share of that hour
    -- over the seven weekdays (0: the same shape, 1: nothing in common), in exact decimals
    -- (the weekend chosen below compares them).
    select
        store_key,
        day_of_week,
        sum(abs(
            cast(day_share as decimal(38, 18)) - cast(typical_share as decimal(38, 18))
        )) / 2 as distance
    from (
        select
            store_key,
            day_of_week,
            coalesce(store_share, 0.0) as day_share,
            median(coalesce(store_share, 0.0)) over (
                partition by store_key, hour_of_day
            ) as typical_share
        from store_shape
    ) as typical_shares
    group by store_key, day_of_week
),

store_weekend_pairs as (
    -- The store's weekend: the two neighbouring weekdays whose shapes sit furthest from
    -- its typical day (Saturday and Sunday, Friday and Saturday: the calendar is the
    -- stores', not the code's; Saturday and Sunday on a tie).
    select
        first_days.store_key,
        first_days.day_of_week as first_day,
        second_days.day_of_week as second_day,
        row_number() over (
            partition by first_days.store_key
            order by
                first_days.distance + second_days.distance desc,
                first_days.day_of_week = 5 desc,
                first_days.day_of_week
        ) as pair_rank
    from store_day_kinds as first_days
    inner join store_day_kinds as second_days
        on
            first_days.store_key = second_days.store_key
            and second_days.day_of_week = (first_days.day_of_week + 1) % 7
),

store_weekend_days as (
    -- Whether each weekday is a weekend day: one of that pair, if its shape sits at least
    -- twice as far from the typical day as the median weekday's does (a store whose days
    -- all look alike has no weekend to pool apart; the demo's, whose Saturdays look like
    -- its weekdays, has one weekend day: its short Sunday).
    select
        store_day_kinds.store_key,
        store_day_kinds.day_of_week,
        store_day_kinds.day_of_week
        in (store_weekend_pairs.first_day, store_weekend_pairs.second_day)
        and store_day_kinds.distance > 2 * median(store_day_kinds.distance) over (
            partition by store_day_kinds.store_key
        ) as is_weekend
    from store_day_kinds
    inner join store_weekend_pairs
        on
            store_day_kinds.store_key = store_weekend_pairs.store_key
            and store_weekend_pairs.pair_rank = 1
),

-- 2. Pooled profile ---------------------------------------------------------------------

cells as (
    select
        store_key,
        sku_key,
        hour_of_week,
        median(units) as median_units,
        avg(units) as mean_units,
        count(*) as training_weeks,
        avg(cast(is_reported as integer)) as training_coverage
    from training
    group by store_key, sku_key, hour_of_week
),

trading_days as (
    -- Each day_of_week's trading hours: its first and last hour with a typical sale, and
    -- whether it is one of the store's weekend days (store_weekend_days): the pooled
    -- intraday shape is pooled over days of equal hours and of the same kind.
    select
        cells.store_key,
        cells.sku_key,
        cells.hour_of_week // 24 as day_of_week,
        min(cells.hour_of_week % 24) as first_hour,
        max(cells.hour_of_week % 24) as last_hour,
        coalesce(any_value(store_weekend_days.is_weekend), false) as is_weekend
    from cells
    left join store_weekend_days
        on
            cells.store_key = store_weekend_days.store_key
            and cells.hour_of_week // 24 = store_weekend_days.day_of_week
    where cells.median_units > 0
    group by cells.store_key, cells.sku_key, cells.hour_of_week // 24
),

series_clean_levels as (
    select
        store_key,
        sku_key,
        median(day_units) as level_units
    from clean_days
    group by store_key, sku_key
),

own_weekday_levels as (
    -- Each weekday's median clean daily total, the clean days behind it and their units (what
    -- the series' own shape of that weekday is estimated from).
    select
        store_key,
        sku_key,
        day_of_week,
        median(day_units) as own_units,
        count(*) as clean_days,
        sum(day_units) as weekday_units,
        -- How far its clean days disagree (null for one day).
        {{ mrs_exact_sample_variance('ln(day_units + 1)') }} as day_log_variance
    from clean_days
    group by store_key, sku_key, day_of_week
),

own_weekday_ratios as (
    -- A weekday's level over the series' median clean day, and the noise of that ratio: a
    -- median of n days, each as far off as the series' day-to-day spread, is off by
    -- pi / 2n of its square.
    select
        own_weekday_levels.store_key,
        own_weekday_levels.sku_key,
        own_weekday_levels.day_of_week,
        own_weekday_levels.clean_days,
        own_weekday_levels.own_units / nullif(series_clean_levels.level_units, 0) as own_ratio,
        pow(day_spreads.day_spread, 2) as day_noise,
        pi() / (2 * own_weekday_levels.clean_days) * pow(day_spreads.day_spread, 2)
            as ratio_noise
    from own_weekday_levels
    inner join series_clean_levels
        on
            own_weekday_levels.store_key = series_clean_levels.store_key
            and own_weekday_levels.sku_key = series_clean_levels.sku_key
    inner join day_spreads
        on
            own_weekday_levels.store_key = day_spreads.store_key
            and own_weekday_levels.sku_key = day_spreads.sku_key
),

store_weekday_ratios as (
    -- The store's week: its products' weekday ratios weighted by how steady each product's
    -- days are (the store's traffic moves them all; a steady product shows it best).
    -- Decimals make the sums exact (determinism).
    select
        store_key,
        day_of_week,
        cast(sum(cast(own_ratio / day_noise as decimal(38, 12))) as double)
        / nullif(cast(sum(cast(1 / day_noise as decimal(38, 12))) as double), 0)
            as store_ratio
    from own_weekday_ratios
    where own_ratio is not null
    group by store_key, day_of_week
),

weekday_deviations as (
    -- tau^2: how far a series' week sits from its store's beyond the noise of its own
    -- weekday ratios (method of moments over its weekdays).
    select
        own_weekday_ratios.store_key,
        own_weekday_ratios.sku_key,
        greatest(
            cast(avg(cast(
                pow(own_weekday_ratios.own_ratio / store_weekday_ratios.store_ratio - 1, 2)
                - own_weekday_ratios.ratio_noise as decimal(38, 12)
            )) as double),
            0.0
        ) as weekday_variance
    from own_weekday_ratios
    inner join store_weekday_ratios
        on
            own_weekday_ratios.store_key = store_weekday_ratios.store_key
            and own_weekday_ratios.day_of_week = store_weekday_ratios.day_of_week
    where store_weekday_ratios.store_ratio > 0 and own_weekday_ratios.own_ratio is not null
    group by own_weekday_ratios.store_key, own_weekday_ratios.sku_key
),

weekday_ratios as (
    -- Each weekday's ratio: the store's, moved towards the series' own as far as the own is
    -- more than noise (tau^2 / (tau^2 + noise)). A product selling a few units a day takes
    -- its store's week; one whose week differs (a beer on Fridays) keeps its own.
    select
        own_weekday_ratios.store_key,
        own_weekday_ratios.sku_key,
        own_weekday_ratios.day_of_week,
        own_weekday_ratios.clean_days,
        coalesce(
            weekday_deviations.weekday_variance
            / nullif(weekday_deviations.weekday_variance + own_weekday_ratios.ratio_noise, 0),
            0.0
        ) as own_weight,
        case
            when store_weekday_ratios.store_ratio > 0
                then store_weekday_ratios.store_ratio
        end as store_ratio,
        own_weekday_ratios.own_ratio
    from own_weekday_ratios
    left join store_weekday_ratios
        on
            own_weekday_ratios.store_key = store_weekday_ratios.store_key
            and own_weekday_ratios.day_of_week = store_weekday_ratios.day_of_week
    left join weekday_deviations
        on
            own_weekday_ratios.store_key = weekday_deviations.store_key
            and own_weekday_ratios.sku_key = weekday_deviations.sku_key
),

mixed_weekday_ratios as (
    select
        *,
        coalesce(
            store_ratio + own_weight * (own_ratio - store_ratio), own_ratio, store_ratio
        ) as weekday_ratio
    from weekday_ratios
),

series_bases as (
    -- The series' level: the median of every clean day over its weekday's ratio (a whole
    -- month of days rather than the few of one weekday).
    select
        clean_days.store_key,
        clean_days.sku_key,
        median(clean_days.day_units / mixed_weekday_ratios.weekday_ratio) as base_units,
        count(*) as base_days
    from clean_days
    inner join mixed_weekday_ratios
        on
            clean_days.store_key = mixed_weekday_ratios.store_key
            and clean_days.sku_key = mixed_weekday_ratios.sku_key
            and clean_days.day_of_week = mixed_weekday_ratios.day_of_week
    where mixed_weekday_ratios.weekday_ratio > 0
    group by clean_days.store_key, clean_days.sku_key
),

holiday_weekday_ratios as (
    -- A holiday weekday's ratio: the median of the series' other weekdays of its kind
    -- (weekdays or weekend days), and its relative error: how far those spread (their
    -- variance of logs), at least `baseline_holiday_weekday_sd`
    -- (one other weekend day cannot say how far Saturday and Sunday differ). The weekday
    -- factor of the detection weeks (baseline_sales_predictions) learns the rest.
    select
        holiday_weekdays.store_key,
        holiday_weekdays.sku_key,
        holiday_weekdays.day_of_week,
        median(mixed_weekday_ratios.weekday_ratio) as weekday_ratio,
        greatest(
            coalesce(
                {{ mrs_exact_sample_variance('ln(mixed_weekday_ratios.weekday_ratio)') }}, 0.0
            ),
            pow({{ var('baseline_holiday_weekday_sd') }}, 2)
        ) as ratio_variance
    from holiday_weekdays
    inner join mixed_weekday_ratios
        on
            holiday_weekdays.store_key = mixed_weekday_ratios.store_key
            and holiday_weekdays.sku_key = mixed_weekday_ratios.sku_key
            and holiday_weekdays.day_of_week <> mixed_weekday_ratios.day_of_week
    left join holiday_weekdays as other_holiday_weekdays
        on
            mixed_weekday_ratios.store_key = other_holiday_weekdays.store_key
            and mixed_weekday_ratios.sku_key = other_holiday_weekdays.sku_key
            and mixed_weekday_ratios.day_of_week = other_holiday_weekdays.day_of_week
    left join store_weekend_days as holiday_kinds
        on
            holiday_weekdays.store_key = holiday_kinds.store_key
            and holiday_weekdays.day_of_week = holiday_kinds.day_of_week
    left join store_weekend_days as other_kinds
        on
            mixed_weekday_ratios.store_key = other_kinds.store_key
            and mixed_weekday_ratios.day_of_week = other_kinds.day_of_week
    where
        mixed_weekday_ratios.weekday_ratio > 0
        and other_holiday_weekdays.day_of_week is null
        and coalesce(holiday_kinds.is_weekend, false) = coalesce(other_kinds.is_weekend, false)
    group by holiday_weekdays.store_key, holiday_weekdays.sku_key, holiday_weekdays.day_of_week
),

day_of_week_level as (
    -- Each weekday's clean daily total, base x ratio, and what its error is made of
    -- (weekday_level_noise). A weekday with no clean day (its one training day disturbed)
    -- takes the store's ratio; with none of the store's either, the median of its days.
    select
        all_day_levels.store_key,
        all_day_levels.sku_key,
        all_day_levels.day_of_week,
        coalesce(
            series_bases.base_units * holiday_weekday_ratios.weekday_ratio,
            series_bases.base_units * mixed_weekday_ratios.weekday_ratio,
            case when mixed_weekday_ratios.weekday_ratio = 0 then 0.0 end,
            series_bases.base_units * store_weekday_ratios.store_ratio,
            all_day_levels.level_units
        ) as level_units,
        mixed_weekday_ratios.own_weight,
        mixed_weekday_ratios.own_ratio is not null as has_own_ratio,
        mixed_weekday_ratios.clean_days,
        series_bases.base_days
    from all_day_levels
    left join mixed_weekday_ratios
        on
            all_day_levels.store_key = mixed_weekday_ratios.store_key
            and all_day_levels.sku_key = mixed_weekday_ratios.sku_key
            and all_day_levels.day_of_week = mixed_weekday_ratios.day_of_week
    left join store_weekday_ratios
        on
            all_day_levels.store_key = store_weekday_ratios.store_key
            and all_day_levels.day_of_week = store_weekday_ratios.day_of_week
            and store_weekday_ratios.store_ratio > 0
    left join series_bases
        on
            all_day_levels.store_key = series_bases.store_key
            and all_day_levels.sku_key = series_bases.sku_key
    left join holiday_weekday_ratios
        on
            all_day_levels.store_key = holiday_weekday_ratios.store_key
            and all_day_levels.sku_key = holiday_weekday_ratios.sku_key
            and all_day_levels.day_of_week = holiday_weekday_ratios.day_of_week
),

clean_hour_shares as (
    -- Each clean training hour with its day's units and its share of them.
    select
        clean_training.store_key,
        clean_training.sku_key,
        clean_training.hour_of_week,
        clean_training.units,
        clean_days.day_of_week,
        clean_days.sales_day,
        clean_days.day_units,
        clean_training.units / nullif(clean_days.day_units, 0) as day_share
    from clean_training
    inner join clean_days
        on
            clean_training.store_key = clean_days.store_key
            and clean_training.sku_key = clean_days.sku_key
            and clean_training.sales_day = clean_days.sales_day
),

hourly_shares as (
    select
        clean_hour_shares.store_key,
        clean_hour_shares.sku_key,
        trading_days.first_hour,
        trading_days.last_hour,
        trading_days.is_weekend,
        clean_hour_shares.hour_of_week % 24 as hour_of_day,
        clean_hour_shares.day_share
    from clean_hour_shares
    inner join trading_days
        on
            clean_hour_shares.store_key = trading_days.store_key
            and clean_hour_shares.sku_key = trading_days.sku_key
            and clean_hour_shares.day_of_week = trading_days.day_of_week
    where clean_hour_shares.day_units > 0
),

share_bounds as (
    select
        store_key,
        sku_key,
        first_hour,
        last_hour,
        is_weekend,
        hour_of_day,
        -- The 10th and 90th percentiles, from one sort of the cell's shares.
        quantile_cont(day_share, [0.1, 0.9]) as bounds
    from hourly_shares
    group by store_key, sku_key, first_hour, last_hour, is_weekend, hour_of_day
),

pooled_shape as (
    -- Winsorised mean (10 % each side): robust like a median, but not lumpy when hourly
    -- counts are small integers.
    select
        hourly_shares.store_key,
        hourly_shares.sku_key,
        hourly_shares.first_hour,
        hourly_shares.last_hour,
        hourly_shares.is_weekend,
        hourly_shares.hour_of_day,
        -- Decimal sums are exact, so the result does not depend on the order in which
        -- parallel threads add the rows up (determinism).
        cast(avg(cast(least(
            greatest(hourly_shares.day_share, share_bounds.bounds[1]),
            share_bounds.bounds[2]
        ) as decimal(18, 15))) as double) as typical_share,
        count(*) as pooled_days
    from hourly_shares
    inner join share_bounds
        on
            hourly_shares.store_key = share_bounds.store_key
            and hourly_shares.sku_key = share_bounds.sku_key
            and hourly_shares.first_hour = share_bounds.first_hour
            and hourly_shares.last_hour = share_bounds.last_hour
            and hourly_shares.is_weekend = share_bounds.is_weekend
            and hourly_shares.hour_of_day = share_bounds.hour_of_day
    group by
        hourly_shares.store_key,
        hourly_shares.sku_key,
        hourly_shares.first_hour,
        hourly_shares.last_hour,
        hourly_shares.is_weekend,
        hourly_shares.hour_of_day
),

shape as (
    -- Robust means do not add up to one: rescale each shape to a whole day.
    select
        *,
        typical_share / nullif(cast(sum(cast(typical_share as decimal(18, 15))) over (
            partition by store_key, sku_key, first_hour, last_hour, is_weekend
        ) as double), 0) as day_share
    from pooled_shape
),

series_share_changes as (
    -- Each clean training hour's share of its day, and that of the same hour a week (or
    -- more) before.
    select
        store_key,
        sku_key,
        day_share,
        day_units,
        lag(day_share) over same_hour_of_week as earlier_share,
        lag(day_units) over same_hour_of_week as earlier_day_units
    from clean_hour_shares
    where day_units > 0
    window same_hour_of_week as (
        partition by store_key, sku_key, hour_of_week order by sales_day
    )
),

series_dispersion as (
    -- The series' shares' overdispersion, as the store's: what a share of its few training
    -- days is as noisy as (a busy product's hours are far noisier than counts).
    select
        store_key,
        sku_key,
        {{ mrs_share_overdispersion(
            'day_share', 'earlier_share', 'day_units', 'earlier_day_units'
        ) }} as variance_to_mean
    from series_share_changes
    group by store_key, sku_key
),

shape_terms as (
    -- Per series, weekday and hour: its own share of the day (0 outside its own trading
    -- hours), the store's, the multinomial noise of the own share, and the days behind it.
    select
        cells.store_key,
        cells.sku_key,
        cells.hour_of_week,
        coalesce(shape.pooled_days, 0) as pooled_days,
        coalesce(shape.day_share, 0.0) as own_share,
        coalesce(store_shape.store_share, 0.0) as store_share,
        coalesce(store_shape.store_share_noise, 0.0) as store_share_noise,
        coalesce(series_dispersion.variance_to_mean, 1.0)
        * coalesce(store_shape.store_share, 0.0) * (1 - coalesce(store_shape.store_share, 0.0))
        / nullif(own_weekday_levels.weekday_units, 0) as own_share_noise,
        own_weekday_levels.clean_days is null as is_without_clean_day
    from cells
    left join trading_days
        on
            cells.store_key = trading_days.store_key
            and cells.sku_key = trading_days.sku_key
            and cells.hour_of_week // 24 = trading_days.day_of_week
    left join shape
        on
            cells.store_key = shape.store_key
            and cells.sku_key = shape.sku_key
            and trading_days.first_hour = shape.first_hour
            and trading_days.last_hour = shape.last_hour
            and trading_days.is_weekend = shape.is_weekend
            and cells.hour_of_week % 24 = shape.hour_of_day
    left join store_shape
        on
            cells.store_key = store_shape.store_key
            and cells.hour_of_week // 24 = store_shape.day_of_week
            and cells.hour_of_week % 24 = store_shape.hour_of_day
    left join own_weekday_levels
        on
            cells.store_key = own_weekday_levels.store_key
            and cells.sku_key = own_weekday_levels.sku_key
            and cells.hour_of_week // 24 = own_weekday_levels.day_of_week
    left join series_dispersion
        on
            cells.store_key = series_dispersion.store_key
            and cells.sku_key = series_dispersion.sku_key
),

series_shape_variance as (
    -- tau^2: how far a series' own shape sits from its store's beyond the noise of its
    -- own shares, relative to the store's (method of moments over all its hours).
    select
        store_key,
        sku_key,
        greatest(
            cast(sum(cast(
                pow(own_share - store_share, 2) - own_share_noise as decimal(38, 18)
            )) as double)
            / nullif(cast(sum(cast(pow(store_share, 2) as decimal(38, 18))) as double), 0),
            0.0
        ) as shape_variance
    from shape_terms
    where store_share > 0 and own_share_noise is not null
    group by store_key, sku_key
),

shape_weights as (
    -- How far the series' own share of each hour is taken over its store's: tau^2 s^2 /
    -- (tau^2 s^2 + noise). A weekday without a clean day of its own (its one training day
    -- disturbed) takes its store's shape of that weekday (a Saturday's late night is not a
    -- Sunday's), as far off as the series' shape is from its store's elsewhere.
    select
        shape_terms.*,
        coalesce(series_shape_variance.shape_variance, 0.0) * pow(shape_terms.store_share, 2)
            as store_share_variance,
        case when shape_terms.is_without_clean_day then 0.0 else coalesce(
            series_shape_variance.shape_variance * pow(shape_terms.store_share, 2)
            / nullif(
                series_shape_variance.shape_variance * pow(shape_terms.store_share, 2)
                + shape_terms.own_share_noise,
                0
            ),
            1.0
        ) end as shape_weight
    from shape_terms
    left join series_shape_variance
        on
            shape_terms.store_key = series_shape_variance.store_key
            and shape_terms.sku_key = series_shape_variance.sku_key
),

mixed_shares as (
    -- The series' shape shrunk towards its store's where its own is mostly noise (a product
    -- that sells a unit an hour has no shape of its own to speak of), and the variance of
    -- that share: the own share's noise, as far as it is taken.
    select
        store_key,
        sku_key,
        hour_of_week,
        pooled_days,
        store_share + shape_weight * (own_share - store_share) as mixed_share,
        case
            when is_without_clean_day then store_share_variance
            else pow(shape_weight, 2) * coalesce(own_share_noise, 0.0)
        end
        -- and the store share's own noise, as far as the store's share is taken
        + pow(1 - shape_weight, 2) * store_share_noise as share_variance
    from shape_weights
),

day_shares as (
    select
        store_key,
        sku_key,
        hour_of_week,
        pooled_days,
        share_variance,
        mixed_share / nullif(cast(sum(cast(mixed_share as decimal(18, 15))) over (
            partition by store_key, sku_key, hour_of_week // 24
        ) as double), 0) as day_share
    from mixed_shares
),

pooled_profile as (
    select
        cells.store_key,
        cells.sku_key,
        cells.hour_of_week,
        cells.mean_units,
        cells.training_weeks,
        cells.training_coverage,
        coalesce(day_of_week_level.level_units * day_shares.day_share, 0) as pooled_units,
        coalesce(day_shares.pooled_days, 0) as pooled_days,
        -- The pooled hour's error apart from its weekday's total: the share's.
        pow(coalesce(day_of_week_level.level_units, 0), 2)
        * coalesce(day_shares.share_variance, 0.0) as pooled_shape_variance
    from cells
    left join day_shares
        on
            cells.store_key = day_shares.store_key
            and cells.sku_key = day_shares.sku_key
            and cells.hour_of_week = day_shares.hour_of_week
    left join day_of_week_level
        on
            cells.store_key = day_of_week_level.store_key
            and cells.sku_key = day_of_week_level.sku_key
            and cells.hour_of_week // 24 = day_of_week_level.day_of_week
),

-- 3. Spread -----------------------------------------------------------------------------

weekly_changes as (
    -- Week-over-week changes of the same hour on the noise's days: their spread is sqrt(2)
    -- x the noise, and they do not depend on the profile estimate.
    select
        noise_training.store_key,
        noise_training.sku_key,
        noise_training.sales_day,
        noise_training.hour_of_week,
        noise_training.sales_ts,
        pooled_profile.pooled_units,
        noise_training.units - lag(noise_training.units) over same_hour_of_week
            as change_units,
        -- a week, or more where a disturbed day between was left out
        noise_training.sales_ts - lag(noise_training.sales_ts) over same_hour_of_week
            as change_gap
    from noise_training
    inner join pooled_profile
        on
            noise_training.store_key = pooled_profile.store_key
            and noise_training.sku_key = pooled_profile.sku_key
            and noise_training.hour_of_week = pooled_profile.hour_of_week
    where pooled_profile.pooled_units > 0
    window same_hour_of_week as (
        partition by noise_training.store_key, noise_training.sku_key, noise_training.hour_of_week
        order by noise_training.sales_ts
    )
),

squared_changes as (
    -- Squared week-over-week change in units of the mean: its expectation is the variance
    -- factor 1 + b * mean. Decimals make every sum below exact (determinism).
    select
        store_key,
        sku_key,
        sales_day,
        hour_of_week,
        cast(change_units as decimal(18, 4)) as change_units,
        cast(pooled_units as decimal(18, 9)) as profile_units,
        -- Capped far beyond any trimming threshold, so no change overflows the decimal.
        cast(
            least(pow(change_units, 2) / (2 * pooled_units), 1e12) as decimal(24, 9)
        ) as squared_change
    from weekly_changes
    where change_units is not null
),

series_levels as (
    -- A rough, robust noise level per series (the median squared change over that of a
    -- standard normal, 0.455) and its typical mean, for the trimming below.
    select
        store_key,
        sku_key,
        greatest(median(squared_change) / 0.455, 1.0) as rough_factor,
        cast(avg(cast(profile_units as decimal(38, 9))) as double) as typical_units
    from squared_changes
    group by store_key, sku_key
),

kept_changes as (
    -- Changes within `baseline_trim_z` deviations of the series' own rough level (scaled up
    -- with the mean on busy hours) only, so a burst inside the training weeks does not
    -- widen the spread.
    select squared_changes.*
    from squared_changes
    inner join series_levels
        on
            squared_changes.store_key = series_levels.store_key
            and squared_changes.sku_key = series_levels.sku_key
    where
        squared_changes.squared_change
        <= {{ trim_z }} * {{ trim_z }} * series_levels.rough_factor
        * greatest(squared_changes.profile_units / series_levels.typical_units, 1.0)
),

series_moments as (
    select
        store_key,
        sku_key,
        -- Exact decimal sums: independent of the order parallel threads add rows up. Each
        -- product is taken in double (one row's arithmetic is the same on every run) and
        -- rounded to the sum's decimal: a product of two decimals is 128-bit arithmetic,
        -- 15 s of a 20 M-row fit for these two columns.
        cast(sum(cast(
            cast(profile_units as double) * cast(squared_change - 1 as double)
            as decimal(38, 9)
        )) as double) as sum_xy,
        cast(sum(cast(
            cast(profile_units as double) * cast(profile_units as double) as decimal(38, 9)
        )) as double) as sum_xx,
        cast(avg(cast(profile_units as decimal(38, 9))) as double) as typical_units
    from kept_changes
    group by store_key, sku_key
),

pooled_quadratic as (
    -- The median series' excess over Poisson: where a series has little data it borrows
    -- this.
    select coalesce(median(greatest(sum_xy / nullif(sum_xx, 0), 0.0)), 0.0) as quadratic
    from {{ mrs_fit_pool('series_moments', 'dispersion') }}
),

prior_weights as (
    -- How many hours the pooled b weighs for each series: an hour at mean m tells b with a
    -- variance of about 2 (1/m + b)^2, and true b varies between series by about b itself,
    -- so the empirical-Bayes weight is `baseline_dispersion_prior_hours` x (1 + 1/(m b))^2:
    -- thousands of hours for a series selling one unit an hour (its b barely matters and
    -- cannot be seen), a couple for a busy one (its own b is measured precisely).
    select
        series_moments.*,
        pooled_quadratic.quadratic as pooled_quadratic,
        {{ prior_hours }} * pow(
            1 + 1 / greatest(series_moments.typical_units * pooled_quadratic.quadratic, 1e-6),
            2
        ) as prior_hours
    from series_moments
    cross join pooled_quadratic
),

dispersion as (
    -- Negative-binomial-like variance mean * (1 + b * mean) with each series' own b (moment
    -- estimator over its kept changes), shrunk towards the median series' b with the prior
    -- weight above: busy and overdispersed series get their own spread, quiet ones lean on
    -- the pool.
    select
        store_key,
        sku_key,
        cast(1.0 as double) as dispersion_linear,
        greatest(
            (sum_xy + prior_hours * pooled_quadratic * pow(typical_units, 2))
            / nullif(sum_xx + prior_hours * pow(typical_units, 2), 0),
            0.0
        ) as dispersion_quadratic
    from prior_weights
),

store_hour_shares as (
    -- The median share of each hour of the week in its day over the store's products and
    -- clean days: a burst of one product on one day barely moves it.
    select
        store_key,
        hour_of_week,
        median(day_share) as store_share
    from clean_hour_shares
    group by store_key, hour_of_week
),

own_hour_references as (
    -- Each clean training hour against what the store's shape says of it within its own
    -- day, in its count noise, and the two weeks of its hour of the week side by side.
    select
        clean_hour_shares.store_key,
        clean_hour_shares.sku_key,
        clean_hour_shares.hour_of_week,
        clean_hour_shares.units,
        store_hour_shares.store_share * clean_hour_shares.day_units as reference_units,
        sqrt(
            {{ mrs_count_variance(
                'store_hour_shares.store_share * clean_hour_shares.day_units',
                'dispersion.dispersion_quadratic'
            ) }}
            + pow({{ var('baseline_min_spread_units') }}, 2)
        ) as reference_sd,
        dispersion.dispersion_quadratic,
        count(*) over same_hour as hour_weeks,
        min(clean_hour_shares.units) over same_hour as low_units,
        max(clean_hour_shares.units) over same_hour as high_units
    from clean_hour_shares
    inner join store_hour_shares
        on
            clean_hour_shares.store_key = store_hour_shares.store_key
            and clean_hour_shares.hour_of_week = store_hour_shares.hour_of_week
    left join dispersion
        on
            clean_hour_shares.store_key = dispersion.store_key
            and clean_hour_shares.sku_key = dispersion.sku_key
    window same_hour as (
        partition by clean_hour_shares.store_key, clean_hour_shares.sku_key, clean_hour_shares.hour_of_week
    )
),

own_hour_pairs as (
    -- Whether the lower week is the odd one: beyond `baseline_trim_z` below what the store's
    -- shape says while the higher week is within it (a dip: a stock-out, a power cut).
    select
        *,
        bool_or(
            units = low_units and units < reference_units - {{ trim_z }} * reference_sd
        ) over same_hour
        and bool_or(
            units = high_units
            and abs(units - reference_units) <= {{ trim_z }} * reference_sd
        ) over same_hour as is_low_week_odd
    from own_hour_references
    window same_hour as (partition by store_key, sku_key, hour_of_week)
),

own_hours as (
    -- Where an hour has two clean weeks, their median is their mean (a median of three or
    -- more resists one burst alone), so when they differ beyond `baseline_trim_z` of their
    -- noise the odd week is left out of the own median: the lower one where the store's
    -- shape says so, otherwise the higher one (a burst, the usual disturbance of a
    -- training fortnight).
    select
        *,
        hour_weeks = 2
        and high_units - low_units > {{ trim_z }} * sqrt(
            2 * {{ mrs_count_variance(
                '(high_units + low_units) / 2', 'dispersion_quadratic'
            ) }}
            + pow({{ var('baseline_min_spread_units') }}, 2)
        )
        and units = case when is_low_week_odd then low_units else high_units end
            as is_burst_hour
    from own_hour_pairs
),

clean_cells as (
    -- The median of the clean weeks, as the median of grouped data where it is a value
    -- several weeks share: a product selling under a unit an hour has an integer median (0
    -- or 1 of thirteen weeks, say, for a mean of 0.8) that is no estimate of its hour, and
    -- with many training weeks the own hours were trusted enough to turn a whole day's
    -- quiet hours into a zero or one profile: z >= 3 on 0.52 % of class 1's quiet hours
    -- with thirteen training weeks (0.27 % with four). Where the median is taken by one week
    -- or falls between two values it stays as it is.
    select
        store_key,
        sku_key,
        hour_of_week,
        case
            when count(*) filter (where units = median_units) > 1
                then
                    median_units - 0.5
                    + (count(*) / 2.0 - count(*) filter (where units < median_units))
                    / count(*) filter (where units = median_units)
            else median_units
        end as own_units,
        count(*) as clean_weeks
    from (
        select
            store_key,
            sku_key,
            hour_of_week,
            units,
            median(units) over (partition by store_key, sku_key, hour_of_week) as median_units
        from own_hours
        where not is_burst_hour
    ) as clean_weeks
    group by store_key, sku_key, hour_of_week, median_units
),

-- 4. Own profile shrunk towards the pooled one ------------------------------------------

profile_terms as (
    select
        pooled_profile.*,
        clean_cells.own_units,
        coalesce(clean_cells.clean_weeks, 0) as clean_weeks,
        -- Variance of the median of the clean weeks of one hour at this level.
        pi() / 2 * {{ mrs_count_variance(
            'pooled_profile.pooled_units', 'dispersion.dispersion_quadratic'
        ) }} / nullif(clean_cells.clean_weeks, 0) as own_variance
    from pooled_profile
    left join clean_cells
        on
            pooled_profile.store_key = clean_cells.store_key
            and pooled_profile.sku_key = clean_cells.sku_key
            and pooled_profile.hour_of_week = clean_cells.hour_of_week
    left join dispersion
        on
            pooled_profile.store_key = dispersion.store_key
            and pooled_profile.sku_key = dispersion.sku_key
),

shape_deviations as (
    -- tau^2: how far a series' own hours sit from its pooled profile beyond their noise,
    -- relative to the profile (method of moments), per quarter of each weekday: where a
    -- series differs from its pooled shape (Friday and weekend nights, say), its own hours
    -- count there without trusting its own noise elsewhere. Each hour's relative deviation
    -- is weighted by its precision (pooled^2 / noise): on a busy series every hour counts
    -- alike, so the quiet evening hours of a weekday whose pooled shape took the weekend's
    -- busy nights (one shape for all weekdays of equal trading hours) are not outweighed by the
    -- quarter's big hours that happen to agree (weighted by pooled^2, they were: a weekday
    -- evening at 2,000 units fitted at 3,500 and a false drop every evening).
    select
        store_key,
        sku_key,
        hour_of_week // 24 as day_of_week,
        hour_of_week % 24 // 6 as day_quarter,
        greatest(
            cast(sum(cast(
                pow(own_units - pooled_units, 2) / own_variance - 1 as decimal(38, 9)
            )) as double)
            / nullif(cast(sum(cast(
                pow(pooled_units, 2) / own_variance as decimal(38, 9)
            )) as double), 0),
            0.0
        ) as shape_variance
    from profile_terms
    where pooled_units > 0 and own_variance > 0
    group by store_key, sku_key, hour_of_week // 24, hour_of_week % 24 // 6
),

shrunk_profile as (
    select
        profile_terms.*,
        coalesce(
            shape_deviations.shape_variance * pow(profile_terms.pooled_units, 2)
            / nullif(
                shape_deviations.shape_variance * pow(profile_terms.pooled_units, 2)
                + profile_terms.own_variance,
                0
            ),
            0.0
        ) as own_weight
    from profile_terms
    left join shape_deviations
        on
            profile_terms.store_key = shape_deviations.store_key
            and profile_terms.sku_key = shape_deviations.sku_key
            and profile_terms.hour_of_week // 24 = shape_deviations.day_of_week
            and profile_terms.hour_of_week % 24 // 6 = shape_deviations.day_quarter
),

profiled_hours as (
    -- Each hour's own-versus-pooled mix, scaled so its weekday adds up to the pooled daily
    -- total: the series' own hours say how its day is shaped, not how big it is (their median
    -- of a few days carries those days' day factors; the pooled total is measured on all
    -- the clean days and the store's week).
    select
        *,
        case
            when mixed_day_units > 0 then mixed_units * pooled_day_units / mixed_day_units
            else mixed_units
        end as profile_units
    from (
        select
            *,
            cast(sum(cast(mixed_units as decimal(38, 12))) over weekday as double)
                as mixed_day_units,
            cast(sum(cast(pooled_units as decimal(38, 12))) over weekday as double)
                as pooled_day_units
        from (
            select
                *,
                pooled_units + own_weight * (coalesce(own_units, 0) - pooled_units)
                    as mixed_units
            from shrunk_profile
        )
        window weekday as (partition by store_key, sku_key, hour_of_week // 24)
    )
),

-- 5. Day-level noise --------------------------------------------------------------------

day_total_changes as (
    -- Week-over-week changes of the noise's training days' totals (a holiday or a burst
    -- found against the series' own days is no day-level noise: left out here as from the
    -- profile, the change spans the two weeks around it; a day that moved against its store
    -- stays, see clean_days).
    select
        store_key,
        sku_key,
        day_of_week,
        day_units - lag(day_units) over (
            partition by store_key, sku_key, day_of_week order by sales_day
        ) as change_units
    from noise_days
),

weekday_variances as (
    -- What independent hours give a weekday's total: its expected units and the variance
    -- of a week-over-week change.
    select
        pooled_profile.store_key,
        pooled_profile.sku_key,
        pooled_profile.hour_of_week // 24 as day_of_week,
        -- Exact decimal sums: independent of the order parallel threads add rows up.
        cast(sum(cast(pooled_profile.pooled_units as decimal(38, 9))) as double) as day_units,
        cast(sum(cast(
            2 * {{ mrs_count_variance(
                'pooled_profile.pooled_units', 'dispersion.dispersion_quadratic'
            ) }} as decimal(38, 9)
        )) as double) as independent_variance
    from pooled_profile
    left join dispersion
        on
            pooled_profile.store_key = dispersion.store_key
            and pooled_profile.sku_key = dispersion.sku_key
    group by pooled_profile.store_key, pooled_profile.sku_key, pooled_profile.hour_of_week // 24
),

day_change_ratios as (
    -- Each week-over-week change of a day's total against what independent hours give it
    -- (a chi-square with one degree of freedom times the day-level inflation).
    select
        day_total_changes.store_key,
        day_total_changes.sku_key,
        pow(day_total_changes.change_units, 2) / weekday_variances.independent_variance
            as change_ratio,
        weekday_variances.independent_variance
        / (2 * pow(weekday_variances.day_units, 2)) as independent_share
    from day_total_changes
    inner join weekday_variances
        on
            day_total_changes.store_key = weekday_variances.store_key
            and day_total_changes.sku_key = weekday_variances.sku_key
            and day_total_changes.day_of_week = weekday_variances.day_of_week
    where
        day_total_changes.change_units is not null
        and weekday_variances.independent_variance > 0
),

rough_day_inflation as (
    -- Median over that of a chi-square (0.455): robust, but too noisy to use on its own.
    select
        store_key,
        sku_key,
        greatest(median(change_ratio) / 0.455, 1.0) as rough_inflation
    from day_change_ratios
    group by store_key, sku_key
),

day_moments as (
    -- A shared multiplicative day factor of relative variance s^2 adds 2 s^2 (day units)^2
    -- to the variance of a week-over-week change of the day's total: s^2 is the mean
    -- inflation beyond 1 times the independent share. Each ratio is capped at 9 times the
    -- rough inflation, so a holiday or a day-long anomaly in training cannot inflate it.
    select
        day_change_ratios.store_key,
        day_change_ratios.sku_key,
        count(*) as day_pairs,
        greatest(
            cast(avg(cast(least(
                day_change_ratios.change_ratio, 9 * rough_day_inflation.rough_inflation
            ) as decimal(24, 9))) as double) - 1,
            0.0
        ) * median(day_change_ratios.independent_share) as day_variance,
        median(day_change_ratios.independent_share) as independent_share
    from day_change_ratios
    inner join rough_day_inflation
        on
            day_change_ratios.store_key = rough_day_inflation.store_key
            and day_change_ratios.sku_key = rough_day_inflation.sku_key
    group by day_change_ratios.store_key, day_change_ratios.sku_key
),

pooled_day_variance as (
    select coalesce(median(day_variance), 0.0) as day_variance
    from {{ mrs_fit_pool('day_moments', 'day_noise') }}
),

day_variance_priors as (
    -- How many days the median series' s^2 weighs for each series: the prior
    -- (`baseline_inflation_prior_blocks`) for a busy one, and more as what independent
    -- hours give its day total (v) drowns s^2 (the estimate's noise grows as v + s^2:
    -- (1 + v / s^2)^2 times the prior), so a product selling a few units a day, whose own
    -- estimate is mostly noise clipped at zero, takes the pool's.
    select
        day_moments.*,
        pooled_day_variance.day_variance as pooled_variance,
        {{ prior_blocks }} * pow(
            1 + day_moments.independent_share
            / greatest(pooled_day_variance.day_variance, 1e-6),
            2
        ) as prior_days
    from day_moments
    cross join pooled_day_variance
),

day_variances as (
    -- Each series' relative day-level variance s^2, shrunk towards the median series' by
    -- those weights. What a day factor does to sums of hours does not depend on volume, so
    -- the pool is fair to every series.
    select
        store_key,
        sku_key,
        (day_pairs * day_variance + prior_days * pooled_variance)
        / (day_pairs + prior_days) as day_variance
    from day_variance_priors
),

day_trading_hours as (
    -- Each weekday's trading hours, and as many hours of equal size as give its total the
    -- same overdispersion ((sum m)^2 / sum m^2): a day of a lunch and an evening peak adds
    -- its hours' b / hours to its total's variance over fewer hours than it trades (1.2 to
    -- 1.5 times fewer on the family worlds), and counting them all understated what a
    -- day's total, a weekday's and the level's median are as noisy as.
    select
        store_key,
        sku_key,
        hour_of_week // 24 as day_of_week,
        count(*) filter (where pooled_units > 0 or own_units > 0) as trading_hours,
        -- Exact decimal sums: independent of the order parallel threads add rows up.
        coalesce(
            pow(cast(sum(cast(greatest(pooled_units, 0) as decimal(38, 12))) as double), 2)
            / nullif(
                cast(sum(cast(pow(greatest(pooled_units, 0), 2) as decimal(38, 12))) as double),
                0
            ),
            count(*) filter (where pooled_units > 0 or own_units > 0)
        ) as effective_hours
    from shrunk_profile
    group by store_key, sku_key, hour_of_week // 24
),

weekday_model_noise as (
    -- One clean day's relative variance on each weekday, as the level factor counts it
    -- (baseline_sales_predictions): counts, the hours' overdispersion, the day factor.
    select
        day_of_week_level.store_key,
        day_of_week_level.sku_key,
        day_of_week_level.day_of_week,
        day_of_week_level.own_weight,
        day_of_week_level.has_own_ratio,
        day_of_week_level.clean_days,
        day_of_week_level.base_days,
        {{ mrs_day_noise_variance(
            'day_of_week_level.level_units',
            'dispersion.dispersion_quadratic',
            'day_trading_hours.effective_hours',
            'day_variances.day_variance'
        ) }} as model_day_noise
    from day_of_week_level
    left join dispersion
        on
            day_of_week_level.store_key = dispersion.store_key
            and day_of_week_level.sku_key = dispersion.sku_key
    left join day_variances
        on
            day_of_week_level.store_key = day_variances.store_key
            and day_of_week_level.sku_key = day_variances.sku_key
    left join day_trading_hours
        on
            day_of_week_level.store_key = day_trading_hours.store_key
            and day_of_week_level.sku_key = day_trading_hours.sku_key
            and day_of_week_level.day_of_week = day_trading_hours.day_of_week
),

weekday_day_noise as (
    -- That, or where the weekday's own clean days disagree beyond `baseline_trim_z` of it,
    -- their measured variance: two training days of which one is a holiday no rule could
    -- tell apart leave the weekday's total that uncertain, and the spread and the weekday
    -- factor (baseline_sales_predictions) should know it.
    select
        weekday_model_noise.* exclude (model_day_noise),
        case
            when own_weekday_levels.day_log_variance
                > {{ trim_z }} * {{ trim_z }} * weekday_model_noise.model_day_noise
                then own_weekday_levels.day_log_variance
            else weekday_model_noise.model_day_noise
        end as day_noise
    from weekday_model_noise
    left join own_weekday_levels
        on
            weekday_model_noise.store_key = own_weekday_levels.store_key
            and weekday_model_noise.sku_key = own_weekday_levels.sku_key
            and weekday_model_noise.day_of_week = own_weekday_levels.day_of_week
),

store_weekday_noise as (
    -- The error of the store's weekday ratio: its products' own errors pooled.
    select
        store_key,
        day_of_week,
        1 / nullif(cast(sum(cast(
            2 * clean_days / (pi() * day_noise) as decimal(38, 12)
        )) as double), 0) as store_noise
    from weekday_day_noise
    where has_own_ratio and clean_days > 0
    group by store_key, day_of_week
),

weekday_level_noise as (
    -- Relative variance of a weekday's daily total in the profile: the own ratio's share
    -- (a median of its clean days: pi / 2n), the store's, and the base's (a median of all
    -- the series' clean days).
    select
        weekday_day_noise.store_key,
        weekday_day_noise.sku_key,
        weekday_day_noise.day_of_week,
        coalesce(
            -- A holiday weekday: its ratio's error from the other weekdays, and the base's.
            holiday_weekday_ratios.ratio_variance
            + pi() * weekday_day_noise.day_noise / (2 * weekday_day_noise.base_days),
            pow(weekday_day_noise.own_weight, 2) * pi() * weekday_day_noise.day_noise
            / (2 * weekday_day_noise.clean_days)
            + pow(1 - weekday_day_noise.own_weight, 2) * store_weekday_noise.store_noise
            + pi() * weekday_day_noise.day_noise / (2 * weekday_day_noise.base_days),
            -- The store's ratio alone: its error and how far the series' week departs
            -- from its store's.
            case
                when weekday_day_noise.clean_days is null
                    then
                        store_weekday_noise.store_noise
                        + coalesce(weekday_deviations.weekday_variance, 0.0)
                        + pi() * weekday_day_noise.day_noise / (2 * weekday_day_noise.base_days)
            end,
            pi() * weekday_day_noise.day_noise / (2 * greatest(weekday_day_noise.clean_days, 1))
        ) as weekday_level_variance
    from weekday_day_noise
    left join store_weekday_noise
        on
            weekday_day_noise.store_key = store_weekday_noise.store_key
            and weekday_day_noise.day_of_week = store_weekday_noise.day_of_week
    left join weekday_deviations
        on
            weekday_day_noise.store_key = weekday_deviations.store_key
            and weekday_day_noise.sku_key = weekday_deviations.sku_key
    left join holiday_weekday_ratios
        on
            weekday_day_noise.store_key = holiday_weekday_ratios.store_key
            and weekday_day_noise.sku_key = holiday_weekday_ratios.sku_key
            and weekday_day_noise.day_of_week = holiday_weekday_ratios.day_of_week
),

-- 6. Asymmetry of the noise -------------------------------------------------------------

profile_hours as (
    select
        store_key,
        sku_key,
        hour_of_week,
        profile_units
    from profiled_hours
),

training_scores as (
    -- Every clean training hour's score against the profile (no level, no estimation
    -- error: only the balance of the two sides is used).
    select
        clean_training.store_key,
        clean_training.sku_key,
        clean_training.sales_day,
        {{ mrs_count_z(
            'clean_training.units',
            'profile_hours.profile_units',
            mrs_count_variance('profile_hours.profile_units', 'dispersion.dispersion_quadratic')
            ~ ' + pow(' ~ var('baseline_min_spread_units') ~ ', 2)',
            'coalesce(dispersion.dispersion_quadratic, 0.0)'
        ) }} as score
    from clean_training
    inner join profile_hours
        on
            clean_training.store_key = profile_hours.store_key
            and clean_training.sku_key = profile_hours.sku_key
            and clean_training.hour_of_week = profile_hours.hour_of_week
    left join dispersion
        on
            clean_training.store_key = dispersion.store_key
            and clean_training.sku_key = dispersion.sku_key
    where profile_hours.profile_units > 0 or clean_training.units > 0
),

asymmetry as (
    -- Mean size of the upper and of the lower deviations (capped at 4): equal for a
    -- symmetric noise. Each side's scale is its share of the two, shrunk towards 1 with the
    -- weight of `baseline_asymmetry_prior_hours` hours.
    select
        store_key,
        sku_key,
        count(*) as hours,
        cast(sum(cast(least(greatest(score, 0), 4) as decimal(18, 9))) as double)
            as upper_total,
        cast(sum(cast(least(greatest(-score, 0), 4) as decimal(18, 9))) as double)
            as lower_total
    from training_scores
    group by store_key, sku_key
),

-- 7. Correlation of the hours of one day -------------------------------------------------

week_centred_scores as (
    -- Training scores (capped at 4) less their series' mean of the week: what the level
    -- factor follows in detection (trend, a slow wander) is not a within-day correlation.
    select
        store_key,
        sku_key,
        sales_day,
        least(greatest(score, -4), 4)
        - cast(avg(cast(least(greatest(score, -4), 4) as decimal(38, 12))) over (
            partition by store_key, sku_key, date_trunc('week', sales_day)
        ) as double) as score
    from training_scores
),

day_score_sums as (
    select
        store_key,
        sku_key,
        sales_day,
        count(*) as scored_hours,
        cast(sum(cast(score as decimal(24, 9))) as double) as score_sum,
        cast(sum(cast(score * score as decimal(24, 9))) as double) as score_squares
    from week_centred_scores
    group by store_key, sku_key, sales_day
),

within_day_moments as (
    -- Moment estimate of the correlation rho of two hours of one day: the mean product
    -- of distinct same-day pairs over the mean square.
    select
        store_key,
        sku_key,
        count(*) as scored_days,
        -- Exact decimal sums, as above.
        (
            cast(sum(cast(pow(score_sum, 2) - score_squares as decimal(38, 9))) as double)
            / nullif(sum(scored_hours * (scored_hours - 1)), 0)
        )
        / nullif(
            cast(sum(cast(score_squares as decimal(38, 9))) as double) / sum(scored_hours), 0
        ) as pair_correlation
    from day_score_sums
    group by store_key, sku_key
),

pooled_within_day as (
    select coalesce(median(pair_correlation), 0.0) as pair_correlation
    from {{ mrs_fit_pool('within_day_moments', 'day_noise') }}
),

within_day_correlations as (
    -- Shrunk towards the median series' with the weight of `baseline_inflation_prior_blocks`
    -- days, and kept within [0, 0.9].
    select
        within_day_moments.store_key,
        within_day_moments.sku_key,
        least(greatest(
            (
                within_day_moments.scored_days * coalesce(within_day_moments.pair_correlation, 0.0)
                + {{ prior_blocks }} * pooled_within_day.pair_correlation
            )
            / (within_day_moments.scored_days + {{ prior_blocks }}),
            0.0
        ), 0.9) as within_day_correlation
    from within_day_moments
    cross join pooled_within_day
),

week_changes as (
    -- The sign of each clean training hour's change from the same hour exactly a week
    -- before (weekly_changes, section 3): the profile's own error cancels (the scores
    -- against the profile had neighbouring hours correlate at up to 0.9 on independent
    -- noise, where the own profile of two weeks and the store's shape it is shrunk to
    -- disagree smoothly over a day), what the hours share in noise stays. Only signs are
    -- used below, so no change needs its spread.
    select
        store_key,
        sku_key,
        sales_day,
        sales_ts,
        sign(change_units) as change_sign
    from weekly_changes
    where change_gap = interval 7 day
),

change_day_sums as (
    -- Signs, not sizes: a burst of a few hours inside training (the family's worlds put
    -- one on a sixth of the series) moved both moments below by products of up to 16 and
    -- gave independent hours a persistence of up to 0.7; it moves a sign correlation by
    -- its hours' share of the pairs.
    select
        store_key,
        sku_key,
        sales_day,
        sum(change_sign) as sign_sum,
        sum(abs(change_sign)) as signed_hours
    from week_changes
    group by store_key, sku_key, sales_day
),

change_day_moments as (
    -- What all hours of a day share in their changes (the day factor): the mean sign
    -- product of distinct same-day pairs, as a Gaussian correlation (sin(pi / 2 x mean),
    -- Greiner's relation).
    select
        store_key,
        sku_key,
        sin(
            pi() / 2
            * sum(sign_sum * sign_sum - signed_hours)
            / nullif(sum(signed_hours * (signed_hours - 1)), 0)
        ) as pair_correlation
    from change_day_sums
    group by store_key, sku_key
),

neighbour_moments as (
    -- The same for two neighbouring changed hours of one day.
    select
        store_key,
        sku_key,
        count(neighbour_sign) as neighbour_pairs,
        sin(pi() / 2 * avg(neighbour_sign)) as neighbour_correlation
    from (
        select
            store_key,
            sku_key,
            nullif(
                change_sign
                * lag(change_sign) over (partition by store_key, sku_key, sales_day order by sales_ts),
                0
            ) as neighbour_sign
        from week_changes
    ) as neighbours
    group by store_key, sku_key
),

persistence_moments as (
    -- What neighbouring hours share beyond what all hours of their day share (weather that
    -- lasts a few hours, a busy afternoon): (r1 - rho) / (1 - rho), zero for hours that
    -- only share their day.
    select
        neighbour_moments.store_key,
        neighbour_moments.sku_key,
        neighbour_moments.neighbour_pairs,
        (
            neighbour_moments.neighbour_correlation
            - greatest(coalesce(change_day_moments.pair_correlation, 0.0), 0.0)
        )
        / (1 - least(greatest(coalesce(change_day_moments.pair_correlation, 0.0), 0.0), 0.9))
            as persistence
    from neighbour_moments
    inner join change_day_moments
        on
            neighbour_moments.store_key = change_day_moments.store_key
            and neighbour_moments.sku_key = change_day_moments.sku_key
),

hour_persistences as (
    -- Moved from 0 only as far as it outweighs its noise (a sign correlation of n pairs has
    -- a standard error of about (pi / 2) / sqrt(n); two of them are taken off, the positive
    -- part of a James-Stein shrinkage), and at most 0.9: independent hours, which measure a
    -- few hundredths either way, keep their sharp detector as it was.
    select
        store_key,
        sku_key,
        least(
            greatest(persistence, 0.0)
            * greatest(
                1 - pow(pi(), 2) / (neighbour_pairs * pow(nullif(persistence, 0.0), 2)), 0.0
            ),
            0.9
        ) as hour_persistence
    from persistence_moments
    where
        neighbour_pairs > 0
        -- off: every series' hours independent given their day, as before
        and {{ 'true' if var('baseline_hour_persistence') else 'false' }}
),

side_scales as (
    -- Off by default (`baseline_side_scales`): the balance is measured in sample, on hours
    -- the robust fit has already rid of their upper outliers (burst hours, trimmed changes),
    -- so it found the upper side the narrower and widened every rise in detection.
    select
        store_key,
        sku_key,
    {%- if var('baseline_side_scales') %}
        1 + (2 * upper_total / nullif(upper_total + lower_total, 0) - 1)
        * hours / (hours + {{ var('baseline_asymmetry_prior_hours') }}) as upper_scale,
        1 + (2 * lower_total / nullif(upper_total + lower_total, 0) - 1)
        * hours / (hours + {{ var('baseline_asymmetry_prior_hours') }}) as lower_scale
    {%- else %}
        cast(1.0 as double) as upper_scale,
        cast(1.0 as double) as lower_scale
    {%- endif %}
    from asymmetry
),

fit as (
    select
        series_keys.store_id,
        series_keys.sku,
        shrunk_profile.hour_of_week,
        {% if route == 'real' -%}
            profiled_hours.profile_units,
            coalesce(weekday_level_noise.weekday_level_variance, 0.0) as weekday_level_variance,
            shrunk_profile.pooled_days as training_days,
            shrunk_profile.own_weight,
            -- Variance of the profile estimate, as a share of one hour's variance.
            -- (the weekday's total apart: weekday_level_variance).
            pow(shrunk_profile.own_weight, 2) * pi()
            / (2 * greatest(shrunk_profile.clean_weeks, 1))
            + pow(1 - shrunk_profile.own_weight, 2) * shrunk_profile.pooled_shape_variance
            / nullif({{ mrs_count_variance(
                'shrunk_profile.pooled_units', 'dispersion.dispersion_quadratic'
            ) }}, 0) as profile_variance_ratio,
            coalesce(dispersion.dispersion_linear, 1.0) as dispersion_linear,
            coalesce(dispersion.dispersion_quadratic, 0.0) as dispersion_quadratic,
            coalesce(day_variances.day_variance, 0.0) as day_variance,
            coalesce(side_scales.upper_scale, 1.0) as upper_scale,
            coalesce(side_scales.lower_scale, 1.0) as lower_scale,
            coalesce(within_day_correlations.within_day_correlation, 0.0)
                as within_day_correlation,
            coalesce(hour_persistences.hour_persistence, 0.0) as hour_persistence,
        {% else -%}
        shrunk_profile.mean_units as profile_units,
        cast(0.0 as double) as weekday_level_variance,
        shrunk_profile.training_weeks as training_days,
        cast(1.0 as double) as own_weight,
        cast(0.0 as double) as profile_variance_ratio,
        cast(1.0 as double) as dispersion_linear,
        cast(0.0 as double) as dispersion_quadratic,
        cast(0.0 as double) as day_variance,
        cast(1.0 as double) as upper_scale,
        cast(1.0 as double) as lower_scale,
        cast(0.0 as double) as within_day_correlation,
        cast(0.0 as double) as hour_persistence,
        {% endif -%}
        coalesce(day_trading_hours.trading_hours, 0) as day_trading_hours,
        coalesce(day_trading_hours.effective_hours, 0) as day_effective_hours,
        shrunk_profile.training_weeks,
        shrunk_profile.training_coverage,
        plan.model_version
    from shrunk_profile
    inner join series_keys
        on
            shrunk_profile.store_key = series_keys.store_key
            and shrunk_profile.sku_key = series_keys.sku_key
    inner join profiled_hours
        on
            shrunk_profile.store_key = profiled_hours.store_key
            and shrunk_profile.sku_key = profiled_hours.sku_key
            and shrunk_profile.hour_of_week = profiled_hours.hour_of_week
    cross join plan
    left join weekday_level_noise
        on
            shrunk_profile.store_key = weekday_level_noise.store_key
            and shrunk_profile.sku_key = weekday_level_noise.sku_key
            and shrunk_profile.hour_of_week // 24 = weekday_level_noise.day_of_week
    left join dispersion
        on
            shrunk_profile.store_key = dispersion.store_key
            and shrunk_profile.sku_key = dispersion.sku_key
    left join day_variances
        on
            shrunk_profile.store_key = day_variances.store_key
            and shrunk_profile.sku_key = day_variances.sku_key
    left join day_trading_hours
        on
            shrunk_profile.store_key = day_trading_hours.store_key
            and shrunk_profile.sku_key = day_trading_hours.sku_key
            and shrunk_profile.hour_of_week // 24 = day_trading_hours.day_of_week
    left join side_scales
        on
            shrunk_profile.store_key = side_scales.store_key
            and shrunk_profile.sku_key = side_scales.sku_key
    left join within_day_correlations
        on
            shrunk_profile.store_key = within_day_correlations.store_key
            and shrunk_profile.sku_key = within_day_correlations.sku_key
    left join hour_persistences
        on
            shrunk_profile.store_key = hour_persistences.store_key
            and shrunk_profile.sku_key = hour_persistences.sku_key
)
{%- endset %}

{#- A partial pass writes its rows whatever the fit's fingerprint: no digest needed. -#}
{%- set fingerprint = (
    mrs_fit_fingerprint(fit_ctes ~ mrs_fit_exchanged_pools()) if fit_pass == 'fit' else ''
) %}

{%- if fit_pass == 'dispersion' %}

    {{ fit_ctes }}

    select
        series_keys.store_id,
        series_keys.sku,
        series_moments.sum_xy,
        series_moments.sum_xx
    from series_moments
    inner join series_keys
        on
            series_moments.store_key = series_keys.store_key
            and series_moments.sku_key = series_keys.sku_key

{%- elif fit_pass == 'day_noise' %}

    {{ fit_ctes }}

    select
        series_keys.store_id,
        series_keys.sku,
        day_moments.day_variance,
        within_day_moments.pair_correlation
    from day_moments
    full outer join within_day_moments
        on
            day_moments.store_key = within_day_moments.store_key
            and day_moments.sku_key = within_day_moments.sku_key
    inner join series_keys
        on
            coalesce(day_moments.store_key, within_day_moments.store_key) = series_keys.store_key
            and coalesce(day_moments.sku_key, within_day_moments.sku_key) = series_keys.sku_key

{%- elif mrs_fit_is_current(fingerprint) %}

    -- the fit built is current: nothing to write (macro get_incremental_replace_when_fitted_sql)
    select * from {{ this }}
    where false

{%- else %}

    {{ fit_ctes }}

    select
        *,
        '{{ fingerprint }}' as fit_fingerprint
    from fit
    {%- if is_incremental() %}
    -- A boundary row (no store, never inserted): fitted again, so every kept row goes, even
    -- when the new fit has no row.
    union all by name -- noqa: AM07
    select cast(null as varchar) as store_id
    {%- endif %}

{%- endif %}
