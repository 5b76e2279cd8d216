{#-
  The rereview worklist rounds of the active run that this rereview log has not rerun yet
  (one rerun row per report and round).
-#}
{% macro mrs_pending_rereview_rounds() -%}
    select worklist.*
    from {{ ref('minority_reports_rereview_worklist') }} as worklist
    where
        worklist.run_id = (select settings.run_id from {{ ref('run_settings') }} as settings)
        {%- if is_incremental() %}
            and not exists (
                select 1
                from {{ this }} as logged
                where
                    logged.run_id = worklist.run_id
                    and logged.report_id = worklist.report_id
                    and logged.rereview_round = worklist.rereview_round
            )
        {%- endif %}
{%- endmacro %}
