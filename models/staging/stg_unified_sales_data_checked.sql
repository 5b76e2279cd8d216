{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ mrs_unstage_changed_days(ref('stg_unified_sales_data_day_digests')) }}",
) }}
{#-
  Staged day by day (macros/inputs/sales_days.sql): the pre-hook removes the days whose
  digest changed, this model appends the rows of every day it does not hold, typed and
  checked; an hourly build checks the new day's rows only (it parses only the rows between
  that day's first and last row of the file), and a restated day is checked again with its
  digest.
-#}
{%- set day_digests = ref('stg_unified_sales_data_day_digests') %}
{%- set to_check = mrs_sales_days_to_check(day_digests) %}

with

raw_sales as (
    {{ mrs_read_input('unified_sales_data') }}
),

current_days as (
    select * from {{ day_digests }}
),

known_stores as (
    select store_id from {{ ref('stg_stores') }}
),

known_products as (
    select sku from {{ ref('stg_products') }}
),

{{ mrs_sales_row_checks(to_check['days'], to_check['row_ranges']) }},

staged as (
    select
        checked.*,
        current_days.day_digest
    from checked
    inner join current_days
        on checked.sales_day_key is not distinct from current_days.sales_day_key
)

select * from staged
