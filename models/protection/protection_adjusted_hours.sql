{#-
  Sales for the MMM and MAB with anomalous uplift removed (DESIGN.md section 8): per store x
  sku x hour from detection_start, adjusted = actual - removed uplift, where an hour inside a
  protected report's window whose cause is not paid media loses its units above the
  baseline. Drops are left as they are (no sales are invented). protection_adjusted_sales,
  the public model, is these rows without their day.
  Kept from build to build (issue 18): only the UTC days from the first one whose rows would
  differ from the kept ones are computed and written. A day's rows follow from its hours'
  actual and expected units, the removals that fall on it and this model's code, so
  mrs_first_changed_adjusted_day compares those (narrow digests per day) with what the kept
  rows hold, instead of computing every hour to compare it.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_from_first_day',
    on_schema_change='fail',
) }}
{%- set public_columns = mrs_adjusted_sales_columns() %}

{#- Stand for the first day written, whether a boundary row is added and the code's digest,
    in the SQL below (the digested text is the same in every build). -#}
{%- set first_day = '__mrs_first_written_day__' %}
{%- set boundary_token = '__mrs_boundary_row__' %}
{%- set code_digest_token = '__mrs_adjusted_digest__' %}

{%- set adjusted_sql -%}
with

settings as (
    select * from {{ ref('run_settings') }}
),

predictions as (
    select * from {{ ref('baseline_sales_predictions') }}
),

protected as (
    select * from {{ ref('protected_reports') }}
),

hours as (
    -- (the predictions are stored in time order: the days before the first written are
    -- skipped, not read)
    select predictions.*
    from predictions
    cross join settings
    where
        predictions.sales_ts >= settings.detection_start
        and ({{ first_day }} is null or predictions.sales_ts >= {{ first_day }})
),

removals as (
    select
        hours.store_id,
        hours.sku,
        hours.sales_ts,
        protected.report_id,
        protected.final_cause_category,
        greatest(hours.actual_units - hours.expected_units, 0) as removed_uplift_units
    from hours
    inner join protected
        on
            hours.store_id = protected.store_id
            and hours.sku = protected.sku
            and hours.sales_ts >= protected.window_start
            and hours.sales_ts < protected.protected_until
    where protected.removes_uplift
    -- Reports of one series never overlap in time, but keep one removal per hour anyway.
    qualify row_number() over (
            partition by hours.store_id, hours.sku, hours.sales_ts order by protected.report_id
        ) = 1
),

adjusted as (
    select
        hours.store_id,
        hours.sku,
        hours.sales_ts,
        hours.actual_units,
        hours.expected_units,
        coalesce(removals.removed_uplift_units, 0) as removed_uplift_units,
        hours.actual_units - coalesce(removals.removed_uplift_units, 0) as adjusted_units,
        removals.report_id as removed_by_report_id,
        removals.final_cause_category as removed_cause_category
    from hours
    left join removals
        on
            hours.store_id = removals.store_id
            and hours.sku = removals.sku
            and hours.sales_ts = removals.sales_ts
),

adjusted_days as (
    -- Each day's rows carry one digest of all of them, as published: the publication finds
    -- the days to copy again by these (a few per build), not by hashing every kept row.
    select
        *,
        cast(sales_ts as date) as sales_day,
        '{{ code_digest_token }}' as adjusted_digest,
        sum(hash({{ public_columns | join(', ') }})) over (partition by cast(sales_ts as date))
            as day_digest
    from adjusted
),

boundary_rows as (
    -- The first day written, for the incremental strategy: one row it never inserts (none on
    -- a first or full-refresh build, which inserts every row).
    {{ mrs_boundary_row(public_columns + ['sales_day', 'adjusted_digest', 'day_digest'], first_day) }}
    where {{ boundary_token }}
)

select * from adjusted_days
where {{ first_day }} is null or sales_day >= {{ first_day }}
union all
select * from boundary_rows
{%- endset %}

{%- set code_digest = mrs_code_digest(adjusted_sql) %}

{#- The first day whose inputs differ from what the kept rows were computed from (read by the
    model's CTEs, every hour). #}
{%- set final_select = '\n\nselect * from adjusted_days' %}
{%- if final_select not in adjusted_sql %}
    {{ exceptions.raise_compiler_error(
        "protection_adjusted_hours: its final select must start with `select * from "
        ~ "adjusted_days` after a blank line (the comparison reads the CTEs before it)") }}
{%- endif %}
{%- set adjusted_ctes = adjusted_sql.split(final_select)[0] %}
{%- set written_from = mrs_first_changed_adjusted_day(
    adjusted_ctes | replace(first_day, 'cast(null as date)') | replace(boundary_token, 'false'),
    code_digest) %}

{{ adjusted_sql | replace(first_day, written_from)
    | replace(boundary_token, 'true' if is_incremental() else 'false')
    | replace(code_digest_token, code_digest) }}
