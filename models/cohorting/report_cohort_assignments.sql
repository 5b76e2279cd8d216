-- Every report's event at every tick it is considered: the cohort's id (DESIGN.md section 3:
-- mrs_id('ME-', earliest member report_id, its first_detected_from)), the event's status
-- (ended once every member has ended), whether it still has a live report, and the event
-- the report belonged to a tick earlier.
with

states as (
    select * from {{ ref('report_cohort_states') }}
),

cohorts as (
    select * from {{ ref('report_cohorts') }}
),

assigned as (
    select
        states.tick_ts,
        states.report_id,
        states.written_at,
        states.store_id,
        states.sku,
        states.first_detected_from,
        states.window_start,
        states.window_end,
        states.severity_score,
        states.impact_estimate,
        states.attributed_sales_total,
        states.baseline_sales_total,
        states.proposed_cause,
        states.proposed_cause_category,
        states.confidence_score,
        states.report_status,
        states.cluster_name,
        states.is_live,
        {{ mrs_id('ME-', ['cohorts.anchor_report_id', 'cohorts.anchor_detected_from']) }}
            as report_group_id,
        cast(cohorts.cohort_name as varchar) as cohort_name,
        cast(cohorts.cohort_reason as varchar) as cohort_reason,
        cast(cohorts.cohort_confidence as double) as cohort_confidence,
        cast(cohorts.cohort_size as integer) as cohort_size
    from states
    inner join cohorts
        on
            states.report_id = cohorts.report_id
            and states.tick_ts = cohorts.tick_ts
),

with_status as (
    select
        tick_ts,
        report_id,
        written_at,
        store_id,
        sku,
        first_detected_from,
        window_start,
        window_end,
        severity_score,
        impact_estimate,
        attributed_sales_total,
        baseline_sales_total,
        proposed_cause,
        proposed_cause_category,
        confidence_score,
        report_status,
        cluster_name,
        is_live,
        report_group_id,
        cohort_name,
        cohort_reason,
        cohort_confidence,
        cohort_size,

        case
            when bool_or(window_end is null) over (partition by tick_ts, report_group_id)
                then 'active'
            else 'ended'
        end as event_status,
        -- Only an event with a live report changes: one whose reports have all ended is
        -- not re-identified as they leave the lookback one by one.
        bool_or(is_live) over (partition by tick_ts, report_group_id) as has_live_report,
        lag(report_group_id) over (partition by report_id order by tick_ts)
            as previous_report_group_id
    from assigned
)

select * from with_status
