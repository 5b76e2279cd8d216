{#-
  The first UTC day whose rows of `current_sql` (what the model computes now, every day, with
  a sales_day column) differ from the rows kept in the model's table, comparing `columns` by
  an order-free digest of each day's rows: as SQL, a date literal; `cast(null as date)` on a
  first or full-refresh build (every day is written); `cast('infinity' as date)` when no day
  differs. Comparing what is computed, not what it is computed from, catches every cause
  alike: new hours, restated predictions, a protected report's new window or decision, a var
  or the code. Says which day (`table` names the model).
-#}
{% macro mrs_first_changed_output_day(current_sql, columns, table) -%}
    {%- if not execute or not is_incremental() -%}{{ return('cast(null as date)') }}{%- endif -%}
    {%- set compared_sql -%}
        with
        current_days as (
            select
                current_rows.sales_day,
                {{ mrs_rows_digest('current_rows', columns) }} as digest
            from ({{ current_sql }}) as current_rows
            group by current_rows.sales_day
        ),
        kept_days as (
            select
                kept_rows.sales_day,
                {{ mrs_rows_digest('kept_rows', columns) }} as digest
            from {{ this }} as kept_rows
            group by kept_rows.sales_day
        )
        select min(coalesce(current_days.sales_day, kept_days.sales_day)) as first_changed_day
        from current_days
        full join kept_days on current_days.sales_day = kept_days.sales_day
        where current_days.digest is distinct from kept_days.digest
    {%- endset -%}
    {%- set day = run_query(compared_sql).columns[0].values()[0] -%}
    {%- if day is none -%}
        {{ log("mrs: " ~ table ~ " kept, no day changed", info=true) }}
        {{ return("cast('infinity' as date)") }}
    {%- endif -%}
    {{ log("mrs: " ~ table ~ " kept before " ~ day ~ ", written from it", info=true) }}
    {{ return("date '" ~ day ~ "'") }}
{%- endmacro %}
