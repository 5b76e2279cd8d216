{#-
  on-run-end: exports what `mrs review` validates an edit against (active run and newest
  tick, report and event ids, cause categories, latest final decisions) and what the review
  app shows (the published tables, the series around each report, the evidence catalogue,
  stores, the cluster library, the edit logs) as Parquet files in `<journal>/review_index/`.
  The command line and the app read these instead of the database, so analysts work while a
  build holds the DuckDB file and can never make a starting build fail to get its lock.
  Skipped when the journal is not reachable, and by commands that write no data (`dbt docs
  generate`, `dbt compile`, `dbt test`): documenting the project must not touch what
  analysts read.
-#}
{% macro mrs_export_review_index() -%}
    {%- if execute and flags.WHICH in ['build', 'run'] and mrs_journal_present() -%}
        {%- set folder = mrs_edits_dir() ~ '/review_index' -%}
        {#- Hooks cannot ref(): the relations are looked up in the target schema. -#}
        {%- set relations = {} -%}
        {%- set tables = ['run_settings', 'minority_reports_detected_log', 'minority_event_log',
            'stg_cause_taxonomy', 'minority_reports_finalised_log', 'minority_reports',
            'minority_events', 'report_sales_series', 'evidence_catalogue', 'stg_stores',
            'stg_cluster_library', 'user_edits_log', 'user_minority_events_edits_log',
            'user_edits_errors', 'user_minority_events_edits_errors'] -%}
        {%- for name in tables -%}
            {%- do relations.update({name: adapter.get_relation(
                database=target.database, schema=target.schema, identifier=name)}) -%}
        {%- endfor -%}
        {%- if relations.values() | select('none') | list -%}
            {{ log("mrs: review index not exported: the pipeline is not fully built yet",
                info=true) }}
            {{ return('') }}
        {%- endif -%}
        {#- The rejected journal files by name only: with the edit logs, which files the build
            read, so `mrs review` can tell the edits recorded since (not yet in effect). -#}
        {%- set exports = {
            'run_settings': "select run_id, as_of from " ~ relations['run_settings'],
            'minority_reports_detected_log': "select report_id, run_id, max(written_at) as "
                ~ "written_at from " ~ relations['minority_reports_detected_log'] ~ " group by all",
            'minority_event_log': "select distinct report_group_id, run_id from "
                ~ relations['minority_event_log'],
            'stg_cause_taxonomy': "select cause_category from " ~ relations['stg_cause_taxonomy'],
            'minority_reports_finalised_log': "select report_id, report_group_id, "
                ~ "final_decision, version, run_id from "
                ~ relations['minority_reports_finalised_log']
                ~ " qualify row_number() over (partition by run_id, report_id "
                ~ "order by version desc) = 1",
            'user_edits_errors': "select distinct source_file from "
                ~ relations['user_edits_errors'],
            'user_minority_events_edits_errors': "select distinct source_file from "
                ~ relations['user_minority_events_edits_errors'],
        } -%}
        {#- The published tables, whole: what the review app reads. -#}
        {%- for name in tables if name not in exports -%}
            {%- do exports.update({name: "select * from " ~ relations[name]}) -%}
        {%- endfor -%}
        {%- for name, query in exports.items() -%}
            {%- do run_query("copy (" ~ query ~ ") to "
                ~ mrs_quote_path(folder ~ "/" ~ name ~ ".parquet") ~ " (format parquet)") -%}
        {%- endfor -%}
        {{ log("mrs: review index exported to " ~ folder, info=true) }}
    {%- endif -%}
{%- endmacro %}
