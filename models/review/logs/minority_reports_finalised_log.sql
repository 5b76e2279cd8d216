{#-
  MRFL: one row per report and change of its final state (DESIGN.md section 7). A build
  looks at the ticks it has not logged yet and at the last tick (where an edit recorded after
  its tick was built takes effect), and appends a row where the final state differs from the
  report's previous state: the previous point of this build, or the last row logged.
-#}
{%- set state_columns = [
    'report_group_id', 'event_status', 'window_start', 'window_end', 'severity_score',
    'impact_estimate', 'attributed_sales_total', 'baseline_sales_total', 'cluster_name',
    'proposed_cause', 'proposed_cause_category', 'confidence_score', 'final_decision',
    'review_status', 'final_cause', 'final_cause_category', 'final_confidence',
    'finalized_at', 'annotation_id', 'added_evidence', 'is_degraded'
] %}

with

final_states as (
    select * from {{ ref('report_final_states') }}
),

settings as (
    select * from {{ ref('run_settings') }}
),

pending_ticks as (
    {{ mrs_pending_ticks() }}
),

previous_versions as (
    {{ mrs_previous_versions('report_id') }}
),

last_logged as (
    {%- if is_incremental() %}
        select logged.*
        from {{ this }} as logged
        inner join settings on logged.run_id = settings.run_id
        qualify row_number() over (
            partition by logged.report_id order by logged.version desc
        ) = 1
    {%- else %}
        {{ mrs_no_logged_state({'report_id': 'varchar'}, state_columns) }}
    {%- endif %}
),

candidates as (
    select final_states.*
    from final_states
    where
        final_states.tick_ts in (select pending_ticks.tick_ts from pending_ticks)
        or final_states.tick_ts = (select max(all_states.tick_ts) from final_states as all_states)
),

compared as (
    select
        candidates.*,
        row_number() over report_points = 1 as is_first_point,
        last_logged.report_id is not null as has_logged_row,
    {%- for column in state_columns %}
        case
            when row_number() over report_points = 1
                then (candidates.{{ column }} is distinct from last_logged.{{ column }})
            else (
                candidates.{{ column }}
                is distinct from lag(candidates.{{ column }}) over report_points
                )
        end as is_changed_{{ column }}
        {{- "," if not loop.last }}
    {%- endfor %}
    from candidates
    left join last_logged on candidates.report_id = last_logged.report_id
    window report_points as (partition by candidates.report_id order by candidates.tick_ts)
),

changed as (
    select
        report_id,
        report_group_id,
        event_status,
        store_id,
        sku,
        first_detected_from,
        window_start,
        window_end,
        severity_score,
        impact_estimate,
        attributed_sales_total,
        baseline_sales_total,
        cluster_name,
        proposed_cause,
        proposed_cause_category,
        confidence_score,
        cohort_name,
        report_status,
        final_decision,
        review_status,
        final_cause,
        final_cause_category,
        final_confidence,
        finalized_at,
        annotation_id,
        added_evidence,
        source_used_group_id,
        source_used_proposed,
        source_used_decision,
        source_used_structure,
        source_used_window_start,
        source_used_window_end,
        is_degraded,
        degraded_reasons,
        tick_ts as written_at
    from compared
    where
        (is_first_point and not has_logged_row)
        {%- for column in state_columns %}
            or is_changed_{{ column }}
        {%- endfor %}
),

logged as (
    select
        changed.*,
        settings.run_id
    from changed
    cross join settings
)

{{ mrs_select_with_versions('logged') }}
