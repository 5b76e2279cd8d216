-- The attribution model's inference per report snapshot: how many evidence rows it weighed
-- (input) and the top cause with its confidence (output), written at the snapshot's tick.
with

pending_ticks as (
    {{ mrs_pending_ticks() }}
),

attributed as (
    select * from {{ ref('minority_reports_proposed_attribution_log') }}
),

proposals as (
    select * from {{ ref('attribution_model') }}
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
        attributed.run_id
    from attributed
    inner join pending_ticks on attributed.written_at = pending_ticks.tick_ts
    inner join proposals
        on
            attributed.report_id = proposals.report_id
            and attributed.written_at = proposals.written_at
    where attributed.run_id = (select settings.run_id from {{ ref('run_settings') }} as settings)
)

select * from inferences
