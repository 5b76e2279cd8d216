-- MRPAL: one row per live report per tick with its ranked proposed causes (ranks 1-3), the
-- evidence used and the degradation flags. Appends only ticks after the newest logged.
with

detected as (
    {{ mrs_pending_rows(ref('minority_reports_detected_log')) }}
),

proposals as (
    select * from {{ ref('attribution_model') }}
),

previous_versions as (
    {{ mrs_previous_versions('report_id') }}
),

attributed as (
    select
        detected.report_id,
        detected.store_id,
        detected.sku,
        detected.first_detected_from,
        detected.window_start,
        detected.window_end,
        detected.severity_score,
        detected.impact_estimate,
        cast(proposals.proposed_cause as varchar) as proposed_cause,
        cast(proposals.proposed_cause_category as varchar) as proposed_cause_category,
        cast(proposals.confidence_score as double) as confidence_score,
        cast(proposals.proposed_cause_2 as varchar) as proposed_cause_2,
        cast(proposals.proposed_cause_category_2 as varchar) as proposed_cause_category_2,
        cast(proposals.confidence_score_2 as double) as confidence_score_2,
        cast(proposals.proposed_cause_3 as varchar) as proposed_cause_3,
        cast(proposals.proposed_cause_category_3 as varchar) as proposed_cause_category_3,
        cast(proposals.confidence_score_3 as double) as confidence_score_3,
        cast(proposals.supporting_evidence as varchar[]) as supporting_evidence,
        detected.attributed_sales_total,
        detected.baseline_sales_total,
        -- The approved registry version, else the version shipped with the project.
        coalesce(
            cast(proposals.model_version as varchar),
            '{{ mrs_model_version("attribution_model") }}'
        ) as model_version,
        detected.report_status,
        cast(proposals.is_degraded as boolean) as is_degraded,
        cast(proposals.degraded_reasons as varchar[]) as degraded_reasons,
        detected.written_at,
        detected.run_id
    from detected
    inner join proposals
        on
            detected.report_id = proposals.report_id
            and detected.written_at = proposals.written_at
)

{{ mrs_select_with_versions('attributed') }}
