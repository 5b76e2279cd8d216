{#-
  The columns protection_adjusted_sales publishes, in order: what it selects from
  protection_adjusted_hours, and what that model's `day_digest` hashes (the publication
  compares the two, so they must be one list).
-#}
{% macro mrs_adjusted_sales_columns() -%}
    {{ return([
        'store_id', 'sku', 'sales_ts', 'actual_units', 'expected_units', 'removed_uplift_units',
        'adjusted_units', 'removed_by_report_id', 'removed_cause_category']) }}
{%- endmacro %}
