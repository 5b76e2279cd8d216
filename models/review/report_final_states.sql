{#-
  Finalisation (DESIGN.md section 7): the final state of every report of the active run at
  each tick where it can change: the ticks of its cohort snapshots (MRCH), the ticks at which
  an edit on it or on its event takes effect (the first tick at or after edited_at), and the
  last tick for a report with edits (an edit recorded after the tick it was stamped with has
  been built is applied there).
  Precedence per field: report-level edit > event-level edit > latest proposal; within a
  level the latest edit wins (edited_at, journal order, annotation_id). An auto-approval
  (user_role 'system') decides only where no analyst decision exists.
-#}

with

settings as (
    select * from {{ ref('run_settings') }}
),

ticks as (
    select * from {{ ref('ticks') }}
),

cohorted as (
    select * from {{ ref('minority_reports_cohorted_log') }}
),

report_edits_log as (
    select * from {{ ref('user_edits_log') }}
),

event_edits_log as (
    select * from {{ ref('user_minority_events_edits_log') }}
),

snapshots as (
    select cohorted.*
    from cohorted
    inner join settings on cohorted.run_id = settings.run_id
),

last_tick as (
    select max(ticks.tick_ts) as tick_ts from ticks
),

report_events as (
    select distinct
        report_id,
        report_group_id
    from snapshots
),

report_edits as (
    select
        report_edits_log.*,
        {{ mrs_tick_at_or_after('report_edits_log.edited_at') }} as effective_tick,
        -- Latest edit wins: by time, then journal order (file name), then id.
        strftime(report_edits_log.edited_at, '%Y-%m-%d %H:%M:%S')
        || coalesce(report_edits_log.source_file, '')
        || report_edits_log.annotation_id as edit_order
    from report_edits_log
    inner join settings on report_edits_log.run_id = settings.run_id
),

event_edits as (
    select
        event_edits_log.*,
        {{ mrs_tick_at_or_after('event_edits_log.edited_at') }} as effective_tick,
        -- Latest edit wins: by time, then journal order (file name), then id.
        strftime(event_edits_log.edited_at, '%Y-%m-%d %H:%M:%S')
        || coalesce(event_edits_log.source_file, '')
        || event_edits_log.annotation_id as edit_order
    from event_edits_log
    inner join settings on event_edits_log.run_id = settings.run_id
),

edited_reports as (
    select report_edits.report_id from report_edits
    union
    select report_events.report_id
    from report_events
    inner join event_edits on report_events.report_group_id = event_edits.report_group_id
),

points as (
    select
        report_id,
        written_at as tick_ts
    from snapshots
    union
    select
        report_id,
        effective_tick
    from report_edits
    union
    select
        report_events.report_id,
        event_edits.effective_tick
    from event_edits
    inner join report_events on event_edits.report_group_id = report_events.report_group_id
    union
    select
        edited_reports.report_id,
        last_tick.tick_ts
    from edited_reports
    cross join last_tick
),

proposed as (
    -- The report's latest cohort snapshot at or before each point.
    select
        points.tick_ts,
        snapshots.*
    from points
    cross join last_tick
    asof inner join snapshots
        on
            points.report_id = snapshots.report_id
            and points.tick_ts >= snapshots.written_at
    where points.tick_ts <= last_tick.tick_ts
),

report_level as (
    {{ mrs_edits_in_force(
        'report_edits', 'report_id', 'report_id', "report_edits.user_role != 'system'"
    ) }}
),

-- Auto-approvals: they decide only where no analyst has.
system_level as (
    {{ mrs_edits_in_force(
        'report_edits', 'report_id', 'report_id', "report_edits.user_role = 'system'"
    ) }}
),

event_level as (
    {{ mrs_edits_in_force('event_edits', 'report_group_id', 'report_group_id', 'true') }}
),

final_states as (
    select
        proposed.report_id,
        proposed.tick_ts,
        proposed.report_group_id,
        proposed.event_status,
        proposed.store_id,
        proposed.sku,
        proposed.first_detected_from,
        proposed.window_start,
        proposed.window_end,
        proposed.severity_score,
        proposed.impact_estimate,
        proposed.attributed_sales_total,
        proposed.baseline_sales_total,
        proposed.cluster_name,
        proposed.proposed_cause,
        proposed.proposed_cause_category,
        proposed.confidence_score,
        proposed.cohort_name,
        proposed.report_status,
        coalesce(
            report_level.decision_action,
            event_level.decision_action,
            system_level.decision_action
        ) as decision_action,
        case coalesce(
            report_level.decision_action,
            event_level.decision_action,
            system_level.decision_action
        )
            when 'approve' then 'approved'
            when 'reject' then 'rejected'
            else 'pending'
        end as final_decision,
        case coalesce(
            report_level.decision_action,
            event_level.decision_action,
            system_level.decision_action
        )
            when 'approve' then 'approved'
            when 'reject' then 'rejected'
            when 'request_review' then 'review_requested'
            when 'defer' then 'deferred'
            when 'reopen' then 'reopened'
            else 'awaiting_review'
        end as review_status,
        coalesce(report_level.cause, event_level.cause, proposed.proposed_cause) as final_cause,
        coalesce(
            report_level.cause_category,
            event_level.cause_category,
            proposed.proposed_cause_category
        ) as final_cause_category,
        coalesce(report_level.confidence, event_level.confidence, proposed.confidence_score)
            as final_confidence,
        case
            when coalesce(
                    report_level.decision_action,
                    event_level.decision_action,
                    system_level.decision_action
                )
                in ('approve', 'reject')
                then coalesce(
                        report_level.decided_at, event_level.decided_at, system_level.decided_at
                    )
        end as finalized_at,
        case
            when coalesce(report_level.edit_order, '') >= coalesce(event_level.edit_order, '')
                then coalesce(report_level.annotation_id, system_level.annotation_id)
            else event_level.annotation_id
        end as annotation_id,
        coalesce(
            list_concat(report_level.evidence, event_level.evidence), []
        ) as added_evidence,
        case
            when
                report_level.cause is not null
                or report_level.cause_category is not null
                or report_level.confidence is not null
                then 'user_edits_log'
            when
                event_level.cause is not null
                or event_level.cause_category is not null
                or event_level.confidence is not null
                then 'user_minority_events_edits_log'
            when proposed.proposed_cause_category is not null
                then 'minority_reports_proposed_attribution_log'
            else 'none'
        end as source_used_proposed,
        case
            when report_level.decision_action is not null then 'user_edits_log'
            when event_level.decision_action is not null then 'user_minority_events_edits_log'
            when system_level.decision_action is not null then 'auto_approval'
            else 'none'
        end as source_used_decision,
        'minority_reports_cohorted_log' as source_used_group_id,
        'minority_reports_clustered_log' as source_used_structure,
        'minority_reports_detected_log' as source_used_window_start,
        case
            when proposed.window_end is not null then 'minority_event_ended_log'
            else 'minority_reports_detected_log'
        end as source_used_window_end,
        list_filter([
            {{ "'edits_down'" if not mrs_journal_present() else 'null' }},
            case when proposed.proposed_cause_category is null then 'MRPAL_down' end
        ], reason -> reason is not null) as degraded_reasons
    from proposed
    left join report_level
        on proposed.report_id = report_level.report_id and proposed.tick_ts = report_level.tick_ts
    left join event_level
        on proposed.report_id = event_level.report_id and proposed.tick_ts = event_level.tick_ts
    left join system_level
        on proposed.report_id = system_level.report_id and proposed.tick_ts = system_level.tick_ts
)

select
    *,
    len(degraded_reasons) > 0 as is_degraded
from final_states
