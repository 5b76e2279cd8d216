-- MRCH: one row per live report per tick with its event, plus a row for an ended report
-- whose event changes (it was merged into an earlier one). Appends only ticks after the
-- newest logged.
with

assignments as (
    select * from {{ ref('report_cohort_assignments') }}
),

pending_ticks as (
    {{ mrs_pending_ticks() }}
),

previous_versions as (
    {{ mrs_previous_versions('report_id') }}
),

settings as (
    select * from {{ ref('run_settings') }}
),

cohorted as (
    select
        assignments.report_id,
        assignments.report_group_id,
        assignments.event_status,
        assignments.store_id,
        assignments.sku,
        assignments.first_detected_from,
        assignments.window_start,
        assignments.window_end,
        assignments.severity_score,
        assignments.impact_estimate,
        assignments.attributed_sales_total,
        assignments.baseline_sales_total,
        assignments.cluster_name,
        assignments.proposed_cause,
        assignments.proposed_cause_category,
        assignments.confidence_score,
        assignments.cohort_name,
        assignments.cohort_confidence,
        assignments.cohort_reason,
        assignments.cohort_size,
        assignments.report_status,
        assignments.tick_ts as written_at,
        settings.run_id
    from assignments
    cross join settings
    where
        assignments.tick_ts in (select pending_ticks.tick_ts from pending_ticks)
        and (
            assignments.is_live
            or (
                assignments.has_live_report
                and assignments.report_group_id
                is distinct from assignments.previous_report_group_id
            )
        )
)

{{ mrs_select_with_versions('cohorted') }}
