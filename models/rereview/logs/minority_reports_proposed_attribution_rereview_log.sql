-- MRPARL: the attribution rerun for each new rereview round (DESIGN.md section 8): the model
-- version routed now, on the report's last snapshot. The original MRPAL rows are left
-- untouched; hydration prefers this row when it is newer.
with

rerun as (
    select * from {{ ref('attribution_model') }}
),

pending_rounds as (
    {{ mrs_pending_rereview_rounds() }}
),

reattributed as (
    select
        pending_rounds.report_id,
        pending_rounds.rereview_round,
        cast(rerun.proposed_cause as varchar) as proposed_cause,
        cast(rerun.proposed_cause_category as varchar) as proposed_cause_category,
        cast(rerun.confidence_score as double) as confidence_score,
        cast(rerun.proposed_cause_2 as varchar) as proposed_cause_2,
        cast(rerun.proposed_cause_category_2 as varchar) as proposed_cause_category_2,
        cast(rerun.confidence_score_2 as double) as confidence_score_2,
        cast(rerun.proposed_cause_3 as varchar) as proposed_cause_3,
        cast(rerun.proposed_cause_category_3 as varchar) as proposed_cause_category_3,
        cast(rerun.confidence_score_3 as double) as confidence_score_3,
        cast(rerun.supporting_evidence as varchar[]) as supporting_evidence,
        cast(rerun.is_degraded as boolean) as is_degraded,
        cast(rerun.degraded_reasons as varchar[]) as degraded_reasons,
        pending_rounds.attribution_model_version_current as model_version,
        pending_rounds.snapshot_written_at,
        pending_rounds.written_at,
        pending_rounds.run_id
    from pending_rounds
    inner join rerun
        on
            pending_rounds.report_id = rerun.report_id
            and pending_rounds.snapshot_written_at = rerun.written_at
)

select * from reattributed
