{#-
  baseline_sales_model, fitted on [training_start, detection_start).
  real: a robust hour-of-week profile per series = day_of_week level x intraday shape.
        The day_of_week level is the median daily total of that day_of_week over the training
        weeks; the intraday shape is the winsorised mean share of the day's sales falling in
        each hour, pooled over every training day with the same trading hours (first and
        last hour with sales), so 4 weeks give ~24 days per hour instead of 4 noisy values.
        The spread is count-aware: variance = mean * max(1, a + b * mean). The shape of
        a + b * mean is fitted on the (winsorised) squared week-over-week changes of every
        series together; each series scales it by its own noise factor, shrunk towards 1
        by `baseline_dispersion_prior_hours`, so a quiet series and a busy or overdispersed
        one are each judged on their own noise without a noisy two-parameter fit apiece.
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

winsorised_changes as (
    -- A squared change beyond 5 standard units (a past anomaly, a stock count) is capped,
    -- so one wild week cannot widen a series' spread. Decimals make every sum below exact,
    -- so the fit does not depend on the order in which threads add rows up.
    select
        store_id,
        sku,
        cast(profile_units as decimal(18, 9)) as profile_units,
        cast(least(pow(standardised_change, 2), 25.0) as decimal(18, 9)) as squared_change
    from weekly_changes
    where standardised_change is not null
),

pooled_sums as (
    select
        cast(count(*) as double) as n,
        cast(sum(profile_units) as double) as sum_x,
        cast(sum(squared_change) as double) as sum_y,
        cast(sum(profile_units * profile_units) as double) as sum_xx,
        cast(sum(profile_units * squared_change) as double) as sum_xy
    from winsorised_changes
),

pooled_slope as (
    select
        *,
        greatest(
            coalesce((n * sum_xy - sum_x * sum_y) / nullif(n * sum_xx - sum_x * sum_x, 0), 0.0),
            0.0
        ) as slope
    from pooled_sums
),

pooled_dispersion as (
    -- The shape of the variance function, E[squared change] = a + b * mean, fitted over
    -- every series at once by least squares: per series, two coefficients from a few
    -- hundred small integer counts are too noisy (a series that looks busier than it is
    -- would hide its anomalies).
    select
        greatest(coalesce((sum_y - slope * sum_x) / nullif(n, 0), 1.0), 0.0)
            as pooled_linear,
        slope as pooled_quadratic
    from pooled_slope
),

series_dispersion as (
    -- Each series' own noise as a multiple of the pooled function, shrunk towards 1 with
    -- the weight of `baseline_dispersion_prior_hours` pooled hours (empirical Bayes).
    select
        winsorised_changes.store_id,
        winsorised_changes.sku,
        pooled_dispersion.pooled_linear,
        pooled_dispersion.pooled_quadratic,
        count(*) as series_hours,
        cast(sum(winsorised_changes.squared_change) as double) as observed,
        count(*) * pooled_dispersion.pooled_linear
        + pooled_dispersion.pooled_quadratic
        * cast(sum(winsorised_changes.profile_units) as double) as expected
    from winsorised_changes
    cross join pooled_dispersion
    group by
        winsorised_changes.store_id,
        winsorised_changes.sku,
        pooled_dispersion.pooled_linear,
        pooled_dispersion.pooled_quadratic
),

noise_factors as (
    select
        *,
        (observed + {{ var('baseline_dispersion_prior_hours') }} * expected / series_hours)
        / nullif(
            expected + {{ var('baseline_dispersion_prior_hours') }} * expected / series_hours,
            0
        ) as noise_factor
    from series_dispersion
),

dispersion as (
    select
        store_id,
        sku,
        noise_factor * pooled_linear as dispersion_linear,
        noise_factor * pooled_quadratic as dispersion_quadratic
    from noise_factors
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
            coalesce(dispersion.dispersion_linear, 1.0) as dispersion_linear,
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
