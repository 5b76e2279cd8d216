{#-
  on-run-start: a model that now lives in a schema of its own (the staged inputs, schema
  staging) leaves no stale copy in the target's schema (main) of a file built before it
  moved; MRS's readers look in main first, so a stale copy would shadow the fresh one.
  Builds only (`build`, `run`): `dbt docs generate` and `compile` change nothing.
-#}
{% macro mrs_drop_moved_relations() -%}
    {%- if execute and flags.WHICH in ['build', 'run'] -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.schema != target.schema -%}
            {%- set stale = adapter.get_relation(
                database=node.database, schema=target.schema, identifier=node.alias) -%}
            {%- if stale is not none -%}
                {%- do adapter.drop_relation(stale) -%}
                {{ log("mrs: dropped " ~ stale ~ ", built before " ~ node.name
                    ~ " moved to schema " ~ node.schema, info=true) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
