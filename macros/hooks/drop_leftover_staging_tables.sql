{#-
  on-run-start: drops the staging tables earlier builds left in the database. dbt-duckdb
  writes an incremental Python model's new rows to a table named `<model>__dbt_tmp<time>`
  that it takes for a temporary one and never drops (anomaly_classifier_model_real's strategy
  now drops its own): an hourly loop left one per build, 24 a day, in the schema BI users
  browse. No build is running while this one starts (DuckDB lets one process write the
  file), so no such table is in use. Builds only (`build`, `run`).
-#}
{% macro mrs_drop_leftover_staging_tables() -%}
    {%- if execute and flags.WHICH in ['build', 'run'] -%}
        {#- auto_begin off, as in mrs_drop_moved_relations: a hook's statements are not
            committed. -#}
        {%- call statement('mrs_leftover_staging_tables', fetch_result=True, auto_begin=False) -%}
            select schema_name, table_name
            from duckdb_tables()
            where
                database_name = '{{ target.database }}'
                and not temporary
                and regexp_matches(table_name, '__dbt_tmp[0-9]+$')
            order by schema_name, table_name
        {%- endcall -%}
        {%- for row in load_result('mrs_leftover_staging_tables').table.rows -%}
            {%- set leftover = api.Relation.create(
                database=target.database, schema=row['schema_name'],
                identifier=row['table_name'], type='table') -%}
            {%- call statement('mrs_drop_leftover', auto_begin=False) -%}
                drop table {{ leftover }}
            {%- endcall -%}
            {{ log("mrs: dropped " ~ leftover ~ ", a staging table an earlier build left",
                info=true) }}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
