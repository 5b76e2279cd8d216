{#-
  The first UTC day whose adjusted hours would differ from the rows kept in
  protection_adjusted_hours: as SQL, a date literal; `cast(null as date)` on a first or
  full-refresh build (every day is written); `cast('infinity' as date)` when no day differs.
  A day's rows follow from its hours' predictions, the removals that fall on it (which
  report, which cause) and the model's code, and the kept rows hold all three, so each is
  compared per day by an order-free digest: what the predictions' hours were scored from
  (mrs_prediction_hour_digest, below) against the kept rows' `prediction_hour_digest`; the
  hours the protected reports' windows remove uplift from, computed now from the reports
  (`adjusted_ctes`, the model's CTEs), against the kept rows' `removed_by_report_id`; and
  `code_digest` against theirs. Narrow digests of what the rows come from, not the rows
  computed for every hour: new hours, restated predictions, a protected report's new window
  or decision, a var or the code are each caught. Says which day.
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
                bit_xor(distinct {{ mrs_adjusted_hour_digest('predictions') }}) as digest
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
                bit_xor(distinct kept.prediction_hour_digest) as digest,
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


{#-
  What an hour's predictions were scored from: the hour, the digest of its day's sales up
  to it (`input_day_digest`, one per hour) and the model with its fit (`prediction_digest`).
  A prediction depends only on those and on the hours before it, so where every hour is
  compared (here: every hour from detection_start, and those before it as one digest) the
  first hour whose digest differs is the first whose predictions may differ. Two narrow
  columns read per hour: hashing the hours' units instead took 0.3 s of every one-tick
  build at 12 months (issue 18). Every series of an hour carries the same value, hence
  `bit_xor(distinct ...)` per day (an even count would cancel in the xor). A row hash
  (mrs_row_hash): the model's digest, the same on every hour, had cancelled out of a day's
  24, so a refit would have gone unseen.
-#}
{% macro mrs_prediction_hour_digest(relation) -%}
    {{ mrs_row_hash([relation ~ '.sales_ts', relation ~ '.input_day_digest',
        relation ~ '.prediction_digest']) }}
{%- endmacro %}


{#- An adjusted hour's `prediction_hour_digest`: what its predictions were scored from, and
    what those of the hours before detection_start were (CTE `earlier_predictions` of
    protection_adjusted_hours), so a change there reaches every day. -#}
{% macro mrs_adjusted_hour_digest(relation) -%}
    {{ mrs_row_hash([mrs_prediction_hour_digest(relation),
        '(select earlier_predictions.digest from earlier_predictions)']) }}
{%- endmacro %}
