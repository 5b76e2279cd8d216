{#-
  on-run-end: says how many input rows each staging model rejected, so bad input is never
  dropped silently, and when the sales feed gave no row at all. Reads the `<input>_errors`
  relations and `stg_unified_sales_data` that this invocation built.
-#}
{% macro mrs_report_rejected_rows(results) -%}
    {%- if execute -%}
        {%- set total = namespace(rows=0, inputs=0) -%}
        {%- for result in results
            if result.node.resource_type == 'model'
            and result.node.name.endswith('_errors')
            and result.status == 'success' -%}
            {%- set relation = api.Relation.create(
                database=result.node.database,
                schema=result.node.schema,
                identifier=result.node.alias) -%}
            {%- set rejected = run_query('select count(*) from ' ~ relation).columns[0].values()[0] -%}
            {%- set total.inputs = total.inputs + 1 -%}
            {%- if rejected > 0 -%}
                {%- set total.rows = total.rows + rejected -%}
                {{ log("mrs: " ~ rejected ~ " row(s) rejected from "
                    ~ result.node.name[:-7] ~ "; see " ~ relation, info=true) }}
            {%- endif -%}
        {%- endfor -%}
        {%- if total.inputs > 0 -%}
            {{ log("mrs: " ~ total.rows ~ " input row(s) rejected in total across "
                ~ total.inputs ~ " input(s)", info=true) }}
        {%- endif -%}
        {#- A sales feed with no row (a header-only file) builds an empty pipeline: say so. -#}
        {%- for result in results
            if result.node.resource_type == 'model'
            and result.node.name == 'stg_unified_sales_data'
            and result.status == 'success' -%}
            {%- set relation = api.Relation.create(
                database=result.node.database,
                schema=result.node.schema,
                identifier=result.node.alias) -%}
            {%- if run_query('select count(*) from ' ~ relation).columns[0].values()[0] == 0 -%}
                {{ log("mrs: unified_sales_data has no accepted row (an empty or header-only "
                    ~ "file, or every row rejected): nothing to detect", info=true) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
