-- The per-event protection feed for the MMM and MAB (DESIGN.md section 8): one row per event
-- of the active run with a protected report: its cause, confidence, whether it is temporary,
-- how long it is expected to last, and what the optimisers should do.
with

events as (
    select * from {{ ref('minority_events') }}
),

protected as (
    select * from {{ ref('protected_reports') }}
),

settings as (
    select * from {{ ref('run_settings') }}
),

protected_events as (
    select
        report_group_id,
        count(*) as protected_report_count,
        bool_or(removes_uplift) as removes_uplift,
        bool_or(final_decision = 'approved') as has_approved_report
    from protected
    where report_group_id is not null
    group by report_group_id
),

ended_durations as (
    -- Typical length of ended events of each cause: the expectation for active ones.
    select
        final_cause_category,
        median(
            {{ mrs_hours_between('window_start', 'window_end') }}
        ) as typical_duration_hours
    from events
    where event_status = 'ended'
    group by final_cause_category
),

feed as (
    select
        events.report_group_id,
        events.final_cause,
        events.final_cause_category,
        events.final_confidence,
        events.final_decision,
        events.event_status,
        events.window_start,
        events.window_end,
        -- Every cause but paid media is a shock that passes; paid media is the signal.
        events.final_cause_category != 'paid_media' as is_temporary,
        case
            when events.window_end is not null
                then {{ mrs_hours_between('events.window_start', 'events.window_end') }}
            else coalesce(ended_durations.typical_duration_hours, 24)
        end as expected_duration_hours,
        case
            when events.final_cause_category = 'paid_media' then 'maintain_strategy'
            when events.final_cause_category = 'data_error' then 'exclude_from_learning'
            when not protected_events.has_approved_report then 'await_review'
            when events.event_status = 'active' then 'hold_budget_changes'
            else 'exclude_from_learning'
        end as recommendation,
        protected_events.protected_report_count,
        events.store_count,
        events.attributed_sales_total - events.baseline_sales_total as impact_units,
        settings.as_of as published_at,
        events.run_id
    from events
    inner join protected_events on events.report_group_id = protected_events.report_group_id
    cross join settings
    left join ended_durations on events.final_cause_category = ended_durations.final_cause_category
    where events.event_status != 'merged'
)

select * from feed
