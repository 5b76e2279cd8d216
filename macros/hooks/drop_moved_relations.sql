{#-
  on-run-start: a model that now lives in a schema of its own (the staged inputs, schema
  staging; the logs, schema logs) leaves no stale copy in the target's schema (main) of a
  file built before it moved; MRS's readers look in main first, so a stale copy would shadow
  the fresh one. A log is history no build can write again (earlier runs, superseded rows,
  rows of retired model versions), so it is moved, its rows and its columns as they are; a
  staged input is derived, so it is dropped and built again; so is a derived table kept
  from build to build (incremental, not a log) that lacks a column its YAML declares: it
  was built by an earlier version (the sales staged by day, then by hour; the predictions
  kept).
  Builds only (`build`, `run`): `dbt docs generate` and `compile` change nothing.
-#}
{% macro mrs_drop_moved_relations() -%}
    {%- if execute and flags.WHICH in ['build', 'run'] -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.schema != target.schema -%}
            {%- set stale = adapter.get_relation(
                database=node.database, schema=target.schema, identifier=node.alias) -%}
            {%- if stale is not none -%}
                {%- set moved = adapter.get_relation(
                    database=node.database, schema=node.schema, identifier=node.alias) -%}
                {%- if node.config.get('schema') == 'logs' and moved is none -%}
                    {{ mrs_move_log(stale, node) }}
                {%- else -%}
                    {%- do adapter.drop_relation(stale) -%}
                    {{ log("mrs: dropped " ~ stale ~ ", built before " ~ node.name
                        ~ " moved to schema " ~ node.schema, info=true) }}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
        {#- Every kept table's columns in one query (a query per model cost 0.1 s a build);
            auto_begin off, as in mrs_move_log: a hook's statements are not committed. -#}
        {%- call statement('mrs_kept_columns', fetch_result=True, auto_begin=False) -%}
            select
                schema_name || '.' || table_name as kept_table,
                string_agg(column_name, chr(31)) as kept
            from duckdb_columns()
            where database_name = '{{ target.database }}'
            group by all
        {%- endcall -%}
        {%- set kept_columns = {} -%}
        {%- for row in load_result('mrs_kept_columns').table.rows -%}
            {%- do kept_columns.update({row['kept_table']: row['kept'].split('\x1f')}) -%}
        {%- endfor -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.config.materialized == 'incremental'
            and node.config.get('schema') != 'logs' -%}
            {%- set built = adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.alias) -%}
            {%- if built is not none -%}
                {%- set kept = kept_columns.get(built.schema ~ '.' ~ built.identifier, []) -%}
                {%- set missing = node.columns.keys() | reject('in', kept) | list -%}
                {%- if missing -%}
                    {%- call statement('mrs_drop_outdated', auto_begin=False) -%}
                        drop table {{ built }}
                    {%- endcall -%}
                    {%- do adapter.cache_dropped(built) -%}
                    {{ log("mrs: dropped " ~ built ~ ", kept from build to build but built "
                        ~ "before it had " ~ missing | join(', ') ~ "; it is built again in "
                        ~ "full", info=true) }}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}


{#-
  Moves one log table to its node's schema in one transaction: the same CREATE TABLE as the
  old one (its column types and constraints), every row, then the old table dropped. DuckDB
  has no ALTER TABLE ... SET SCHEMA.
-#}
{% macro mrs_move_log(stale, node) -%}
    {#- auto_begin off, as dbt-duckdb's own drop: a hook's statements are not committed. -#}
    {%- call statement('mrs_log_definition', fetch_result=True, auto_begin=False) -%}
        select sql from duckdb_tables()
        where
            database_name = '{{ stale.database }}'
            and schema_name = '{{ stale.schema }}'
            and table_name = '{{ stale.identifier }}'
    {%- endcall -%}
    {%- set ddl = load_result('mrs_log_definition').table.columns[0].values() | first -%}
    {%- set old_head = 'CREATE TABLE ' ~ stale.identifier ~ '(' -%}
    {%- if not ddl.startswith(old_head) -%}
        {{ exceptions.raise_compiler_error(
            "mrs: cannot move " ~ stale ~ " to schema " ~ node.schema ~ " (its definition "
            ~ "does not start with '" ~ old_head ~ "'); copy it by hand with create table "
            ~ node.schema ~ "." ~ node.alias ~ " as from " ~ stale ~ ", then drop it") }}
    {%- endif -%}
    {%- set new_relation = api.Relation.create(
        database=node.database, schema=node.schema, identifier=node.alias) -%}
    {%- call statement('mrs_move_log', auto_begin=False) -%}
        begin transaction;
        create schema if not exists {{ node.database }}.{{ node.schema }};
        {{ 'CREATE TABLE ' ~ new_relation ~ '(' ~ ddl[old_head | length:] }}
        insert into {{ new_relation }} select * from {{ stale }};
        drop table {{ stale }};
        commit;
    {%- endcall -%}
    {#- dbt listed the file's relations before this hook: tell its cache what moved. -#}
    {%- do adapter.cache_dropped(stale) -%}
    {%- do adapter.cache_added(new_relation.incorporate(type='table')) -%}
    {{ log("mrs: moved " ~ stale ~ " to " ~ new_relation ~ " with its rows (the logs have a "
        ~ "schema of their own since 2026-12-02)", info=true) }}
{%- endmacro %}
