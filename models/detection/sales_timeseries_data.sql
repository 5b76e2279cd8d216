-- The hourly sales series the models read: one row per store x sku x hour from the start of
-- training (or the series' first sale, if later) up to the last hour before as_of. Hours the
-- feed did not report are zero sales; `is_reported` says which hours the feed held, and
-- `is_feed_gap` the hours of which no sales are known, not zero sales: those the feed as a
-- whole missed (`sales_feed_hours`), and those after a store's latest row while it trails
-- the feed by at most `sales_store_late_hours` where it usually sells (its rows come late).
-- Kept from build to build: filled again from the first day whose inputs changed
-- (macros/detection/scored_days.sql, mrs_first_series_day).
{{ config(
    materialized='incremental',
    incremental_strategy='replace_from_first_hour',
    on_schema_change='fail',
) }}
{#- Stand for the first filled day and the kept rows in the SQL below, whose text is
    digested without them. -#}
{%- set first_day = '__mrs_first_series_day__' %}
{%- set kept_token = '__mrs_kept_series_hours__' %}
{%- set late_hours = var('sales_store_late_hours') | int %}
{%- set reference_weeks = var('sales_gap_reference_weeks') | int %}
{%- set series_sql -%}
with

settings as (
    select * from {{ ref('run_settings') }}
),

window_sales as not materialized (
    -- The accepted sales of the series' window. Not materialized: each read below keeps its
    -- own bound on the days, which the scan then applies to the row groups.
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

context_sales as (
    -- The sales a build that keeps days reads besides those of the days it fills: the
    -- reference weeks before its first filled day, what its late stores' hours are judged
    -- against (the first filled day is at most the day `sales_store_late_hours` before
    -- as_of). A constant bound, so the scan skips the earlier row groups.
    select * from window_sales
    where
        {{ first_day }} is null
        or sales_ts >= {{ first_day }} - to_days({{ 7 * reference_weeks + 1 }})
),

filled_sales as (
    -- The sales of the days filled.
    select * from window_sales
    where {{ first_day }} is null or sales_ts >= {{ first_day }}
),

kept_series as (
    -- The series the kept hours hold on the day before the first filled day: every series
    -- whose first sale came before it (a series has a row every hour from its first sale).
    select
        store_id,
        sku,
        min(sales_ts) as first_sales_ts
    from {{ kept_token }}
    where
        {{ first_day }} is not null
        and sales_ts >= {{ first_day }} - to_days(1)
        and sales_ts < {{ first_day }}
    group by store_id, sku
),

series as (
    -- Each series' first sale (for a kept series one before the first filled day: it is only
    -- compared with the hours filled; a series not kept sold first on a filled day) and its
    -- last (compared with as_of only, and the first filled day is before the day
    -- `sales_store_late_hours` before it).
    select
        store_id,
        sku,
        min(first_sales_ts) as first_sales_ts,
        max(last_sales_ts) as last_sales_ts
    from (
        select
            store_id,
            sku,
            min(sales_ts) as first_sales_ts,
            max(sales_ts) as last_sales_ts
        from filled_sales
        group by store_id, sku
        union all
        select
            store_id,
            sku,
            first_sales_ts,
            cast(null as timestamp) as last_sales_ts
        from kept_series
    ) as first_and_last_sales
    group by store_id, sku
),

feed_hours as (
    -- The hours filled at this build: from the first day whose inputs changed.
    select * from {{ ref('sales_feed_hours') }}
    where {{ first_day }} is null or sales_ts >= {{ first_day }}
),

late_stores as (
    -- Stores whose latest row trails the feed's latest hour by at most
    -- `sales_store_late_hours`. (Zero-filled, a store whose rows came eight hours late was a
    -- drop on every one of its busy series.)
    select
        series.store_id,
        max(series.last_sales_ts) as last_sales_ts
    from series
    cross join settings
    group by series.store_id, settings.as_of
    having
        max(series.last_sales_ts)
        >= settings.as_of - to_hours({{ late_hours + 1 }})
),

reference_hours as (
    -- Each hour after a late store's latest row, and the same hour of the week in each of
    -- the previous `sales_gap_reference_weeks` weeks.
    select
        late_stores.store_id,
        feed_hours.sales_ts,
        feed_hours.sales_ts - to_days(7 * reference_weeks.week) as reference_ts
    from late_stores
    inner join feed_hours on late_stores.last_sales_ts < feed_hours.sales_ts
    cross join
        range(1, {{ var('sales_gap_reference_weeks') | int }} + 1) as reference_weeks (week)
),

reference_units as (
    -- What the store sold in each of those hours.
    select
        reference_hours.store_id,
        reference_hours.sales_ts,
        coalesce(sum(sales.units), 0) as units
    from reference_hours
    left join context_sales as sales
        on
            reference_hours.store_id = sales.store_id
            and reference_hours.reference_ts = sales.sales_ts
    group by reference_hours.store_id, reference_hours.sales_ts, reference_hours.reference_ts
),

late_store_hours as (
    -- The hours a late store usually sells `sales_gap_min_units` or more (the median of
    -- those weeks): its rows have not come yet. Where it usually sells less, no row may be
    -- no sale (a feed that lists only the hours that sold).
    select
        store_id,
        sales_ts
    from reference_units
    group by store_id, sales_ts
    having median(units) >= {{ var('sales_gap_min_units') }}
),

grid as (
    select
        series.store_id,
        series.sku,
        feed_hours.sales_ts,
        feed_hours.is_feed_gap or late_store_hours.store_id is not null as is_feed_gap
    from series
    inner join feed_hours on series.first_sales_ts <= feed_hours.sales_ts
    left join late_store_hours
        on
            series.store_id = late_store_hours.store_id
            and feed_hours.sales_ts = late_store_hours.sales_ts
),

filled as (
    select
        grid.store_id,
        grid.sku,
        grid.sales_ts,
        coalesce(sales.units, 0) as units,
        sales.units is not null as is_reported,
        grid.is_feed_gap
    from grid
    left join filled_sales as sales
        on
            grid.store_id = sales.store_id
            and grid.sku = sales.sku
            and grid.sales_ts = sales.sales_ts
),

input_days as (
    -- What each UTC day was filled from (mrs_first_series_day compares it).
    {{ mrs_series_input_days() }}
),

kept_from as (
    select
        filled.*,
        input_days.input_day_digest,
        hash('__mrs_code_digest__', settings.training_start) as series_digest
    from filled
    left join input_days on cast(filled.sales_ts as date) = input_days.sales_day
    cross join settings
)

-- Stored in time order (later builds append theirs), so the reads of a range of days (the
-- predictions' context, the fit's training rows, the scan's days) skip the other row groups.
select * from kept_from
order by sales_ts
{%- endset %}
{%- set code_digest = mrs_code_digest(series_sql) %}
{%- set filled_from = mrs_first_series_day(code_digest) %}

{%- if is_incremental() %}
    {%- set kept_rows = this %}
{%- else %}
    {%- set kept_rows = '(select cast(null as varchar) as store_id, cast(null as varchar) as sku, '
        ~ 'cast(null as timestamp) as sales_ts where false)' %}
{%- endif %}

{{ series_sql | replace(first_day, filled_from) | replace(kept_token, kept_rows)
    | replace('__mrs_code_digest__', code_digest) }}
