{#-
  Scale-out by store (issue 17, docs/scale_out.md). A shard is one dbt build of this project
  on a DuckDB file of its own that sees only its stores' sales: vars `mrs_shard` (0, 1, ...)
  and `mrs_shard_count` (1, the default, is one process seeing every store, as MRS has always
  run). A statistic over every store is computed in two phases: each shard writes its partial
  sums to the exchange folder (var `mrs_shard_exchange_dir`) as Parquet, and every shard reads
  all shards' files and combines them the same way, so every shard holds the same global
  value, and one process (which reads its own partials) the value it always had.
-#}


{%- macro mrs_shard_count() -%}
    {%- set count = var('mrs_shard_count', 1) | int -%}
    {%- set shard = var('mrs_shard', 0) -%}
    {%- set is_global = shard | string == 'global' and count > 1 -%}
    {%- if count < 1 or not is_global and (shard | int < 0 or shard | int >= count
        or shard | string != shard | int | string) -%}
        {{ exceptions.raise_compiler_error(
            "vars mrs_shard " ~ shard ~ " and mrs_shard_count " ~ count ~ " name no shard: "
            ~ "mrs_shard_count is 1 or more and mrs_shard runs from 0 to mrs_shard_count - 1 "
            ~ "(or is 'global', the global stage of a sharded build)") }}
    {%- endif -%}
    {{- return(count) -}}
{%- endmacro -%}


{#-
  The rows of `rows` (a select whose column `store_column` holds each row's store as raw text)
  that belong to this shard: the md5 of the store's id as staging types it (trimmed, blank is
  none), so " S1" and "S1" (one store, and one duplicate-key check) share a shard, and a row
  without a store lands in exactly one. md5, not DuckDB's hash(): the assignment must not
  move with a DuckDB release. Each store is hashed once, from the list of the input's stores
  (unnested: over a plain distinct DuckDB pushes the hash down to every row, where md5 cost
  44 s of 20 M rows against 2 s).
-#}
{%- macro mrs_this_shards_rows(rows, store_column) -%}
    {%- set store_key = "coalesce(" ~ mrs_text('sharded_rows.' ~ store_column) ~ ", '')" -%}
    with
    sharded_rows as (
        {{ rows }}
    ),
    shard_stores as (
        select stores.store_key
        from (
            select unnest(list(distinct {{ store_key }})) as store_key
            from sharded_rows
        ) as stores
        where md5_number(stores.store_key) % {{ mrs_shard_count() }} = {{ var('mrs_shard', 0) | int }}
    )
    select sharded_rows.*
    from sharded_rows
    where {{ store_key }} in (select shard_stores.store_key from shard_stores)
{%- endmacro -%}


{#- The exchange folder: where shards leave their partial statistics for each other. -#}
{%- macro mrs_shard_exchange_dir() -%}
    {%- set folder = var('mrs_shard_exchange_dir', none) -%}
    {%- if mrs_shard_count() > 1 and not folder -%}
        {{ exceptions.raise_compiler_error(
            "a sharded build (mrs_shard_count " ~ mrs_shard_count() ~ ") needs var "
            ~ "mrs_shard_exchange_dir, the folder every shard writes its partial statistics "
            ~ "to and reads the others' from; the shard driver (mrs.pipeline.shards) sets it") }}
    {%- endif -%}
    {{- return(folder.rstrip('/') if folder else none) -}}
{%- endmacro -%}


{#-
  Config of a model whose rows are this shard's partial statistics: in one process a table as
  any other; in a shard, dbt-duckdb's `external` materialization, which writes them to
  `<exchange>/shard-<k>-of-<n>/<model>.parquet` (a view over the file stays in the database).
-#}
{%- macro mrs_shard_partials_config(model_name) -%}
    {%- if mrs_shard_count() == 1 -%}
        {{- return({'materialized': 'table'}) -}}
    {%- endif -%}
    {{- return({
        'materialized': 'external',
        'format': 'parquet',
        'location': mrs_shard_partials_file(model_name, var('mrs_shard', 0) | int),
    }) -}}
{%- endmacro -%}


{%- macro mrs_shard_partials_file(model_name, shard) -%}
    {{- return(mrs_shard_exchange_dir() ~ '/shard-' ~ shard ~ '-of-' ~ mrs_shard_count()
        ~ '/' ~ model_name ~ '.parquet') -}}
{%- endmacro -%}


{#-
  Every shard's rows of a partials model: its own table in one process, else every shard's
  Parquet file (a shard whose file is missing stops the build: its first phase has not run).
-#}
{%- macro mrs_every_shard(model_name) -%}
    {%- if mrs_shard_count() == 1 -%}
        {{- return(ref(model_name)) -}}
    {%- endif -%}
    {{- return(mrs_every_shard_file(model_name)) -}}
{%- endmacro -%}


{#- Every shard's Parquet file of the partials `name`, as one relation. -#}
{%- macro mrs_every_shard_file(name) -%}
    {%- set files = [] -%}
    {%- for shard in range(mrs_shard_count()) -%}
        {%- do files.append(mrs_quote_path(mrs_shard_partials_file(name, shard))) -%}
    {%- endfor -%}
    {{- return('read_parquet([' ~ files | join(', ') ~ '])') -}}
{%- endmacro -%}


{#-
  The pass of a model that a sharded build runs more than once (each pass reads the
  statistics every shard's earlier passes wrote): environment variable `environment_variable`
  (not a var: a change of vars makes dbt parse the whole project again, an environment
  variable only the files that read it), else var `var_name`, else the last of `passes`, the
  only pass of one process.
-#}
{%- macro mrs_shard_pass(model_name, environment_variable, var_name, passes) -%}
    {%- set chosen = env_var(environment_variable, '') or var(var_name, passes[-1]) -%}
    {%- if chosen not in passes -%}
        {{ exceptions.raise_compiler_error(
            "pass '" ~ chosen ~ "' of " ~ model_name ~ " (environment variable "
            ~ environment_variable ~ " or var " ~ var_name ~ "): one of "
            ~ passes | join(', ')) }}
    {%- endif -%}
    {%- if chosen != passes[-1] and mrs_shard_count() == 1 -%}
        {{ exceptions.raise_compiler_error(
            "pass '" ~ chosen ~ "' of " ~ model_name ~ " (environment variable "
            ~ environment_variable ~ " or var " ~ var_name ~ ") is a pass of a sharded build "
            ~ "(mrs_shard_count > 1); one process builds it in one pass: unset it") }}
    {%- endif -%}
    {{- return(chosen) -}}
{%- endmacro -%}


{#-
  Config of a partial pass of `model_name`: its rows go to the exchange folder under a name of
  their own (`<model>_<pass>`), so the model's table already built stays as it is.
-#}
{%- macro mrs_shard_pass_config(model_name, chosen) -%}
    {%- set name = model_name ~ '_' ~ chosen -%}
    {%- set pass_config = mrs_shard_partials_config(name) -%}
    {%- do pass_config.update({'alias': name}) -%}
    {{- return(pass_config) -}}
{%- endmacro -%}
