{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ mrs_unstage_changed_days(ref('stg_unified_sales_data_day_digests')) }}",
) }}
{#-
  Staged hour by hour (macros/inputs/sales_days.sql): the pre-hook removes the hours whose
  digest (their day's up to them) changed, this model appends the rows of every hour it does
  not hold, typed and checked; an hourly build checks its new hour's rows only (it parses only
  the rows between that hour's first and last row of the file), and a restated hour is
  checked again with the hours of its day after it.
-#}
{%- set day_digests = ref('stg_unified_sales_data_day_digests') %}
{%- set to_check = mrs_sales_days_to_check(day_digests) %}

with

raw_sales as (
    {{ mrs_read_input('unified_sales_data') }}
),

known_stores as (
    select store_id from {{ ref('stg_stores') }}
),

known_products as (
    select sku from {{ ref('stg_products') }}
),

current_hours as (
    {{ mrs_sales_hour_digests(day_digests) }}
),

{{ mrs_sales_row_checks(to_check['hours'], to_check['row_ranges']) }},

staged as (
    -- Each row with its day's digest up to its hour, which it is kept by (an hour is of one
    -- day; the rows whose time does not parse have the hour null).
    select
        checked.*,
        current_hours.hour_digest
    from checked
    inner join current_hours
        on date_trunc('hour', checked.sales_ts) is not distinct from current_hours.sales_hour
)

select * from staged
