-- MELOG: one row per event and change. An event's state at a tick aggregates the reports it
-- holds; a row is written when that state differs from the event's previous tick (new
-- members, a moved window, new totals, its end) and when the event disappears because its
-- reports joined an earlier event ('merged'). Only events with a live report change; one
-- whose reports have all ended keeps its last row. Appends only ticks after the newest
-- logged.
{%- set state_columns = [
    'window_start', 'window_end', 'event_status', 'store_count', 'report_count',
    'severity', 'attributed_sales_total', 'baseline_sales_total', 'proposed_cause',
    'proposed_cause_category', 'confidence_score'
] %}

with

assignments as (
    select * from {{ ref('report_cohort_assignments') }}
),

ticks as (
    select * from {{ ref('ticks') }}
),

pending_ticks as (
    {{ mrs_pending_ticks() }}
),

previous_versions as (
    {{ mrs_previous_versions('report_group_id') }}
),

settings as (
    select * from {{ ref('run_settings') }}
),

event_states as (
    select
        report_group_id,
        tick_ts,
        min(window_start) as window_start,
        case when bool_or(window_end is null) then null else max(window_end) end as window_end,
        max(event_status) as event_status,
        cast(count(distinct store_id) as integer) as store_count,
        cast(count(*) as integer) as report_count,
        max(severity_score) as severity,
        -- Decimal sums are exact: independent of the order threads add rows (determinism).
        cast(sum(cast(attributed_sales_total as decimal(24, 6))) as double)
            as attributed_sales_total,
        cast(sum(cast(baseline_sales_total as decimal(24, 6))) as double)
            as baseline_sales_total,
        -- Members share the cause, or the cluster when the cause is unknown.
        min(case when proposed_cause_category != 'unknown' then proposed_cause end)
            as known_cause,
        min(proposed_cause_category) filter (where proposed_cause_category != 'unknown')
            as known_category,
        max(cohort_confidence) as confidence_score
    from assignments
    where has_live_report
    group by report_group_id, tick_ts
),

described as (
    select
        report_group_id,
        tick_ts,
        window_start,
        window_end,
        event_status,
        store_count,
        report_count,
        severity,
        attributed_sales_total,
        baseline_sales_total,
        coalesce(known_cause, 'No supporting evidence found') as proposed_cause,
        coalesce(known_category, 'unknown') as proposed_cause_category,
        confidence_score,
        min(tick_ts) over (partition by report_group_id) as created_at,
        -- As of each tick: a later end must not show in an earlier row (tick equivalence).
        min(case when event_status = 'ended' then tick_ts end) over (
            partition by report_group_id order by tick_ts
        ) as ended_at,
        lag(tick_ts) over (partition by report_group_id order by tick_ts) as previous_tick_ts,
        lead(tick_ts) over (partition by report_group_id order by tick_ts) as next_tick_ts
    from event_states
),

changes as (
    select
        *,
        previous_tick_ts is null
        {%- for column in state_columns %}
            or {{ column }} is distinct from lag({{ column }}) over event_ticks
        {%- endfor %} as is_changed
    from described
    window event_ticks as (partition by report_group_id order by tick_ts)
),

merged as (
    -- The tick after an event's last one, while its anchor report is still considered
    -- under another event: the event was merged into that one.
    select
        described.* replace (
            'merged' as event_status,
            ticks.tick_ts as tick_ts
        ),
        true as is_changed
    from described
    cross join settings
    inner join ticks
        on ticks.tick_ts = described.tick_ts + to_hours(settings.tick_hours)
    where
        described.next_tick_ts is null
        and exists (
            select 1
            from assignments
            where
                assignments.tick_ts = ticks.tick_ts
                and assignments.report_group_id != described.report_group_id
                and {{ mrs_id('ME-', [
                    'assignments.report_id', 'assignments.first_detected_from'
                ]) }} = described.report_group_id
        )
),

changed_and_merged as (
    select * from changes
    where is_changed
    union all by name
    select * from merged
),

event_rows as (
    select
        report_group_id,
        window_start,
        window_end,
        event_status,
        store_count,
        report_count,
        severity,
        attributed_sales_total,
        baseline_sales_total,
        proposed_cause,
        proposed_cause_category,
        confidence_score,
        created_at,
        ended_at,
        tick_ts as written_at
    from changed_and_merged
),

logged as (
    select
        event_rows.*,
        settings.run_id
    from event_rows
    cross join settings
    where event_rows.written_at in (select pending_ticks.tick_ts from pending_ticks)
)

{{ mrs_select_with_versions('logged', 'report_group_id') }}
