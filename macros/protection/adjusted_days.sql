{#-
  The first UTC day whose adjusted hours would differ from the rows kept in
  protection_adjusted_hours: as SQL, a date literal; `cast(null as date)` on a first or
  full-refresh build (every day is written); `cast('infinity' as date)` when no day differs.
  A day's rows follow from its hours' prediction rows (their units and expectation), the
  removals that fall on it (which report, which cause) and the model's code, and the kept
  rows hold all three, so each is compared per day by an order-free digest: the xor of the
  prediction rows' stored `scan_row_digest` (the hash of their series, hour, units and
  expectation among others, written once with each row) against the kept rows'
  `prediction_row_digest`, the same column copied; the hours the protected reports' windows
  remove uplift from, computed now from the reports (`adjusted_ctes`, the model's CTEs),
  against the kept rows' `removed_by_report_id`; and `code_digest` against theirs. Stored
  digests of what the rows are computed from, one column read per row, not the rows computed
  or hashed for every hour: new hours, restated or rescored predictions, a protected
  report's new window or decision, a var or the code are each caught. Says which day.
-#}
{% macro mrs_first_changed_adjusted_day(adjusted_ctes, code_digest) -%}
    {%- if not execute or not is_incremental() -%}{{ return('cast(null as date)') }}{%- endif -%}
    {%- set compared_sql -%}
        {{ adjusted_ctes }},
        current_days as (
            -- (the predictions read here for these columns only: read through the CTEs, which
            -- `hours` reads too, DuckDB held every column of every hour)
            select
                cast(predictions.sales_ts as date) as sales_day,
                count(*) as day_rows,
                {{ mrs_prediction_day_digest('predictions') }} as digest
            from {{ ref('baseline_sales_predictions') }} as predictions
            where predictions.sales_ts >= (select settings.detection_start from settings)
            group by cast(predictions.sales_ts as date)
        ),
        current_removal_days as (
            -- (from the reports' windows: the removals of hours not predicted, were there
            -- any, would only make the day differ, and be written again)
            select
                cast(removal_hours.sales_ts as date) as sales_day,
                count(*) as day_rows,
                {{ mrs_rows_digest('removal_hours', [
                    'store_id', 'sku', 'sales_ts', 'report_id', 'final_cause_category']) }}
                    as digest
            from removal_hours
            group by cast(removal_hours.sales_ts as date)
        ),
        kept_days as (
            -- One read of the kept rows for both: their predictions' digests and their
            -- removals.
            select
                kept.sales_day,
                count(*) as day_rows,
                {{ mrs_prediction_day_digest('kept', 'prediction_row_digest') }} as digest,
                bool_or(kept.adjusted_digest is distinct from '{{ code_digest }}') as other_code,
                count(*) filter (where kept.removed_by_report_id is not null) as removal_rows,
                {{ mrs_rows_digest('kept', [
                    'store_id', 'sku', 'sales_ts', 'removed_by_report_id',
                    'removed_cause_category']) }}
                    filter (where kept.removed_by_report_id is not null) as removal_digest
            from {{ this }} as kept
            group by kept.sales_day
        ),
        kept_removal_days as (
            select
                kept_days.sales_day,
                kept_days.removal_rows as day_rows,
                kept_days.removal_digest as digest
            from kept_days
            where kept_days.removal_rows > 0
        ),
        differing_days as (
            select coalesce(current_days.sales_day, kept_days.sales_day) as sales_day
            from current_days
            full join kept_days on current_days.sales_day = kept_days.sales_day
            where
                current_days.day_rows is distinct from kept_days.day_rows
                or current_days.digest is distinct from kept_days.digest
                or coalesce(kept_days.other_code, false)
            union all
            select coalesce(current_removal_days.sales_day, kept_removal_days.sales_day)
            from current_removal_days
            full join kept_removal_days
                on current_removal_days.sales_day = kept_removal_days.sales_day
            where
                current_removal_days.day_rows is distinct from kept_removal_days.day_rows
                or current_removal_days.digest is distinct from kept_removal_days.digest
        )
        select min(sales_day) as first_changed_day from differing_days
    {%- endset -%}
    {%- set day = run_query(compared_sql).columns[0].values()[0] -%}
    {%- if day is none -%}
        {{ log("mrs: protection adjusted sales kept, no day changed", info=true) }}
        {{ return("cast('infinity' as date)") }}
    {%- endif -%}
    {{ log("mrs: protection adjusted sales kept before " ~ day ~ ", written from it",
        info=true) }}
    {{ return("date '" ~ day ~ "'") }}
{%- endmacro %}

