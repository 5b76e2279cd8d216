-- The training days a holiday of the contextual data covers (event_type 'holiday'; its scope
-- columns, null = all, name the stores and products): the real baseline leaves them out of its
-- training, as it does a confirmed anomaly's days. A holiday every store shares is what the
-- fit's own rule for disturbed days cannot find in two training weeks (it compares a day with
-- its store's, and the store moved with it). A day is covered when the holiday holds at least
-- half of it on the stores' calendar. A day stays in (is_left_out false) when leaving it out
-- would leave its store without a day of that weekday in the training (two training weeks,
-- Christmas and New Year on one weekday): the fit keeps such days for their intraday shape
-- and sizes their weekday from the series' other weekdays. A product's own holidays count
-- with its store's: a store-wide holiday and one of the product's on the other same weekday
-- leave the product's day in.
with

plan as (
    select * from {{ ref('baseline_training_plan') }}
),

context as (
    select * from {{ ref('stg_contextual_data') }}
),

stores as (
    select * from {{ ref('stg_stores') }}
),

holidays as (
    select
        context.store_id,
        context.retailer,
        context.region,
        context.city,
        context.sku,
        {{ mrs_local_time('context.start_ts') }} as local_start,
        {{ mrs_local_time('context.end_ts') }} as local_end
    from context
    where context.event_type = 'holiday'
),

training_days as (
    -- The training window's days on the stores' calendar.
    select
        cast(training_day as date) as training_day,
        isodow(training_day) as day_of_week
    from plan,
        unnest(generate_series(
            cast({{ mrs_sales_day('plan.training_start') }} as timestamp),
            cast({{ mrs_sales_day("plan.training_end - interval 1 second") }} as timestamp),
            interval 1 day
        )) as window_days (training_day)
),

covered_days as (
    -- Each store, product scope (null = every product) and training day a holiday holds at
    -- least twelve hours of.
    select distinct
        stores.store_id,
        holidays.sku,
        training_days.training_day as holiday_day,
        training_days.day_of_week
    from holidays
    inner join stores
        on {{ mrs_in_scope('holidays', 'stores') }}
    inner join training_days
        on
            holidays.local_start < training_days.training_day + interval 1 day
            and holidays.local_end > cast(training_days.training_day as timestamp)
    where
        date_diff(
            'minute',
            greatest(holidays.local_start, cast(training_days.training_day as timestamp)),
            least(holidays.local_end, training_days.training_day + interval 1 day)
        ) >= 12 * 60
),

weekday_days as (
    select
        day_of_week,
        count(*) as training_days
    from training_days
    group by day_of_week
),

counted as (
    -- How many of its weekday's training days each scope's holiday day is one of: its own,
    -- and for one product its store's too (the fit's rule: a day is out for a series when a
    -- holiday of its store, or of it, leaves it out).
    select
        covered_days.store_id,
        covered_days.sku,
        covered_days.holiday_day,
        weekday_days.training_days,
        count(distinct scope_days.holiday_day) as holiday_days
    from covered_days
    inner join covered_days as scope_days
        on
            covered_days.store_id = scope_days.store_id
            and covered_days.day_of_week = scope_days.day_of_week
            and (scope_days.sku is null or covered_days.sku = scope_days.sku)
    inner join weekday_days on covered_days.day_of_week = weekday_days.day_of_week
    group by
        covered_days.store_id,
        covered_days.sku,
        covered_days.holiday_day,
        weekday_days.training_days
)

select
    store_id,
    sku,
    holiday_day,
    holiday_days < training_days as is_left_out
from counted
