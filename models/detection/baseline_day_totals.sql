{#-
  Each series' sales day against its fitted profile: the units sold over the profile's units
  of the hours whose sales are known, with what the fit says of that weekday's noise. The
  baseline's level and weekday factors (baseline_sales_predictions) read these for the days
  before the ones they score: kept here from build to build, a one-tick build adds up the
  hours of its new day, not of its whole context again (at 20 M rows that sum was 12 of the
  one-tick predictions' 27 s).
  Kept like the predictions: a build adds up again from the first day whose hours of
  sales_timeseries_data changed (compared from two days before detection_start: a training
  day changes the fit's fingerprint), at the latest the last day kept, and every day when
  the code, a var or the fit changed (`totals_digest`).
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_from_first_day',
    on_schema_change='fail',
) }}
-- depends_on: {{ ref('run_settings') }} (the first day it adds up is compared from detection_start)
{#- Stand for the first day added up, the code's digest and whether a boundary row is added
    in the SQL below, whose text is digested without them. -#}
{%- set first_day = '__mrs_first_totals_day__' %}
{%- set code_digest_token = '__mrs_code_digest__' %}
{%- set boundary_token = '__mrs_boundary_row__' %}
{%- set totals_sql -%}
with

series_hours as (
    -- From the UTC day before the first day: whole days in the stores' time.
    select * from {{ ref('sales_timeseries_data') }}
    where
        {{ first_day }} is null
        or sales_ts >= {{ dbt.dateadd('day', -1, first_day) }}
),

input_days as (
    -- What each sales day was added up from (mrs_first_totals_day compares it).
    {{ mrs_day_digests('series_hours', mrs_series_day_digest) }}
),

profiled_hours as (
    select
        series_hours.store_id,
        series_hours.sku,
        {{ mrs_sales_day('series_hours.sales_ts') }} as sales_day,
        -- No sales are known for an hour the feed missed: neither its units nor its profile
        -- count in the day's ratio.
        case when not series_hours.is_feed_gap then series_hours.units end as units,
        fit.profile_units,
        fit.day_variance,
        fit.dispersion_quadratic,
        fit.day_effective_hours,
        fit.weekday_level_variance
    from series_hours
    {{ mrs_join_profile_hour('series_hours') }}
),

day_totals as (
    select
        store_id,
        sku,
        sales_day,
        any_value(day_variance) as day_variance,
        any_value(dispersion_quadratic) as dispersion_quadratic,
        any_value(day_effective_hours) as day_effective_hours,
        any_value(weekday_level_variance) as weekday_level_variance,
        -- Exact decimal sums: independent of the order parallel threads add rows up (64-bit
        -- decimals: an hour's profile is far below 1e9 units, the contract's units at most 1e6).
        cast(sum(cast(profile_units as decimal(18, 9))) as double) as profile_day_units,
        sum(units)
        / nullif(cast(sum(cast(profile_units as decimal(18, 9))) filter (
            where units is not null
        ) as double), 0) as actual_to_profile
    from profiled_hours
    where {{ first_day }} is null or sales_day >= {{ first_day }}
    group by store_id, sku, sales_day
),

totals_digest as (
    -- The code as rendered and the fit's fingerprint: days added up with another are added
    -- up again.
    select ({{ mrs_totals_digest(code_digest_token) }}) as digest
),

added_up as (
    select
        day_totals.*,
        input_days.input_day_digest,
        totals_digest.digest as totals_digest
    from day_totals
    inner join input_days on day_totals.sales_day = input_days.sales_day
    cross join totals_digest
    -- The first day added up, for the incremental strategy: one row it never inserts, so the
    -- kept days from it are replaced even when no day has a row (none on a first or
    -- full-refresh build, which inserts every row).
    union all
    {{ mrs_boundary_row([
        'store_id', 'sku', 'sales_day', 'day_variance', 'dispersion_quadratic',
        'day_effective_hours', 'weekday_level_variance', 'profile_day_units',
        'actual_to_profile', 'input_day_digest', 'totals_digest',
    ], "coalesce(" ~ first_day ~ ", cast('-infinity' as date))") }}
    where {{ boundary_token }}
)

-- In day order (later builds append theirs), so a read of the last days skips the others.
select * from added_up
order by sales_day
{%- endset %}
{%- set code_digest = mrs_code_digest(totals_sql) %}
{%- set added_from = mrs_first_totals_day(code_digest) %}

{{ totals_sql | replace(first_day, added_from) | replace(code_digest_token, code_digest)
    | replace(boundary_token, 'true' if is_incremental() else 'false') }}
