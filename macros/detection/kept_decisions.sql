{#-
  Incremental strategy of anomaly_classifier_model_real (mrs.models.kept_decisions): per
  series and direction decided again, its kept decisions from the boundary row's
  first_elevated_ts on are replaced by the new ones. Boundary rows (no decision) are never
  inserted, so a series whose windows vanished still loses their decisions.
  The decisions' staging table is dropped here: dbt-duckdb writes a Python model's rows to a
  table of the database (named with a timestamp) that it takes for a temporary one and
  never drops, so every incremental build left one behind (mrs_drop_leftover_staging_tables
  removes those of earlier builds).
-#}
{% macro get_incremental_replace_series_from_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    delete from {{ target }} as kept
    using {{ source }} as boundary
    where
        boundary.decision is null
        and kept.store_id = boundary.store_id
        and kept.sku = boundary.sku
        and kept.direction = boundary.direction
        and kept.first_elevated_ts >= boundary.first_elevated_ts;
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
    where decision is not null;
    drop table if exists {{ source }}
{%- endmacro %}
