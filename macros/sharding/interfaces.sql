{#-
  The global stage of a sharded build (issue 17, docs/scale_out.md): the models tagged
  `global` (cohorting, events, review, hydration, monitoring, protection, alerts,
  publication) run once, on the deployment's own database, over every store. What they read
  of the shards' stores (every `per_shard` model a global one refs) and every log of the
  shard's stores are the shard's interfaces: each shard writes them at the end of its build
  to the exchange folder as Parquet, and the global stage reads them as views of the same
  names over every shard's files, so the global models' SQL is the one process's and a BI
  tool finds every store's logs and reports in the one database.
-#}


{#- Whether this build is one shard of a sharded build (not one process, nor the global
    stage). -#}
{%- macro mrs_is_shard() -%}
    {{- return(mrs_shard_count() > 1 and not mrs_is_global_stage()) -}}
{%- endmacro -%}


{#- Whether this build is the global stage of a sharded build (var mrs_shard: global). -#}
{%- macro mrs_is_global_stage() -%}
    {{- return(var('mrs_shard', 0) | string == 'global') -}}
{%- endmacro -%}


{#- The per_shard models a global model refs, and the shards' logs (the audited record
    is every store's, in the deployment's database), from the project's graph. -#}
{%- macro mrs_shard_interfaces() -%}
    {%- set interface_ids = [] -%}
    {%- for node in mrs_shard_logs() -%}
        {%- do interface_ids.append(node.unique_id) -%}
    {%- endfor -%}
    {%- for node in graph.nodes.values() if 'global' in node.tags -%}
        {%- for parent in node.depends_on.nodes -%}
            {%- do interface_ids.append(parent) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set interfaces = [] -%}
    {%- for node in graph.nodes.values()
        if node.unique_id in interface_ids and 'per_shard' in node.tags -%}
        {%- do interfaces.append(node) -%}
    {%- endfor -%}
    {{- return(interfaces | sort(attribute='name')) -}}
{%- endmacro -%}


{#- A shard's file of the interface `name`, in its exchange folder's `interfaces/`. -#}
{%- macro mrs_shard_interface_file(name, shard) -%}
    {{- return(mrs_shard_partials_file('interfaces/' ~ name, shard)) -}}
{%- endmacro -%}


{#-
  on-run-end of a shard: every interface this build selected, written to the exchange folder
  (all its rows: the global stage reads the shard's whole logs). A partial pass writes its
  model under another name, so only a shard's last phase writes them.
-#}
{%- macro mrs_export_shard_interfaces() -%}
    {%- if execute and mrs_is_shard()
        and mrs_fit_pass() == 'fit' and mrs_score_pass() == 'score' -%}
        {%- set written = [] -%}
        {%- for node in mrs_shard_interfaces() if node.unique_id in selected_resources -%}
            {%- set relation = adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.alias) -%}
            {%- if relation is none -%}
                {{ exceptions.raise_compiler_error(
                    "shard interface " ~ node.name ~ " was selected but not built: "
                    ~ "its model failed (dbt's output above names it)") }}
            {%- endif -%}
            {%- do run_query(
                "copy (select * from " ~ relation ~ ") to "
                ~ mrs_quote_path(mrs_shard_interface_file(node.name, var('mrs_shard') | int))
                ~ " (format parquet)") -%}
            {%- do written.append(node.name) -%}
        {%- endfor -%}
        {%- if written -%}
            {{ log("mrs: shard " ~ var('mrs_shard') ~ " of " ~ mrs_shard_count() ~ ": "
                ~ written | length ~ " interface(s) written to the exchange folder", info=true) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro -%}


{#-
  on-run-start of the global stage: each shard interface as a view of its model's name over
  every shard's file, replacing the view of the build before (a table of that name is a
  database built by one process: refused, the shards would read other rows than it holds).
-#}
{%- macro mrs_shard_interface_views() -%}
    {%- if execute and mrs_is_global_stage() -%}
        {%- for node in mrs_shard_interfaces() -%}
            {%- set paths = [] -%}
            {%- set files = [] -%}
            {%- for shard in range(mrs_shard_count()) -%}
                {%- do paths.append(mrs_shard_interface_file(node.name, shard)) -%}
                {%- do files.append(mrs_quote_path(paths[-1])) -%}
            {%- endfor -%}
            {%- set existing = adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.alias) -%}
            {%- if existing is not none and not existing.is_view -%}
                {{ exceptions.raise_compiler_error(
                    existing ~ " is a table: this database was built by one process; a "
                    ~ "sharded build's global stage needs a database of its own (or drop it)") }}
            {%- endif -%}
            {#- The shards with rows: a file of none adds nothing to the view (and one
                written before the Python models typed their empty list columns has them
                as INTEGER, which no other shard's file casts to). -#}
            {%- set with_rows = run_query(
                "select file_name from parquet_file_metadata([" ~ files | join(', ')
                ~ "]) where num_rows > 0 order by file_name").columns[0].values() -%}
            {%- set read = [] -%}
            {%- for file in with_rows or paths[:1] -%}
                {%- do read.append(mrs_quote_path(file)) -%}
            {%- endfor -%}
            {%- do run_query("create schema if not exists " ~ node.database ~ "." ~ node.schema) -%}
            {%- do run_query(
                "create or replace view " ~ node.database ~ "." ~ node.schema ~ "." ~ node.alias
                ~ " as select * from read_parquet([" ~ read | join(', ') ~ "])") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro -%}
