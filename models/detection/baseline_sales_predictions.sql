{#-
  The baseline for every hour the detector scores: from two days before detection_start (the
  back-dating context) up to the last hour before as_of.
  real: the fitted hour-of-week profile times a level factor, the median ratio of actual to
        profile over the previous `baseline_level_days` whole days (so a slow trend is
        followed while a short anomaly is not absorbed; the days of an anomaly of a few
        days, beyond `baseline_disturbed_day_z` of their noise from the level before them,
        are left out while they are a minority), shrunk towards 1 as far as that
        median is noise, times a shape factor per clock hour (the median share of that hour
        in its own day over the previous `baseline_shape_days` days, shrunk the same way), so
        a season's drift of the intraday shape is followed too, times a weekday factor (the
        median ratio of the same weekday's detection days over the previous
        `baseline_weekday_weeks` weeks, moved from 1 as far as the fit's own error of that
        weekday's total outweighs their noise), so a profile fitted on few weeks learns its
        weekdays from the next ones, times an hour-of-week factor (the same for each hour of
        the week's share of its day, against the fit's error of that hour); the variance
        adds the uncertainty of the profile's hour, the shape factor's, what the hours of a
        day share (the day factor, the error of the weekday's total that remains and the
        level's) and a floor of `baseline_min_spread_units`. The day
        inflation (that shared part) and the within-day correlation are for the detectors
        that add hours up.
  mock: the profile alone, with a Poisson spread.
  Everything here depends only on sales before each hour's own day, so a later build
  computes the same values for past hours (tick equivalence), and a build keeps the days
  before the first one whose inputs changed and scores from it on, reading the days' totals
  of `mrs_prediction_context_days()` days before it (baseline_day_totals, kept too) and the
  hours of the `baseline_shape_days` days before it and, of the scored days' own weekdays,
  of the `baseline_weekday_weeks` weeks before it (macros/detection/scored_days.sql).
  Such a build takes what the kept days' hours say from their rows (the shape factors the
  hour-of-week ratios are measured against, the levels the weekday ratios are measured
  against, the squared scores of the score scale) and computes the medians of the days it
  scores (and the level's of the days their level judges) by joining each with its earlier
  ones: windows compute every row they read, and over the whole context they were most of
  a one-tick build's predictions (the shape factor's alone 8 of 11 s at 5 M rows). A build
  of every day computes the same medians as windows.
  An hour's values depend on the days before its own and on its own sales only (the
  weekday factor's noise too: measured on the earlier days, not on the part of the day
  seen so far), so an hourly build that adds hours to the last kept day takes that day's
  kept hours as they were scored and computes the new hours only, reading the context
  days' hours at the new hours' clock hours (mrs_first_scored_hour); each hour carries the
  digest of its day's hours up to it, so the kept ones stay as a build of every day has them.
  Sharded (issue 17, macros/sharding/score_passes.sql): a day's score scale pools every
  store's series (tau^2, score_variance_spreads), so each shard runs this model three times
  (MRS_SCORE_PASS): `plan` writes the first day it would score again, `scale` (from the
  first day any shard scores again) its series' sums of each day, and `score` scores with
  every shard's sums.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_from_first_hour',
    on_schema_change='fail',
) }}
{%- set score_pass = mrs_score_pass() %}
{%- if score_pass != 'score' %}
{{ config(**mrs_shard_pass_config('baseline_sales_predictions', score_pass)) }}
{%- endif %}
{%- set route = mrs_model_route('baseline_sales_model') %}
{%- set drift_variance = var('baseline_level_drift_sd') ~ ' * ' ~ var('baseline_level_drift_sd') %}
{%- set shape_drift_sd = var('baseline_shape_drift_sd') %}
{%- set shape_drift_variance = shape_drift_sd ~ ' * ' ~ shape_drift_sd %}
{#- Stand for the first scored day and the code's digest in the SQL below, whose text is
    digested without them. -#}
{%- set first_day = '__mrs_first_scored_day__' %}
{%- set first_hour = '__mrs_first_scored_hour__' %}
{#- The route as a SQL constant: its branches are CASEs DuckDB folds, not Jinja blocks. -#}
{%- set is_real = 'true' if route == 'real' else 'false' %}
{%- set code_digest_token = '__mrs_code_digest__' %}
{#- The kept rows, or none on a first build (a token: the digested text is the same). -#}
{%- set kept_token = '__mrs_kept_predictions__' %}
{#- Days before a scored one that its score scale, its weekday and hour-of-week factors
    and its shape factor look back at. -#}
{%- set scale_days = [var('baseline_score_scale_days') | int, 1] | max %}
{%- set weekday_days = 7 * (var('baseline_weekday_weeks') | int) %}
{%- set shape_days = var('baseline_shape_days') | int %}
{%- set level_days = var('baseline_level_days') | int %}

{%- set prediction_ctes -%}
with

settings as (
    select * from {{ ref('run_settings') }}
),

scored_weekdays as (
    -- The weekdays of the days scored (from the first to the last, in the stores' time).
    select distinct isodow(scored_days.scored_day) as weekday
    from settings
    cross join generate_series(
        cast({{ first_day }} as timestamp),
        cast({{ mrs_sales_day('settings.as_of') }} as timestamp),
        interval 1 day
    ) as scored_days (scored_day)
),

scored_clock_hours as (
    -- The stores' clock hours of the hours scored (from the first hour scored, or the first
    -- scored day's first hour, to the last hour before as_of): an hour's shape and
    -- hour-of-week factors look back at its own clock hour only, so a build that scores part
    -- of a day (an hourly tick) reads those clock hours of the context days only. The hours
    -- are counted in UTC (a store's clock goes back an hour when daylight saving ends).
    select distinct hour({{ mrs_local_time('scored_hours.scored_ts') }}) as hour_of_day
    from settings
    cross join generate_series(
        coalesce({{ first_hour }}, {{ dbt.dateadd('day', -1, first_day) }}),
        {{ dbt.dateadd('hour', -1, 'settings.as_of') }},
        interval 1 hour
    ) as scored_hours (scored_ts)
    where {{ mrs_sales_day('scored_hours.scored_ts') }} >= {{ first_day }}
),

fit_hours as not materialized (
    -- The fit's hours of the week at the clock hours scored: an hourly tick joins a 24th of
    -- the fit (a hash join of the whole fit took a third of a 20 M-row tick's query).
    select * from {{ ref('baseline_sales_model_fit') }}
    where
        {{ first_day }} is null
        or hour_of_week % 24 in (select scored_clock_hours.hour_of_day from scored_clock_hours)
),

series_hours as (
    -- The hours the scored days depend on hour by hour: the days their shape factors look
    -- back at, and those of their own weekdays their hour-of-week factors look back at (a
    -- UTC day more: whole days in the stores' time), at the clock hours scored.
    select * from {{ ref('sales_timeseries_data') }}
    where
        (
            {{ first_day }} is null
            -- A build of every day: the days predicted (from two days before
            -- detection_start) and the days their shape factors look back at; the training
            -- days before those were a quarter of a 41-day world's windows' rows.
            and sales_ts >= (
                select {{ dbt.dateadd('day', -(shape_days + 3), 'settings.detection_start') }}
                from settings
            )
        )
        or (
            (
                sales_ts >= {{ dbt.dateadd('day', -(shape_days + 1), first_day) }}
                or (
                    sales_ts >= {{ dbt.dateadd('day', -(weekday_days + 1), first_day) }}
                    and isodow({{ mrs_local_time('sales_ts') }})
                    in (select scored_weekdays.weekday from scored_weekdays)
                )
            )
            and hour({{ mrs_local_time('sales_ts') }})
            in (select scored_clock_hours.hour_of_day from scored_clock_hours)
        )
),

digested_hours as (
    -- Every hour of the days scored (from the UTC day before: whole local days).
    select * from series_hours
    where {{ first_day }} is null
    union all
    select * from {{ ref('sales_timeseries_data') }}
    where
        {{ first_day }} is not null
        and sales_ts >= {{ dbt.dateadd('day', -1, first_day) }}
),

input_hours as (
    -- What each hour's scores were computed from: the digest of its day's hours up to it (a
    -- running xor of the hours' digests), the same whichever hour a build scores the day on
    -- from; a day's newest hour's is the whole day's, which mrs_first_scored_day and
    -- mrs_first_scored_hour compare.
    {{ mrs_running_day_digests('digested_hours', mrs_series_day_digest) }}
),

profiled as (
    -- Every hour of the context with what its day's and hour's factors need of the fit (the
    -- rest of it only for the hours predicted, below: narrow rows over the whole context).
    select
        series_hours.store_id,
        series_hours.sku,
        series_hours.sales_ts,
        -- No sales are known for an hour the feed missed (null, so the medians of the
        -- factors below skip it); it is scored as a closed hour.
        case when not series_hours.is_feed_gap then series_hours.units end as units,
        series_hours.is_feed_gap,
        fit.profile_units,
        fit.dispersion_quadratic,
        fit.profile_variance_ratio,
        fit.hour_of_week,
        fit.hour_of_week % 24 as hour_of_day,
        {{ mrs_sales_day('series_hours.sales_ts') }} as sales_day
    from series_hours
    {{ mrs_join_profile_hour('series_hours', 'fit_hours') }}
),

predicted_hours as (
    -- The hours predicted: the days scored (from two days before detection_start), with
    -- the rest of their fit.
    select
        profiled.*,
        fit.day_variance,
        fit.weekday_level_variance,
        fit.day_effective_hours,
        fit.training_days,
        fit.training_coverage,
        fit.dispersion_linear,
        fit.day_trading_hours,
        fit.upper_scale,
        fit.lower_scale,
        fit.within_day_correlation,
        fit.hour_persistence,
        fit.model_version
    from profiled
    inner join fit_hours as fit
        on
            profiled.store_id = fit.store_id
            and profiled.sku = fit.sku
            and profiled.hour_of_week = fit.hour_of_week
    cross join settings
    where
        profiled.sales_ts >= {{ dbt.dateadd('day', -2, 'settings.detection_start') }}
        and ({{ first_day }} is null or profiled.sales_day >= {{ first_day }})
        and ({{ first_hour }} is null or profiled.sales_ts >= {{ first_hour }})
),

daily_ratio as (
    -- Each day's units over its profile's, kept from build to build (baseline_day_totals):
    -- the context days the level and weekday factors look back at, not added up again.
    select
        store_id,
        sku,
        sales_day,
        day_variance,
        dispersion_quadratic,
        day_effective_hours,
        weekday_level_variance,
        profile_day_units,
        actual_to_profile
    from {{ ref('baseline_day_totals') }}
    where
        {{ first_day }} is null
        or sales_day >= {{ dbt.dateadd('day', -mrs_prediction_context_days(), first_day) }}
),

recent_ratios_windowed as (
    -- Each day's ratio against the median of the `baseline_level_days` days before it. A
    -- window over every day when every day is scored.
    select
        store_id,
        sku,
        sales_day,
        actual_to_profile,
        profile_day_units,
        day_variance,
        dispersion_quadratic,
        day_effective_hours,
        weekday_level_variance,
        median(actual_to_profile) over recent_days as median_ratio,
        count(actual_to_profile) over recent_days as recent_days,
        -- exact decimals: the same whatever order threads add the rows in, and the same as
        -- recent_ratios_joined's
        avg(cast(profile_day_units as decimal(18, 9))) over recent_days as recent_day_units
    from daily_ratio
    where {{ first_day }} is null
    window recent_days as (
        partition by store_id, sku
        order by sales_day
        range between interval {{ level_days }} days preceding
        and interval 1 day preceding
    )
),

level_targets as (
    -- The days scored again, when the days before them are kept, and the days their level
    -- looks back at (whether each of those was disturbed is judged against its own median).
    select * from daily_ratio
    where
        {{ first_day }} is not null
        and sales_day >= {{ dbt.dateadd('day', '-' ~ level_days, first_day) }}
),

recent_ratios_joined as (
    -- The same medians as recent_ratios_windowed, of the same rows, for those days only.
    select
        level_targets.store_id,
        level_targets.sku,
        level_targets.sales_day,
        level_targets.actual_to_profile,
        level_targets.profile_day_units,
        level_targets.day_variance,
        level_targets.dispersion_quadratic,
        level_targets.day_effective_hours,
        level_targets.weekday_level_variance,
        median(earlier.actual_to_profile) as median_ratio,
        count(earlier.actual_to_profile) as recent_days,
        avg(cast(earlier.profile_day_units as decimal(18, 9))) as recent_day_units
    from level_targets
    {{ mrs_join_earlier_days('level_targets', 'daily_ratio', none, level_days) }}
    group by all
),

recent_ratios as (
    select
        *,
        {{ mrs_day_noise_variance(
            'profile_day_units', 'dispersion_quadratic', 'day_effective_hours', 'day_variance'
        ) }} + coalesce(weekday_level_variance, 0) as day_ratio_variance
    from (
        select * from recent_ratios_windowed
        union all
        select * from recent_ratios_joined
    ) as ratios
),

level_days as (
    -- A day whose ratio is beyond `baseline_disturbed_day_z` of its noise (its count, the
    -- hours' overdispersion, its day factor, the error of its weekday's total and that of
    -- the median before it) from the median of the days before it is disturbed: an
    -- anomaly of a few days, not a change of level.
    select
        *,
        coalesce(
            abs(actual_to_profile - median_ratio)
            > {{ var('baseline_disturbed_day_z') }} * sqrt(
                day_ratio_variance
                + pi() / (2 * greatest(recent_days, 1))
                * {{ mrs_day_noise_variance(
                    'recent_day_units', 'dispersion_quadratic', 'day_effective_hours',
                    'day_variance'
                ) }}
            ),
            false
        ) as is_disturbed_day
    from recent_ratios
),

clean_recent_ratios_windowed as (
    -- The level's median without the disturbed days while they are a minority of the
    -- window (so the days after a three-day anomaly are not measured against it, and a
    -- lasting change of level is followed once it fills half the window).
    select
        store_id,
        sku,
        sales_day,
        day_variance,
        dispersion_quadratic,
        day_effective_hours,
        recent_day_units,
        -- The window of all days is recent_ratios'; only the clean one is new here.
        median_ratio as all_median_ratio,
        recent_days as all_days,
        median(actual_to_profile) filter (where not is_disturbed_day) over recent_days
            as clean_median_ratio,
        count(actual_to_profile) filter (where not is_disturbed_day) over recent_days
            as clean_days
    from level_days
    where {{ first_day }} is null
    window recent_days as (
        partition by store_id, sku
        order by sales_day
        range between interval {{ level_days }} days preceding
        and interval 1 day preceding
    )
),

clean_targets as (
    -- The days scored again, when the days before them are kept.
    select * from level_days
    where {{ first_day }} is not null and sales_day >= {{ first_day }}
),

clean_recent_ratios_joined as (
    -- The same medians as clean_recent_ratios_windowed, of the same rows, for those days.
    select
        clean_targets.store_id,
        clean_targets.sku,
        clean_targets.sales_day,
        clean_targets.day_variance,
        clean_targets.dispersion_quadratic,
        clean_targets.day_effective_hours,
        clean_targets.recent_day_units,
        clean_targets.median_ratio as all_median_ratio,
        clean_targets.recent_days as all_days,
        median(earlier.actual_to_profile) filter (where not earlier.is_disturbed_day)
            as clean_median_ratio,
        count(earlier.actual_to_profile) filter (where not earlier.is_disturbed_day)
            as clean_days
    from clean_targets
    {{ mrs_join_earlier_days('clean_targets', 'level_days', none, level_days) }}
    group by all
),

clean_recent_ratios as (
    select * from clean_recent_ratios_windowed
    union all
    select * from clean_recent_ratios_joined
),

level_medians as (
    select
        store_id,
        sku,
        sales_day,
        day_variance,
        dispersion_quadratic,
        day_effective_hours,
        recent_day_units,
        case
            when 2 * clean_days > all_days then clean_median_ratio else all_median_ratio
        end as median_ratio,
        case when 2 * clean_days > all_days then clean_days else all_days end as recent_days
    from clean_recent_ratios
),

ratio_noise as (
    -- The noise of that median: each day's ratio varies by its count (1 / units), the
    -- hours' overdispersion and its day factor; a median of n of them by pi / (2 n) times
    -- that.
    select
        *,
        pi() / (2 * greatest(recent_days, 1))
        * {{ mrs_day_noise_variance(
            'recent_day_units', 'dispersion_quadratic', 'day_effective_hours', 'day_variance'
        ) }} as ratio_variance
    from level_medians
),

level_weights as (
    -- How much of the median's distance from 1 is kept: at least what a level change of
    -- typical size `baseline_level_drift_sd` earns against the noise (a product selling a
    -- few units a day cannot tell a 10 % change from chance in a week; a busy one can), and
    -- all of it that the noise cannot explain (1 - noise / distance^2: an outage or a real
    -- level change of several noise widths passes almost whole).
    select
        *,
        {{ mrs_shrinkage_weight(drift_variance, 'ratio_variance', 'median_ratio') }}
            as level_weight
    from ratio_noise
),

hour_shares as (
    -- Each trading hour against its own day: its units over what the profile and the day's
    -- own level say. The intraday shape drifts with the season (darker evenings, a later
    -- rush) while the profile stays as it was in training; a day that runs high as a whole
    -- leaves these ratios at 1.
    select
        profiled.store_id,
        profiled.sku,
        profiled.sales_day,
        profiled.hour_of_week,
        profiled.hour_of_day,
        profiled.profile_units,
        profiled.dispersion_quadratic,
        profiled.profile_variance_ratio,
        profiled.units
        / nullif(profiled.profile_units * daily_ratio.actual_to_profile, 0) as share_ratio
    from profiled
    inner join daily_ratio
        on
            profiled.store_id = daily_ratio.store_id
            and profiled.sku = daily_ratio.sku
            and profiled.sales_day = daily_ratio.sales_day
    where
        profiled.profile_units > 0
        -- what the shape and hour-of-week factors of the days predicted below look back at
        and (
            {{ first_day }} is null
            or profiled.sales_day >= {{ dbt.dateadd(
                'day', -weekday_days, first_day
            ) }}
        )
),

recent_shares_windowed as (
    -- The median of the same hour of the day over the previous `baseline_shape_days` days:
    -- one odd day (a burst, an anomaly of a few hours) does not move it. Distinct: the
    -- hour a daylight-saving change repeats is one hour of the day. A window over every
    -- hour when every day is scored.
    select distinct
        store_id,
        sku,
        sales_day,
        hour_of_day,
        median(share_ratio) over recent_days as median_share_ratio,
        -- Relative variance of one hour's units (1 / units + b), and pi / (2 n) of it for
        -- the median of n of them.
        pi() / (2 * greatest(count(share_ratio) over recent_days, 1))
        * (
            -- exact decimals: the same whatever order threads add the rows in
            1 / greatest(avg(cast(profile_units as decimal(18, 9))) over recent_days, 1e-9)
            + coalesce(dispersion_quadratic, 0.0)
        ) as share_noise_variance
    from hour_shares
    where {{ first_day }} is null
    window recent_days as (
        partition by store_id, sku, hour_of_day
        order by sales_day
        range between interval {{ shape_days }} days preceding
        and interval 1 day preceding
    )
),

shape_targets as (
    -- The hours of the days scored again, when the days before them are kept: a window
    -- would compute every hour it reads (most of an hourly build's predictions).
    select distinct
        store_id,
        sku,
        sales_day,
        hour_of_day,
        dispersion_quadratic
    from hour_shares
    where {{ first_day }} is not null and sales_day >= {{ first_day }}
),

recent_shares_joined as (
    -- The same medians as recent_shares_windowed, of the same rows (the same frame), for
    -- those hours only.
    select
        shape_targets.store_id,
        shape_targets.sku,
        shape_targets.sales_day,
        shape_targets.hour_of_day,
        median(earlier.share_ratio) as median_share_ratio,
        pi() / (2 * greatest(count(earlier.share_ratio), 1))
        * (
            1 / greatest(avg(cast(earlier.profile_units as decimal(18, 9))), 1e-9)
            + coalesce(shape_targets.dispersion_quadratic, 0.0)
        ) as share_noise_variance
    from shape_targets
    {{ mrs_join_earlier_days('shape_targets', 'hour_shares', 'hour_of_day', shape_days) }}
    group by
        shape_targets.store_id,
        shape_targets.sku,
        shape_targets.sales_day,
        shape_targets.hour_of_day,
        shape_targets.dispersion_quadratic
),

recent_shares as (
    select * from recent_shares_windowed
    union all
    select * from recent_shares_joined
),

shape_levels as (
    -- Shrunk towards the profile (1) as far as the median is noise against a drift of
    -- typical size `baseline_shape_drift_sd`: a quiet product's hours cannot tell, a busy
    -- one's can.
    select
        store_id,
        sku,
        sales_day,
        hour_of_day,
        {{ mrs_shrunk_factor(
            route,
            'median_share_ratio',
            shape_drift_variance ~ ' / (' ~ shape_drift_variance ~ ' + share_noise_variance)',
            shape_drift_variance ~ ' * share_noise_variance / ('
            ~ shape_drift_variance ~ ' + share_noise_variance)',
            '0.0',
            'shape_factor',
            'shape_variance'
        ) }}
    from recent_shares
),

kept_weekday_hours as (
    -- The kept days of the scored days' weekdays (as they were computed: every value of a
    -- day depends only on the days before it), for the hour-of-week ratios that look back
    -- at their shape factors and the weekday ratios that look back at their levels.
    select
        kept_hours.store_id,
        kept_hours.sku,
        {{ mrs_sales_day('kept_hours.sales_ts') }} as sales_day,
        {{ mrs_hour_of_week('kept_hours.sales_ts') }} % 24 as hour_of_day,
        kept_hours.profile_units,
        kept_hours.shape_factor,
        kept_hours.shape_variance,
        kept_hours.level_factor
    from {{ kept_token }} as kept_hours
    where
        {{ first_day }} is not null
        -- (the rows are in time order: this skips the other row groups)
        and kept_hours.sales_ts >= {{ dbt.dateadd('day', -(weekday_days + 1), first_day) }}
        and {{ mrs_sales_day('kept_hours.sales_ts') }} < {{ first_day }}
        and {{ mrs_sales_day('kept_hours.sales_ts') }} >= {{ dbt.dateadd(
            'day', -weekday_days, first_day
        ) }}
        and isodow({{ mrs_local_time('kept_hours.sales_ts') }})
        in (select scored_weekdays.weekday from scored_weekdays)
),

kept_shape_levels as (
    select distinct
        store_id,
        sku,
        sales_day,
        hour_of_day,
        shape_factor,
        shape_variance
    from kept_weekday_hours
    where
        profile_units > 0
        and hour_of_day in (select scored_clock_hours.hour_of_day from scored_clock_hours)
),

kept_day_levels as (
    select distinct
        store_id,
        sku,
        sales_day,
        level_factor
    from kept_weekday_hours
),

all_shape_levels as (
    select * from shape_levels
    union all
    select * from kept_shape_levels
),

week_hour_ratios as (
    -- Each detection hour's share of its day against the profile's, beyond what the shape
    -- factor already says of its clock hour: how far the profile's hour of the week is off.
    select
        hour_shares.store_id,
        hour_shares.sku,
        hour_shares.sales_day,
        hour_shares.hour_of_week,
        hour_shares.profile_variance_ratio,
        -- One hour's relative count variance (1 / units + b): the unit both the profile's
        -- error and the median's noise are measured in.
        1 / greatest(hour_shares.profile_units, 1e-9)
        + coalesce(hour_shares.dispersion_quadratic, 0.0) as hour_relative_variance,
        case
            when hour_shares.sales_day >= {{ mrs_sales_day('settings.detection_start') }}
                then hour_shares.share_ratio / nullif(shape_levels.shape_factor, 0)
        end as week_hour_ratio
    from hour_shares
    inner join all_shape_levels as shape_levels
        on
            hour_shares.store_id = shape_levels.store_id
            and hour_shares.sku = shape_levels.sku
            and hour_shares.sales_day = shape_levels.sales_day
            and hour_shares.hour_of_day = shape_levels.hour_of_day
    cross join settings
    -- Only the days scored (from two days before detection_start): the training days have
    -- no ratio here, so leaving them out changes nothing and saves most of the window.
    where
        hour_shares.sales_day
        >= {{ mrs_sales_day(dbt.dateadd('day', -2, 'settings.detection_start')) }}
),

recent_week_hours_windowed as (
    -- The median of the same hour of the week over the previous `baseline_weekday_weeks`
    -- weeks, its noise (pi / 2n of one hour's) and the fit's error of that hour, both in
    -- relative terms. Distinct: the hour a daylight-saving change repeats is one hour. A
    -- window over every hour when every day is scored.
    select distinct
        store_id,
        sku,
        sales_day,
        hour_of_week,
        profile_variance_ratio,
        hour_relative_variance,
        -- One week says nothing yet (an anomaly of that hour would bend the next week);
        -- of two, the one nearer 1 where both lean the same way; of three or more, their
        -- median, which one anomalous week does not move.
        case
            when count(week_hour_ratio) over same_hours >= 3
                then median(week_hour_ratio) over same_hours
            when count(week_hour_ratio) over same_hours = 2
                then case
                        when min(week_hour_ratio) over same_hours > 1
                            then min(week_hour_ratio) over same_hours
                        when max(week_hour_ratio) over same_hours < 1
                            then max(week_hour_ratio) over same_hours
                        else 1.0
                    end
        end as median_week_hour_ratio,
        count(week_hour_ratio) over same_hours as week_hour_days
    from week_hour_ratios
    where {{ first_day }} is null
    window same_hours as (
        partition by store_id, sku, hour_of_week
        order by sales_day
        range between interval {{ weekday_days }} days preceding
        and interval 1 day preceding
    )
),

week_hour_targets as (
    -- The hours of the days scored again, when the days before them are kept.
    select distinct
        store_id,
        sku,
        sales_day,
        hour_of_week,
        profile_variance_ratio,
        hour_relative_variance
    from week_hour_ratios
    where {{ first_day }} is not null and sales_day >= {{ first_day }}
),

recent_week_hours_joined as (
    -- The same as recent_week_hours_windowed, of the same rows, for those hours only.
    select
        week_hour_targets.store_id,
        week_hour_targets.sku,
        week_hour_targets.sales_day,
        week_hour_targets.hour_of_week,
        week_hour_targets.profile_variance_ratio,
        week_hour_targets.hour_relative_variance,
        case
            when count(earlier.week_hour_ratio) >= 3 then median(earlier.week_hour_ratio)
            when count(earlier.week_hour_ratio) = 2
                then case
                        when min(earlier.week_hour_ratio) > 1 then min(earlier.week_hour_ratio)
                        when max(earlier.week_hour_ratio) < 1 then max(earlier.week_hour_ratio)
                        else 1.0
                    end
        end as median_week_hour_ratio,
        count(earlier.week_hour_ratio) as week_hour_days
    from week_hour_targets
    {{ mrs_join_earlier_days(
        'week_hour_targets', 'week_hour_ratios', 'hour_of_week', weekday_days
    ) }}
    group by
        week_hour_targets.store_id,
        week_hour_targets.sku,
        week_hour_targets.sales_day,
        week_hour_targets.hour_of_week,
        week_hour_targets.profile_variance_ratio,
        week_hour_targets.hour_relative_variance
),

recent_week_hours as (
    select * from recent_week_hours_windowed
    union all
    select * from recent_week_hours_joined
),

week_hour_weights as (
    select
        *,
        {{ mrs_shrinkage_weight(
            'coalesce(profile_variance_ratio, 0) * hour_relative_variance',
            'pi() / (2 * greatest(week_hour_days, 1)) * hour_relative_variance',
            'median_week_hour_ratio',
            'week_hour_days >= 3'
        ) }} as week_hour_weight
    from recent_week_hours
),

week_hour_levels as (
    -- The profile's hour of the week corrected by what the detection weeks say; what
    -- remains uncertain about it replaces the fit's error of the hour (as a share of one
    -- hour's count variance, as `profile_variance_ratio` is).
    select
        store_id,
        sku,
        sales_day,
        hour_of_week,
        {{ mrs_shrunk_factor(
            route,
            'median_week_hour_ratio',
            'week_hour_weight',
            'week_hour_weight * pi() / (2 * greatest(week_hour_days, 1))',
            'coalesce(profile_variance_ratio, 0.0)',
            'week_hour_factor',
            'week_hour_variance_ratio'
        ) }}
    from week_hour_weights
),

daily_level as (
    -- The median ratio of the last days, shrunk towards the training level (1) by its
    -- weight; level_variance is what remains uncertain about the level.
    select
        store_id,
        sku,
        sales_day,
        {{ mrs_shrunk_factor(
            route,
            'median_ratio',
            'level_weight',
            'level_weight * ratio_variance',
            drift_variance,
            'level_factor',
            'level_variance'
        ) }}
    from level_weights
),

all_day_levels as (
    -- The levels computed here and, when the days before the first scored are kept, those
    -- kept of the scored days' weekdays: the days the weekday ratios below look back at.
    select
        store_id,
        sku,
        sales_day,
        level_factor
    from daily_level
    union all
    select * from kept_day_levels
),

weekday_ratios as (
    -- Each detection day's ratio to its profile over its own level: how far the profile's
    -- total of its weekday is off. Training days are left out: the profile was fitted on
    -- them.
    select
        daily_ratio.store_id,
        daily_ratio.sku,
        daily_ratio.sales_day,
        daily_ratio.weekday_level_variance,
        daily_ratio.profile_day_units,
        daily_ratio.dispersion_quadratic,
        daily_ratio.day_effective_hours,
        daily_ratio.day_variance,
        case
            when daily_ratio.sales_day >= {{ mrs_sales_day('settings.detection_start') }}
                then daily_ratio.actual_to_profile / nullif(daily_level.level_factor, 0)
        end as weekday_ratio
    from daily_ratio
    inner join all_day_levels as daily_level
        on
            daily_ratio.store_id = daily_level.store_id
            and daily_ratio.sku = daily_level.sku
            and daily_ratio.sales_day = daily_level.sales_day
    cross join settings
),

recent_weekdays as (
    -- The median of the same weekday's ratios over the previous `baseline_weekday_weeks`
    -- weeks, and its noise (pi / 2n of one of those days'). The days' own units, as for the
    -- level: the day scored may be partial (an hourly build sees part of it), and what is
    -- known of it must not move the factor its earlier hours were scored with.
    select
        store_id,
        sku,
        sales_day,
        weekday_level_variance,
        median(weekday_ratio) over same_weekdays as median_weekday_ratio,
        count(weekday_ratio) over same_weekdays as weekday_days,
        pi() / (2 * greatest(count(weekday_ratio) over same_weekdays, 1))
        * {{ mrs_day_noise_variance(
            'coalesce(avg(cast(profile_day_units as decimal(18, 9))) over same_weekdays, '
            ~ 'profile_day_units)',
            'dispersion_quadratic', 'day_effective_hours', 'day_variance'
        ) }} as weekday_noise_variance
    from weekday_ratios
    window same_weekdays as (
        partition by store_id, sku, dayofweek(sales_day)
        order by sales_day
        range between interval {{ 7 * (var('baseline_weekday_weeks') | int) }} days preceding
        and interval 1 day preceding
    )
),

weekday_weights as (
    -- How much of the median's distance from 1 is kept: as far as the fit's own error of the
    -- weekday's total (`weekday_level_variance`) outweighs the median's noise (a profile
    -- from two training weeks learns its weekdays from the next ones, one from twelve
    -- hardly moves) and, once three or more days agree (their median resists one anomalous
    -- day), all of a distance their noise cannot explain: a holiday inside two training
    -- weeks bends a weekday far beyond what the fit knows of.
    select
        *,
        {{ mrs_shrinkage_weight(
            'weekday_level_variance',
            'weekday_noise_variance',
            'median_weekday_ratio',
            'weekday_days >= 3'
        ) }} as weekday_weight
    from recent_weekdays
),

weekday_levels as (
    -- The profile's weekday total corrected by what the detection weeks say; what remains
    -- uncertain about it replaces the fit's error.
    select
        store_id,
        sku,
        sales_day,
        {{ mrs_shrunk_factor(
            route,
            'median_weekday_ratio',
            'weekday_weight',
            'weekday_weight * weekday_noise_variance',
            'coalesce(weekday_level_variance, 0)',
            'weekday_factor',
            'weekday_variance'
        ) }}
    from weekday_weights
),

predicted as (
    select
        profiled.store_id,
        profiled.sku,
        profiled.sales_ts,
        coalesce(profiled.units, 0) as actual_units,
        profiled.profile_units,
        daily_level.level_factor,
        coalesce(shape_levels.shape_factor, 1.0) as shape_factor,
        weekday_levels.weekday_factor,
        coalesce(week_hour_levels.week_hour_factor, 1.0) as week_hour_factor,
        -- Nothing expected of an hour the feed missed: like a closed hour, it is no trading
        -- hour and adds nothing to a report's totals.
        case when profiled.is_feed_gap then 0 else profiled.profile_units end
        * daily_level.level_factor
        * coalesce(shape_levels.shape_factor, 1.0)
        * weekday_levels.weekday_factor
        * coalesce(week_hour_levels.week_hour_factor, 1.0) as expected_units,
        daily_level.level_variance,
        coalesce(shape_levels.shape_variance, 0.0) as shape_variance,
        weekday_levels.weekday_variance,
        profiled.training_days,
        profiled.training_coverage,
        profiled.dispersion_linear,
        profiled.dispersion_quadratic,
        coalesce(
            week_hour_levels.week_hour_variance_ratio, profiled.profile_variance_ratio
        ) as profile_variance_ratio,
        profiled.day_variance,
        profiled.weekday_level_variance,
        -- What every hour of the day shares, relative to its mean: the day factor, the error
        -- of its weekday's total in the profile and the level's.
        -- (the mock's spread is Poisson; its day inflation keeps the fit's error)
        profiled.day_variance
        + case
            when {{ is_real }} then weekday_levels.weekday_variance
            else profiled.weekday_level_variance
        end
        + daily_level.level_variance as shared_variance,
        profiled.day_trading_hours,
        profiled.upper_scale,
        profiled.lower_scale,
        profiled.within_day_correlation,
        profiled.hour_persistence,
        profiled.model_version
    from predicted_hours as profiled
    inner join daily_level
        on
            profiled.store_id = daily_level.store_id
            and profiled.sku = daily_level.sku
            and profiled.sales_day = daily_level.sales_day
    inner join weekday_levels
        on
            profiled.store_id = weekday_levels.store_id
            and profiled.sku = weekday_levels.sku
            and profiled.sales_day = weekday_levels.sales_day
    left join all_shape_levels as shape_levels
        on
            profiled.store_id = shape_levels.store_id
            and profiled.sku = shape_levels.sku
            and profiled.sales_day = shape_levels.sales_day
            and profiled.hour_of_day = shape_levels.hour_of_day
    left join week_hour_levels
        on
            profiled.store_id = week_hour_levels.store_id
            and profiled.sku = week_hour_levels.sku
            and profiled.sales_day = week_hour_levels.sales_day
            and profiled.hour_of_week = week_hour_levels.hour_of_week
),

spread as (
    select
        *,
        case
            when {{ is_real }}
                then
                    {{ mrs_count_variance('expected_units', 'dispersion_quadratic') }}
                    -- plus the uncertainty of the profile's hour, and what the hours of a
                    -- day share
                    * (1 + coalesce(profile_variance_ratio, 0.0))
                    + pow(expected_units, 2) * (shared_variance + shape_variance)
            -- the mock's spread is Poisson
            else expected_units
        end
        + pow({{ var('baseline_min_spread_units') }}, 2) as variance_units
    from predicted
),

scored as (
    select
        *,
        sqrt(variance_units) as spread_units,
        actual_units - expected_units as residual_units,
        {{ mrs_count_z(
            'actual_units', 'expected_units', 'variance_units', 'dispersion_quadratic'
        ) }} as stabilised_z,
        -- A closed hour (nothing expected, nothing sold) says nothing either way.
        expected_units > 0 or actual_units > 0 as is_trading_hour
    from spread
),

correlated as (
    -- What two hours of one day share, over this hour's variance: the day factor, the
    -- level's error (one level serves the whole day) and the error of the weekday's daily
    -- total in the profile (the same for every hour of that weekday), the correlation rho
    -- of two hours.
    select
        *,
        least(
            shared_variance * pow(expected_units, 2) / variance_units,
            1.0
        ) as day_correlation
    from scored
),

scale_hours as (
    -- Every scored hour with its day, and whether it says how widely the series' scores
    -- vary: trading hours within |z| <= 2.5. Hours beyond it would widen the scale they are
    -- judged by, and at 3 the milder hours of anomalies did (the demo's narrative series
    -- measured 1.4 against 1.07 for the others, and one of its power-cut reports was lost).
    select
        scored.*,
        {{ mrs_sales_day('scored.sales_ts') }} as sales_day,
        scored.is_trading_hour
        and scored.sales_ts >= settings.detection_start
        and abs(scored.stabilised_z) <= 2.5 as is_scale_hour,
        cast(pow(scored.stabilised_z, 2) as decimal(24, 9)) as squared_score
    from correlated as scored
    cross join settings
),

score_days as (
    -- Each scored day's such hours and their squares, exact decimals (the same whatever
    -- order threads add them in); none before detection_start.
    select
        store_id,
        sku,
        sales_day,
        count(*) filter (where is_scale_hour) as scored_hours,
        coalesce(sum(squared_score) filter (where is_scale_hour), 0) as squared_scores
    from scale_hours
    group by store_id, sku, sales_day
    union all
    -- and the kept days' that the scale of the days scored again looks back at
    select
        kept_hours.store_id,
        kept_hours.sku,
        {{ mrs_sales_day('kept_hours.sales_ts') }} as sales_day,
        count(kept_hours.scale_squared_score) as scored_hours,
        coalesce(sum(kept_hours.scale_squared_score), 0) as squared_scores
    from {{ kept_token }} as kept_hours
    where
        {{ first_day }} is not null
        and kept_hours.sales_ts >= {{ dbt.dateadd('day', -(scale_days + 1), first_day) }}
        and {{ mrs_sales_day('kept_hours.sales_ts') }} < {{ first_day }}
        and {{ mrs_sales_day('kept_hours.sales_ts') }}
        >= {{ dbt.dateadd('day', -scale_days, first_day) }}
    group by all
),

score_variances as (
    -- How widely each series' scores have varied over the previous
    -- `baseline_score_scale_days` detection days: the mean square of those hours against
    -- the 0.9112 of a standard normal within |z| <= 2.5, and how many hours say so. Past
    -- days only, so every tick computes the same.
    select
        store_id,
        sku,
        sales_day,
        sum(scored_hours) over recent_days as recent_hours,
        cast(
            cast(sum(squared_scores) over recent_days as double)
            / nullif(sum(scored_hours) over recent_days, 0) / 0.9112 as decimal(18, 9)
        ) as score_variance
    from score_days
    window recent_days as (
        partition by store_id, sku
        order by sales_day
        range between interval {{ scale_days }} days preceding and interval 1 day preceding
    )
),

score_variance_partials as (
    -- Each day's sums that tau^2 is computed from, over the series with scored hours so far:
    -- additive (exact decimals), so a sharded build adds up every shard's (its scale pass).
    select
        sales_day,
        sum((score_variance - 1) * (score_variance - 1)) as squared_deviations,
        sum(cast(2.0 / recent_hours as decimal(18, 9))) as noise_variances,
        count(*) as scored_series
    from score_variances
    where recent_hours > 0
    group by sales_day
),

score_variance_spreads as (
    -- tau^2: how far the series' score variances sit from 1 beyond their noise (about
    -- 2 / hours for a variance from that many normal hours), measured across the series each day
    -- (method of moments, exact decimals): where the fit knows its spread (four training
    -- weeks, say) the scores' own variances are mostly noise and the model's spread
    -- stands; where it does not (two training weeks: the variance of a busy series' quiet
    -- scores 0.5 to 1.6) they are taken. Over every store's series, in a sharded build too.
    select
        sales_day,
        greatest(
            cast(
                sum(squared_deviations) / cast(sum(scored_series) as bigint)
                - sum(noise_variances) / cast(sum(scored_series) as bigint)
                as double
            ),
            0.0
        ) as scale_spread
    from {{ mrs_score_partials('score_variance_partials') }}
    group by sales_day
),

score_scales as (
    -- The series' score scale: its variance moved from 1 by empirical Bayes
    -- (tau^2 / (tau^2 + 2 / hours)), and only ever widening the model's spread: a series
    -- scored too narrowly raises a false report every few days, one scored too widely
    -- loses a little power, and narrowing it by the same estimate raised false reports
    -- where neighbouring hours share a weather (their sums vary more than their hours).
    select
        score_variances.store_id,
        score_variances.sku,
        score_variances.sales_day,
        case
            when {{ is_real }} and {{ var('baseline_score_scale_days') | int }} > 0
                then greatest(
                        coalesce(
                            1 + (cast(score_variances.score_variance as double) - 1)
                            * score_variance_spreads.scale_spread
                            / nullif(
                                score_variance_spreads.scale_spread
                                + 2.0 / score_variances.recent_hours,
                                0
                            ),
                            1.0
                        ),
                        1.0
                    )
            else cast(1.0 as double)
        end as score_scale
    from score_variances
    left join score_variance_spreads
        on score_variances.sales_day = score_variance_spreads.sales_day
),

scaled as (
    select
        scale_hours.*,
        coalesce(score_scales.score_scale, 1.0) as score_scale
    from scale_hours
    left join score_scales
        on
            scale_hours.store_id = score_scales.store_id
            and scale_hours.sku = score_scales.sku
            and scale_hours.sales_day = score_scales.sales_day
),

calibrated as (
    -- Each side of the score in the series' own measured scale (skewed noise has one
    -- long tail that a symmetric score would mistake for anomalies), and how much a sum of
    -- neighbouring hours' scores varies beyond independent hours: a sum of L hours of one
    -- day has variance L (1 + (L - 1) rho). The score and the variance in the series'
    -- scale learnt from its detection days (score_scale).
    select
        * exclude (
            stabilised_z, day_correlation, weekday_level_variance, shared_variance,
            variance_units, spread_units, sales_day, is_scale_hour, squared_score
        ),
        variance_units * score_scale as variance_units,
        spread_units * sqrt(score_scale) as spread_units,
        stabilised_z / sqrt(score_scale)
        / case when stabilised_z > 0 then upper_scale else lower_scale end as residual_z,
        1 + greatest(day_trading_hours - 1, 0) * day_correlation as day_inflation,
        -- what the hour adds to the score scale of the days after it (kept for them)
        case when is_scale_hour then squared_score end as scale_squared_score
    from scaled
),

fit_digest as (
    -- The code as rendered and the day totals' digest (which holds the fit's fingerprint):
    -- rows scored with another are scored again.
    select ({{ mrs_prediction_digest(code_digest_token) }}) as digest
),

kept_from as (
    select
        calibrated.*,
        input_hours.input_day_digest,
        fit_digest.digest as prediction_digest,
        {{ mrs_prediction_row_digest('calibrated') }} as scan_row_digest
    from calibrated
    inner join input_hours on calibrated.sales_ts = input_hours.sales_ts
    cross join fit_digest
    where
        {{ first_day }} is null
        or {{ mrs_sales_day('calibrated.sales_ts') }} >= {{ first_day }}
)

{%- endset %}
{%- set code_digest = mrs_code_digest(prediction_ctes) %}
{%- set kept = mrs_kept_predictions(score_pass) %}
{%- if mrs_shard_count() > 1 and score_pass != 'plan' %}
    {%- set scored_from = mrs_every_shard_first_scored_day() %}
{%- else %}
    {%- set scored_from = mrs_first_scored_day(code_digest, kept) %}
{%- endif %}
{%- set scored_from_hour = mrs_first_scored_hour(scored_from, kept) %}
{%- set kept_rows = kept if kept is not none else mrs_no_kept_predictions() %}
{%- set prediction_ctes = prediction_ctes | replace(first_day, scored_from)
    | replace(first_hour, scored_from_hour)
    | replace(kept_token, kept_rows) | replace(code_digest_token, code_digest) %}

{%- if score_pass == 'plan' %}

    select {{ scored_from }} as first_scored_day

{%- elif score_pass == 'scale' %}

    {{ prediction_ctes }}

    select * from score_variance_partials
    where {{ scored_from }} is null or sales_day >= {{ scored_from }}

{%- else %}

    {{ prediction_ctes }}

    -- Stored in time order (later builds append theirs), so the reads of a range of days (the
    -- predictions' context, the fit's training rows, the scan's days) skip the other row
    -- groups. With the first hour scored within a kept day, one row (no store) that the
    -- incremental strategy never inserts: it removes the kept rows from that hour on, and
    -- never more, whatever the build scored.
    select * from kept_from
    union all by name -- noqa: AM07
    select {{ scored_from_hour }} as sales_ts
    where {{ scored_from_hour }} is not null
    order by sales_ts

{%- endif %}
