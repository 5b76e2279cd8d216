-- MELOG: one row per event and change. An event's state at a tick aggregates the reports it
-- holds; a row is written when that state differs from the event's previous tick (new
-- members, a moved window, new totals, its end) and when the event disappears because its
-- reports joined an earlier event ('merged'). Only events with a live report change; one
-- whose reports have all ended keeps its last row. Appends only ticks after the newest
-- logged; cohorting starts at that tick (mrs_cohort_resume_tick), so what came before it
-- (an event's creation, its first end, its last logged state) is read from this log.
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

logged_events as (
    -- Each event's creation, first end and latest logged state in this run, so far.
    {%- if is_incremental() %}
        select
            logged.report_group_id,
            min(logged.created_at) as created_at,
            min(logged.ended_at) as ended_at,
            {%- for column in state_columns %}
                arg_max(logged.{{ column }}, logged.version) as {{ column }}
                {{- "," if not loop.last }}
            {%- endfor %}
        from {{ this }} as logged
        cross join settings
        where logged.run_id = settings.run_id
        group by logged.report_group_id
    {%- else %}
        {{ mrs_no_logged_state(
            {'report_group_id': 'varchar', 'created_at': 'timestamp', 'ended_at': 'timestamp'},
            state_columns
        ) }}
    {%- endif %}
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
        event_states.report_group_id,
        event_states.tick_ts,
        event_states.window_start,
        event_states.window_end,
        event_states.event_status,
        event_states.store_count,
        event_states.report_count,
        event_states.severity,
        event_states.attributed_sales_total,
        event_states.baseline_sales_total,
        coalesce(event_states.known_cause, 'No supporting evidence found') as proposed_cause,
        coalesce(event_states.known_category, 'unknown') as proposed_cause_category,
        event_states.confidence_score,
        coalesce(
            logged_events.created_at,
            min(event_states.tick_ts) over (partition by event_states.report_group_id)
        ) as created_at,
        -- As of each tick: a later end must not show in an earlier row (tick equivalence).
        -- least() skips a null: the first end is the logged one, else this build's.
        least(
            logged_events.ended_at,
            min(
                case when event_states.event_status = 'ended' then event_states.tick_ts end
            ) over (
                partition by event_states.report_group_id order by event_states.tick_ts
            )
        ) as ended_at,
        lag(event_states.tick_ts) over (
            partition by event_states.report_group_id order by event_states.tick_ts
        ) as previous_tick_ts,
        lead(event_states.tick_ts) over (
            partition by event_states.report_group_id order by event_states.tick_ts
        ) as next_tick_ts
    from event_states
    left join logged_events on event_states.report_group_id = logged_events.report_group_id
),

compared as (
    -- Whether the event changed since its previous tick, and since its latest logged state.
    select
        described.*,
        false
        {%- for column in state_columns %}
            or (
                described.{{ column }} is distinct from lag(described.{{ column }}) over (
                    partition by described.report_group_id order by described.tick_ts
                )
            )
        {%- endfor %} as is_changed_since_previous,
        logged_events.report_group_id is null
        {%- for column in state_columns %}
            or (described.{{ column }} is distinct from logged_events.{{ column }})
        {%- endfor %} as is_changed_since_logged
    from described
    left join logged_events on described.report_group_id = logged_events.report_group_id
),

merged as (
    -- The tick after one of the event's ticks where it has no state, while its anchor report
    -- is considered under another event: the event was merged into that one. Judged from
    -- that tick alone, not from whether the event comes back later (tick equivalence: a
    -- build that ends at that tick cannot know).
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
        described.next_tick_ts is distinct from ticks.tick_ts
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

compared_with_merges as (
    -- Whether the event was merged between its previous tick and this one: come back, it
    -- changed since (its latest row says 'merged').
    select
        compared.*,
        exists(
            select 1
            from merged
            where
                merged.report_group_id = compared.report_group_id
                and merged.tick_ts > compared.previous_tick_ts
                and merged.tick_ts < compared.tick_ts
        ) as is_merged_since_previous
    from compared
),

changes as (
    -- At the event's first tick in this build its previous state is the latest logged one
    -- (the state of every tick up to a change is the logged one).
    select
        * exclude (
            is_changed_since_previous, is_changed_since_logged, is_merged_since_previous
        ),
        case
            when previous_tick_ts is null then is_changed_since_logged
            else is_changed_since_previous or is_merged_since_previous
        end as is_changed
    from compared_with_merges
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
