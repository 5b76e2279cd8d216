{#-
  minority_reports: one row per report of the active run with its latest state
  (DESIGN.md section 7). Precedence per field group: finalisation (MRFL) > attribution
  (MRPAL) > clustering (MRCL) > detection (MRDL, MEEL), where a rereview round (MRCRL,
  MRPARL) replaces the original cluster or attribution row; `source_used_*` names the log
  that supplied each group. A preferred log that is missing, or has no row for the report, is
  skipped for the next one and named in degraded_reasons (MRCL_down, MRPAL_down, MEEL_down,
  MRCH_down, MRFL_down, edits_down). The event_cluster_* fields are the shape of the
  report's event, matched on its reports' pooled curves (event_cluster_matches).
-#}
{{ config(materialized='table') }}

with

detected as (
    select * from {{ ref('minority_reports_detected_log_current') }}
),

ended as (
    select * from {{ ref('minority_event_ended_log_current') }}
),

latest_clustered as (
    select * from {{ ref('minority_reports_clustered_log_current') }}
),

latest_attributed as (
    select * from {{ ref('minority_reports_proposed_attribution_log_current') }}
),

clustered_rereview as (
    select * from {{ ref('minority_reports_clustered_rereview_log_current') }}
),

attributed_rereview as (
    select * from {{ ref('minority_reports_proposed_attribution_rereview_log_current') }}
),

cohorted as (
    select * from {{ ref('minority_reports_cohorted_log_current') }}
),

finalised as (
    select * from {{ ref('minority_reports_finalised_log_current') }}
),

events as (
    select * from {{ ref('minority_event_log_current') }}
),

event_clusters as (
    select * from {{ ref('event_cluster_matches') }}
),

clustered as (
    -- A rereview round at least as new as the latest cluster row wins over it.
    select
        latest_clustered.report_id,
        {%- for column in ['cluster_id', 'cluster_name', 'similarity_score',
            'cluster_match_confidence', 'tsne_x', 'tsne_y', 'model_version'] %}
            case
                when clustered_rereview.written_at >= latest_clustered.written_at
                    then clustered_rereview.{{ column }}
                else latest_clustered.{{ column }}
            end as {{ column }},
        {%- endfor %}
        case
            when clustered_rereview.written_at >= latest_clustered.written_at
                then 'minority_reports_clustered_rereview_log'
            when latest_clustered.report_id is not null
                then 'minority_reports_clustered_log'
            else 'none'
        end as source_log
    from latest_clustered
    left join clustered_rereview
        on latest_clustered.report_id = clustered_rereview.report_id
),

attributed as (
    -- A rereview round at least as new as the latest attribution row wins over it.
    select
        latest_attributed.report_id,
        {%- for column in ['proposed_cause', 'proposed_cause_category', 'confidence_score',
            'proposed_cause_2', 'proposed_cause_category_2', 'confidence_score_2',
            'proposed_cause_3', 'proposed_cause_category_3', 'confidence_score_3',
            'supporting_evidence', 'is_degraded', 'degraded_reasons', 'model_version'] %}
            case
                when attributed_rereview.written_at >= latest_attributed.written_at
                    then attributed_rereview.{{ column }}
                else latest_attributed.{{ column }}
            end as {{ column }},
        {%- endfor %}
        case
            when attributed_rereview.written_at >= latest_attributed.written_at
                then 'minority_reports_proposed_attribution_rereview_log'
            when latest_attributed.report_id is not null
                then 'minority_reports_proposed_attribution_log'
            else 'none'
        end as source_log
    from latest_attributed
    left join attributed_rereview
        on latest_attributed.report_id = attributed_rereview.report_id
),

hydrated as (
    select
        detected.report_id,
        detected.store_id,
        detected.sku,
        detected.first_detected_from,
        detected.window_start,
        coalesce(ended.window_end, detected.window_end) as window_end,
        ended.closure_reason,
        detected.severity_score,
        detected.severity_band,
        detected.impact_estimate,
        detected.attributed_sales_total,
        detected.baseline_sales_total,
        detected.z_score,
        detected.direction,
        detected.model_version as detection_model_version,
        detected.written_at as last_detected_at,
        clustered.cluster_id,
        coalesce(clustered.cluster_name, 'unclassified') as cluster_name,
        clustered.similarity_score,
        clustered.cluster_match_confidence,
        clustered.tsne_x,
        clustered.tsne_y,
        clustered.model_version as cluster_model_version,
        coalesce(attributed.proposed_cause, 'No supporting evidence found') as proposed_cause,
        coalesce(attributed.proposed_cause_category, 'unknown') as proposed_cause_category,
        attributed.confidence_score,
        attributed.proposed_cause_2,
        attributed.proposed_cause_category_2,
        attributed.confidence_score_2,
        attributed.proposed_cause_3,
        attributed.proposed_cause_category_3,
        attributed.confidence_score_3,
        coalesce(attributed.supporting_evidence, []) as supporting_evidence,
        attributed.model_version as attribution_model_version,
        cohorted.report_group_id,
        -- The event's own latest status (a report's last cohort row may predate its end).
        coalesce(events.event_status, cohorted.event_status) as event_status,
        cohorted.cohort_name,
        cohorted.cohort_reason,
        cohorted.cohort_size,
        -- The shape of the report's event, matched on its reports' pooled curves.
        event_clusters.cluster_id as event_cluster_id,
        coalesce(event_clusters.cluster_name, 'unclassified') as event_cluster_name,
        event_clusters.similarity_score as event_cluster_similarity,
        event_clusters.cluster_match_confidence as event_cluster_confidence,
        coalesce(finalised.final_decision, 'pending') as final_decision,
        coalesce(finalised.review_status, 'awaiting_review') as review_status,
        coalesce(
            finalised.final_cause, attributed.proposed_cause, 'No supporting evidence found'
        ) as final_cause,
        coalesce(
            finalised.final_cause_category, attributed.proposed_cause_category, 'unknown'
        ) as final_cause_category,
        coalesce(finalised.final_confidence, attributed.confidence_score) as final_confidence,
        finalised.finalized_at,
        finalised.annotation_id,
        coalesce(finalised.added_evidence, []) as added_evidence,
        'minority_reports_detected_log' as source_used_detection,
        case
            when ended.window_end is not null then 'minority_event_ended_log'
            else 'minority_reports_detected_log'
        end as source_used_window_end,
        coalesce(clustered.source_log, 'none') as source_used_cluster,
        coalesce(attributed.source_log, 'none') as source_used_attribution,
        case
            when cohorted.report_id is not null then 'minority_reports_cohorted_log'
            else 'none'
        end as source_used_group_id,
        case
            when finalised.report_id is not null then 'minority_reports_finalised_log'
            when attributed.report_id is not null then 'minority_reports_proposed_attribution_log'
            else 'none'
        end as source_used_final,
        list_sort(list_distinct(list_filter(
            [
                case when latest_clustered.report_id is null then 'MRCL_down' end,
                case when latest_attributed.report_id is null then 'MRPAL_down' end,
                case
                    when detected.window_end is not null and ended.report_id is null
                        then 'MEEL_down'
                end,
                case when cohorted.report_id is null then 'MRCH_down' end,
                case when finalised.report_id is null then 'MRFL_down' end,
                -- The journal is unreachable now: later edits cannot reach this report.
                {{ "'edits_down'" if not mrs_journal_present() else 'null' }}
            ]
            || coalesce(attributed.degraded_reasons, [])
            || coalesce(finalised.degraded_reasons, []),
            reason -> reason is not null
        ))) as degraded_reasons,
        detected.report_status,
        detected.run_id
    from detected
    left join ended on detected.report_id = ended.report_id
    left join clustered on detected.report_id = clustered.report_id
    left join attributed on detected.report_id = attributed.report_id
    left join latest_clustered on detected.report_id = latest_clustered.report_id
    left join latest_attributed on detected.report_id = latest_attributed.report_id
    left join cohorted on detected.report_id = cohorted.report_id
    left join finalised on detected.report_id = finalised.report_id
    left join events on cohorted.report_group_id = events.report_group_id
    left join event_clusters on cohorted.report_group_id = event_clusters.report_group_id
)

select
    *,
    len(degraded_reasons) > 0 as is_degraded
from hydrated
