-- The attribution model's inference per report snapshot: how many evidence rows it weighed
-- (input) and the top cause with its confidence (output), written at the snapshot's tick.
with

attributed as (
    {{ mrs_pending_rows(ref('minority_reports_proposed_attribution_log')) }}
),

proposals as (
    select * from {{ ref('attribution_model') }}
),

versions as (
    select * from {{ ref('model_versions') }}
),

inferences as (
    select
        'attribution_model' as model_name,
        attributed.model_version,
        attributed.report_id,
        attributed.written_at,
        cast(proposals.candidate_count as integer) as candidate_count,
        attributed.supporting_evidence,
        attributed.proposed_cause_category,
        attributed.confidence_score,
        attributed.confidence_score as quality_score,
        versions.trained_on,
        versions.model_registry_source,
        versions.model_confidence_metric,
        attributed.run_id
    from attributed
    inner join proposals
        on
            attributed.report_id = proposals.report_id
            and attributed.written_at = proposals.written_at
    left join versions
        on
            versions.model_name = 'attribution_model'
            and attributed.model_version = versions.model_version
)

select * from inferences
