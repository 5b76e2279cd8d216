{#-
  Sales for the MMM and MAB with anomalous uplift removed (DESIGN.md section 8): per store x
  sku x hour from detection_start, adjusted = actual - removed uplift, where an hour inside a
  protected report's window whose cause is not paid media loses its units above the
  baseline. Drops are left as they are (no sales are invented). protection_adjusted_sales,
  the public model, is these rows without their day.
  Kept from build to build (issue 18): only the UTC days from the first one whose rows would
  differ from the kept ones are computed and written. A day's rows follow from its hours'
  prediction rows, the removals that fall on it and this model's code, so
  mrs_first_changed_adjusted_day compares those (per day: the xor of the prediction rows'
  stored hashes, kept as `prediction_row_digest`) with what the kept rows hold, instead of
  computing every hour to compare it.
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

removal_hours as (
    -- The hours whose uplift a protected report removes: the whole hours of its window from
    -- detection_start to the last one predicted (the hour before as_of), one report per hour
    -- (reports of one series never overlap in time, but keep one anyway). Generated from the
    -- few reports, so the comparison of the kept days reads them without the predictions.
    select * from (
        select
            protected.store_id,
            protected.sku,
            unnest(generate_series(
                -- (the first whole hour at or after it)
                date_trunc('hour', greatest(protected.window_start, settings.detection_start)
                    + interval 1 hour - interval 1 microsecond),
                date_trunc('hour', least(
                    protected.protected_until - interval 1 microsecond,
                    settings.as_of - interval 1 hour
                )),
                interval 1 hour
            )) as sales_ts,
            protected.report_id,
            protected.final_cause_category
        from protected
        cross join settings
        where protected.removes_uplift
    ) as generated
    qualify row_number() over (partition by store_id, sku, sales_ts order by report_id) = 1
),

removals as (
    select
        removal_hours.*,
        greatest(hours.actual_units - hours.expected_units, 0) as removed_uplift_units
    from removal_hours
    inner join hours
        on
            removal_hours.store_id = hours.store_id
            and removal_hours.sku = hours.sku
            and removal_hours.sales_ts = hours.sales_ts
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
        removals.final_cause_category as removed_cause_category,
        hours.scan_row_digest as prediction_row_digest
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
    {{ mrs_boundary_row(
        public_columns
        + ['prediction_row_digest', 'sales_day', 'adjusted_digest', 'day_digest'],
        first_day) }}
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
