{#-
  baseline_sales_model, fitted on [training_start, detection_start).
  real: a robust hour-of-week profile per series = day_of_week level x intraday shape.
        The day_of_week level is the median daily total of that day_of_week over the training
        weeks; the intraday shape is the winsorised mean share of the day's sales falling in
        each hour, pooled over every training day with the same trading hours (first and
        last hour with sales), so 4 weeks give ~24 days per hour instead of 4 noisy values.
        The spread is count-aware: variance = mean * max(1, a + b * mean), with a and b
        fitted from the robust size (MAD) of week-over-week changes in the quieter and the
        busier half of the series' hours; Poisson-like series get a ~ 1, b ~ 0, busy or
        overdispersed ones wider spreads, so each series is judged on its own noise.
  mock: the plain mean of each hour of the week and a Poisson spread (a = 1, b = 0).
-#}
{%- set route = mrs_model_route('baseline_sales_model') %}

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

training as (
    -- The approved version's window (the vars by default), without the series-days of
    -- confirmed anomalies it excludes.
    select
        series_hours.store_id,
        series_hours.sku,
        series_hours.sales_ts,
        series_hours.units,
        series_hours.is_reported,
        {{ mrs_hour_of_week('series_hours.sales_ts') }} as hour_of_week
    from series_hours
    cross join plan
    left join exclusions
        on
            series_hours.store_id = exclusions.store_id
            and series_hours.sku = exclusions.sku
            and cast(series_hours.sales_ts as date) = exclusions.excluded_day
    where
        series_hours.sales_ts >= plan.training_start
        and series_hours.sales_ts < plan.training_end
        and exclusions.excluded_day is null
),

cells as (
    select
        store_id,
        sku,
        hour_of_week,
        median(units) as median_units,
        avg(units) as mean_units,
        count(*) as training_weeks,
        avg(cast(is_reported as integer)) as training_coverage
    from training
    group by store_id, sku, hour_of_week
),

trading_days as (
    -- Each day_of_week's trading hours: its first and last hour with a typical sale.
    select
        store_id,
        sku,
        hour_of_week // 24 as day_of_week,
        min(hour_of_week % 24) as first_hour,
        max(hour_of_week % 24) as last_hour
    from cells
    where median_units > 0
    group by store_id, sku, hour_of_week // 24
),

days as (
    select
        training.store_id,
        training.sku,
        cast(training.sales_ts as date) as sales_day,
        training.hour_of_week // 24 as day_of_week,
        sum(training.units) as day_units
    from training
    group by
        training.store_id,
        training.sku,
        cast(training.sales_ts as date),
        training.hour_of_week // 24
),

day_of_week_level as (
    select
        store_id,
        sku,
        day_of_week,
        median(day_units) as level_units
    from days
    group by store_id, sku, day_of_week
),

hourly_shares as (
    select
        training.store_id,
        training.sku,
        trading_days.first_hour,
        trading_days.last_hour,
        training.hour_of_week % 24 as hour_of_day,
        training.units / days.day_units as day_share
    from training
    inner join days
        on
            training.store_id = days.store_id
            and training.sku = days.sku
            and cast(training.sales_ts as date) = days.sales_day
    inner join trading_days
        on
            training.store_id = trading_days.store_id
            and training.sku = trading_days.sku
            and days.day_of_week = trading_days.day_of_week
    where days.day_units > 0
),

share_bounds as (
    select
        store_id,
        sku,
        first_hour,
        last_hour,
        hour_of_day,
        quantile_cont(day_share, 0.1) as low_share,
        quantile_cont(day_share, 0.9) as high_share
    from hourly_shares
    group by store_id, sku, first_hour, last_hour, hour_of_day
),

pooled_shape as (
    -- Winsorised mean (10 % each side): robust to a past anomaly like a median, but not
    -- lumpy when hourly counts are small integers.
    select
        hourly_shares.store_id,
        hourly_shares.sku,
        hourly_shares.first_hour,
        hourly_shares.last_hour,
        hourly_shares.hour_of_day,
        -- Decimal sums are exact, so the result does not depend on the order in which
        -- parallel threads add the rows up (determinism).
        cast(avg(cast(least(
            greatest(hourly_shares.day_share, share_bounds.low_share),
            share_bounds.high_share
        ) as decimal(18, 15))) as double) as typical_share,
        count(*) as pooled_days
    from hourly_shares
    inner join share_bounds
        on
            hourly_shares.store_id = share_bounds.store_id
            and hourly_shares.sku = share_bounds.sku
            and hourly_shares.first_hour = share_bounds.first_hour
            and hourly_shares.last_hour = share_bounds.last_hour
            and hourly_shares.hour_of_day = share_bounds.hour_of_day
    group by
        hourly_shares.store_id,
        hourly_shares.sku,
        hourly_shares.first_hour,
        hourly_shares.last_hour,
        hourly_shares.hour_of_day
),

shape as (
    -- Robust means do not add up to one: rescale each shape to a whole day.
    select
        *,
        typical_share / nullif(cast(sum(cast(typical_share as decimal(18, 15))) over (
            partition by store_id, sku, first_hour, last_hour
        ) as double), 0) as day_share
    from pooled_shape
),

profile as (
    select
        cells.store_id,
        cells.sku,
        cells.hour_of_week,
        {%- if route == 'real' %}
            coalesce(day_of_week_level.level_units * shape.day_share, 0) as profile_units,
            coalesce(shape.pooled_days, 0) as training_days,
        {%- else %}
        cells.mean_units as profile_units,
        cells.training_weeks as training_days,
        {%- endif %}
        cells.training_weeks,
        cells.training_coverage
    from cells
    left join trading_days
        on
            cells.store_id = trading_days.store_id
            and cells.sku = trading_days.sku
            and cells.hour_of_week // 24 = trading_days.day_of_week
    left join day_of_week_level
        on
            cells.store_id = day_of_week_level.store_id
            and cells.sku = day_of_week_level.sku
            and cells.hour_of_week // 24 = day_of_week_level.day_of_week
    left join shape
        on
            cells.store_id = shape.store_id
            and cells.sku = shape.sku
            and trading_days.first_hour = shape.first_hour
            and trading_days.last_hour = shape.last_hour
            and cells.hour_of_week % 24 = shape.hour_of_day
),

weekly_changes as (
    -- Week-over-week changes of the same hour: their spread is sqrt(2) x the noise, and
    -- they do not depend on the profile estimate.
    select
        training.store_id,
        training.sku,
        profile.profile_units,
        (
            training.units - lag(training.units) over (
                partition by training.store_id, training.sku, training.hour_of_week
                order by training.sales_ts
            )
        ) / sqrt(2 * profile.profile_units) as standardised_change
    from training
    inner join profile
        on
            training.store_id = profile.store_id
            and training.sku = profile.sku
            and training.hour_of_week = profile.hour_of_week
    where profile.profile_units > 0
),

series_midpoint as (
    select
        store_id,
        sku,
        median(profile_units) as midpoint_units
    from weekly_changes
    group by store_id, sku
),

halves as (
    select
        weekly_changes.store_id,
        weekly_changes.sku,
        weekly_changes.profile_units > series_midpoint.midpoint_units as is_busy_half,
        median(weekly_changes.profile_units) as half_units,
        -- 1.4826 x MAD estimates the standard deviation; squared, the variance per unit.
        pow(1.4826 * median(abs(weekly_changes.standardised_change)), 2) as half_dispersion
    from weekly_changes
    inner join series_midpoint
        on
            weekly_changes.store_id = series_midpoint.store_id
            and weekly_changes.sku = series_midpoint.sku
    where weekly_changes.standardised_change is not null
    group by
        weekly_changes.store_id,
        weekly_changes.sku,
        weekly_changes.profile_units > series_midpoint.midpoint_units
),

dispersion as (
    select
        quiet.store_id,
        quiet.sku,
        case
            when busy.half_units > quiet.half_units
                then greatest(
                        0,
                        (busy.half_dispersion - quiet.half_dispersion)
                        / (busy.half_units - quiet.half_units)
                    )
            else 0
        end as dispersion_quadratic,
        quiet.half_dispersion,
        quiet.half_units
    from halves as quiet
    left join halves as busy
        on
            quiet.store_id = busy.store_id
            and quiet.sku = busy.sku
            and busy.is_busy_half
    where not quiet.is_busy_half
),

fit as (
    select
        profile.store_id,
        profile.sku,
        profile.hour_of_week,
        profile.profile_units,
        profile.training_weeks,
        profile.training_days,
        profile.training_coverage,
        {%- if route == 'real' %}
            coalesce(
                dispersion.half_dispersion
                - dispersion.dispersion_quadratic * dispersion.half_units,
                cast(1.0 as double)
            ) as dispersion_linear,
            coalesce(dispersion.dispersion_quadratic, 0.0) as dispersion_quadratic,
        {%- else %}
        cast(1.0 as double) as dispersion_linear,
        cast(0.0 as double) as dispersion_quadratic,
        {%- endif %}
        plan.model_version
    from profile
    cross join plan
    left join dispersion
        on
            profile.store_id = dispersion.store_id
            and profile.sku = dispersion.sku
)

select * from fit
