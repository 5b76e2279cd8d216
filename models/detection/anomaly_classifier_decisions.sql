-- The classifier's decisions with their ids, versions and the ticks at which they become
-- visible: a report is first written at the tick after its onset was confirmed, and its
-- closure at the tick after its closure hours (and never before its minimum duration).
with

decisions as (
    select * from {{ ref('anomaly_classifier_model') }}
),

candidate_hours as (
    select * from {{ ref('anomaly_candidate_hours') }}
),

candidate_since as (
    -- A window is a candidate from its onset_hours-th elevated hour on: only then is it
    -- known to the classifier, whichever tick computes it.
    select
        candidate_window_id,
        list(sales_ts order by sales_ts) filter (where is_elevated and is_in_window)[
            {{ var('anomaly_onset_hours') | int }}
        ] as candidate_since_ts
    from candidate_hours
    group by candidate_window_id
),

identified as (
    select
        {{ mrs_id('CW-', [
            'decisions.store_id', 'decisions.sku', 'decisions.direction',
            'decisions.first_elevated_ts'
        ]) }}
            as candidate_window_id,
        case
            when decisions.decision = 'reported'
                then {{ mrs_id('MR-', [
                    'decisions.store_id', 'decisions.sku', 'decisions.window_start'
                ]) }}
        end as report_id,
        cast(decisions.store_id as varchar) as store_id,
        cast(decisions.sku as varchar) as sku,
        cast(decisions.direction as varchar) as direction,
        cast(decisions.first_elevated_ts as timestamp) as first_elevated_ts,
        cast(decisions.decision as varchar) as decision,
        cast(decisions.onset_confirmed_ts as timestamp) as onset_confirmed_ts,
        cast(decisions.window_start as timestamp) as window_start,
        cast(decisions.window_end as timestamp) as detected_window_end,
        cast(decisions.closure_ts as timestamp) as closure_ts,
        cast(decisions.onset_evidence as double) as onset_evidence,
        candidate_since.candidate_since_ts,
        '{{ mrs_model_version("anomaly_classifier_model") }}' as model_version
    from decisions
    left join candidate_since
        on
            {{ mrs_id('CW-', [
                'decisions.store_id', 'decisions.sku', 'decisions.direction',
                'decisions.first_elevated_ts'
            ]) }} = candidate_since.candidate_window_id
),

timed as (
    select
        *,
        -- greatest() skips nulls: an open report must keep a null end.
        case
            when detected_window_end is not null
                then greatest(
                        detected_window_end,
                    {{ dbt.dateadd(
                        'hour', var('anomaly_min_duration_hours') | int, 'window_start'
                    ) }}
                    )
        end as window_end,
        {{ mrs_tick_at_or_after(dbt.dateadd(
            'hour', 1, 'coalesce(candidate_since_ts, onset_confirmed_ts)'
        )) }} as first_seen_tick,
        {{ mrs_tick_at_or_after(dbt.dateadd('hour', 1, 'onset_confirmed_ts')) }}
            as confirmed_tick,
        case
            when decision = 'reported' and detected_window_end is not null
                then {{ mrs_tick_at_or_after(
                    'greatest(' ~ dbt.dateadd('hour', 1, 'closure_ts') ~ ', '
                    ~ dbt.dateadd('hour', var('anomaly_min_duration_hours') | int, 'window_start')
                    ~ ')'
                ) }}
            when decision = 'dismissed'
                then {{ mrs_tick_at_or_after(dbt.dateadd('hour', 1, 'closure_ts')) }}
        end as closed_tick
    from identified
)

select * from timed
