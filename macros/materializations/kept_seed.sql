{#-
  Seeds are kept while their file and settings are unchanged. dbt loads a seed by reading the
  whole CSV into an agate table (its type inference) before dbt-duckdb copies the file in:
  the demo's 7 MB sales seed took about 2.3 s of every build of the demo world, and every
  seed of every build about 3 s in all, for tables that had not changed. The table's comment
  keeps a digest of the file's bytes (DuckDB's hash of them, as the project digests content
  elsewhere; md5 is for ids only: 0.2 s for the 7 MB), the seed's config (column types,
  delimiter, quoting) and dbt's version (its type inference), and a build whose digest
  matches keeps the table with that one query; any change, a dropped table or
  `--full-refresh` loads it with dbt's own materialization, as before.
-#}
{%- materialization seed, adapter='duckdb' -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set described = mrs_seed_described(target_relation) -%}
    {%- set digest = mrs_seed_digest(described) -%}
    {%- set existing_relation = adapter.get_relation(
        database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- if existing_relation is not none
        and existing_relation.is_table
        and not should_full_refresh()
        and described.rows[0][0] == digest -%}
        {{ log("mrs: seed " ~ target_relation ~ " kept, its file and settings unchanged") }}
        {#- dbt's seed task reads a table of the load; the digest query's stands in for the
            rows it did not read (`dbt seed --show` shows it). -#}
        {%- do store_result('agate_table', response='OK', agate_table=described) -%}
        {{ return({'relations': [target_relation]}) }}
    {%- endif -%}
    {%- set built = dbt.materialization_seed_default() -%}
    {{ mrs_keep_digest('table', target_relation, digest) }}
    {{ return(built) }}
{%- endmaterialization -%}


{#-
  The digest kept in the seed table's comment (null if none) beside the hash of the seed
  file's bytes: one statement, named 'main' (dbt reports a node's status from it); a seed
  loaded again replaces it with dbt's own 'main'.
-#}
{%- macro mrs_seed_described(relation) -%}
    {%- call statement('main', fetch_result=True) -%}
        select
            {{ mrs_kept_digest('table', relation) }} as kept_digest,
            hash(content) as file_digest
        from read_blob({{ mrs_quote_path(adapter.get_seed_file_path(model)) }})
    {%- endcall -%}
    {{- return(load_result('main').table) -}}
{%- endmacro -%}


{#- What the seed is: its file's bytes, its settings and the dbt that infers its types. -#}
{%- macro mrs_seed_digest(described) -%}
    {%- set settings = [] -%}
    {%- for key in ['column_types', 'delimiter', 'quote_columns', 'fast'] -%}
        {%- do settings.append(key ~ '=' ~ tojson(config.get(key))) -%}
    {%- endfor -%}
    {{- return('mrs-seed-definition ' ~ local_md5(
        described.rows[0][1] ~ '|' ~ settings | join('|') ~ '|dbt ' ~ dbt_version)) -}}
{%- endmacro -%}
