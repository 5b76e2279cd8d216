{#-
  minority_events: one row per event of the active run with its latest state (MELOG) and the
  review state of its reports (minority_reports): the event is approved or rejected when all
  its reports are, pending when none is decided, mixed otherwise; its final cause is the
  most common final cause of its reports (ties by name). An event merged into an earlier one
  keeps its last row with event_status 'merged'. The event_cluster_* fields are the event's
  shape, matched on its reports' pooled curves (event_cluster_matches). A missing MELOG
  leaves this table empty and the build says so.
-#}
{{ config(materialized='table') }}

with

events as (
    select * from {{ ref('minority_event_log_current') }}
),

reports as (
    select * from {{ ref('minority_reports') }}
),

event_clusters as (
    select * from {{ ref('event_cluster_matches') }}
),

report_reviews as (
    select
        report_group_id,
        count(*) as reviewed_report_count,
        count(*) filter (where final_decision = 'approved') as approved_report_count,
        count(*) filter (where final_decision = 'rejected') as rejected_report_count,
        count(*) filter (where final_decision = 'pending') as pending_report_count,
        max(finalized_at) as finalized_at,
        list_sort(list_distinct(flatten(list(added_evidence)))) as added_evidence,
        list_sort(list_distinct(flatten(list(degraded_reasons)))) as degraded_reasons
    from reports
    where report_group_id is not null
    group by report_group_id
),

final_causes as (
    select
        report_group_id,
        final_cause,
        final_cause_category,
        -- Decimal average: exact whatever order threads add the rows (determinism).
        cast(avg(cast(final_confidence as decimal(38, 12))) as double) as final_confidence
    from reports
    where report_group_id is not null
    group by report_group_id, final_cause, final_cause_category
    qualify row_number() over (
            partition by report_group_id
            order by count(*) desc, final_cause_category asc, final_cause asc
        ) = 1
),

hydrated as (
    select
        events.report_group_id,
        events.window_start,
        events.window_end,
        events.event_status,
        events.store_count,
        events.report_count,
        events.severity,
        events.attributed_sales_total,
        events.baseline_sales_total,
        events.proposed_cause,
        events.proposed_cause_category,
        events.confidence_score,
        events.created_at,
        events.ended_at,
        events.written_at as last_changed_at,
        event_clusters.cluster_id as event_cluster_id,
        coalesce(event_clusters.cluster_name, 'unclassified') as event_cluster_name,
        event_clusters.similarity_score as event_cluster_similarity,
        event_clusters.cluster_match_confidence as event_cluster_confidence,
        coalesce(event_clusters.report_count, 0) as event_cluster_report_count,
        case
            when coalesce(report_reviews.approved_report_count, 0) = events.report_count
                then 'approved'
            when coalesce(report_reviews.rejected_report_count, 0) = events.report_count
                then 'rejected'
            when
                coalesce(report_reviews.pending_report_count, events.report_count)
                = events.report_count
                then 'pending'
            else 'mixed'
        end as final_decision,
        coalesce(final_causes.final_cause, events.proposed_cause) as final_cause,
        coalesce(final_causes.final_cause_category, events.proposed_cause_category)
            as final_cause_category,
        coalesce(final_causes.final_confidence, events.confidence_score) as final_confidence,
        coalesce(report_reviews.approved_report_count, 0) as approved_report_count,
        coalesce(report_reviews.rejected_report_count, 0) as rejected_report_count,
        coalesce(report_reviews.pending_report_count, 0) as pending_report_count,
        report_reviews.finalized_at,
        coalesce(report_reviews.added_evidence, []) as added_evidence,
        'minority_event_log' as source_used_event,
        case
            when report_reviews.report_group_id is not null then 'minority_reports'
            else 'none'
        end as source_used_review,
        coalesce(report_reviews.degraded_reasons, []) as degraded_reasons,
        events.run_id
    from events
    left join report_reviews on events.report_group_id = report_reviews.report_group_id
    left join final_causes on events.report_group_id = final_causes.report_group_id
    left join event_clusters on events.report_group_id = event_clusters.report_group_id
)

select
    *,
    len(degraded_reasons) > 0 as is_degraded
from hydrated
