-- The classifier's decisions with their ids, versions and the ticks at which they become
-- visible: a report is first written at the tick after its onset was confirmed, and its
-- closure at the tick after its closure hours (and never before its minimum duration).
-- A window whose sharp evidence reached only the store's lower bar
-- (`anomaly_store_onset_evidence`) is a report too where at least
-- `anomaly_store_corroboration` other products of its store report in the same direction from
-- the same hours (a power cut, a closure, a local event starts them together), confirmed when
-- the last of those is known; only reports on their own evidence corroborate, so one
-- corroborated report never carries the next.
-- Computed whole, but only the rows that changed are written (issue 18: strategy
-- replace_changed_rows, by `row_digest`).
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_rows',
    on_schema_change='fail',
) }}

with

classified as (
    select * from {{ ref('anomaly_classifier_model') }}
),

own_reports as (
    select
        store_id,
        sku,
        direction,
        window_start,
        onset_confirmed_ts
    from classified
    where decision = 'reported'
),

corroborating_reports as (
    -- Per weak onset, each other product of the store whose report starts within
    -- `anomaly_store_onset_hours` of the weak onset's start, and before its confirmation,
    -- at its earliest confirmation.
    select
        weak.store_id,
        weak.sku,
        weak.direction,
        weak.first_elevated_ts,
        mates.sku as corroborating_sku,
        min(mates.onset_confirmed_ts) as corroborating_confirmed_ts
    from classified as weak
    inner join own_reports as mates
        on
            weak.store_id = mates.store_id
            and weak.direction = mates.direction
            and weak.sku != mates.sku
            -- one cause starts them together
            and abs({{ dbt.datediff('weak.weak_window_start', 'mates.window_start', 'hour') }})
            <= {{ var('anomaly_store_onset_hours') | int }}
            and weak.weak_onset_confirmed_ts >= mates.window_start
    where weak.weak_onset_confirmed_ts is not null
    group by weak.store_id, weak.sku, weak.direction, weak.first_elevated_ts, mates.sku
),

corroborations as (
    -- Known from the hour the last corroborating report needed is confirmed (so every tick
    -- that sees it decides the same).
    select
        store_id,
        sku,
        direction,
        first_elevated_ts,
        list(corroborating_confirmed_ts order by corroborating_confirmed_ts)[
            {{ var('anomaly_store_corroboration') | int }}
        ] as corroborated_ts
    from corroborating_reports
    group by store_id, sku, direction, first_elevated_ts
    having count(*) >= {{ var('anomaly_store_corroboration') | int }}
),

corroborated as (
    select
        classified.*,
        -- (greatest() would skip a missing corroboration)
        case
            when corroborations.corroborated_ts is not null
                then greatest(classified.weak_onset_confirmed_ts, corroborations.corroborated_ts)
        end as corroborated_onset_ts
    from classified
    left join corroborations
        on
            classified.store_id = corroborations.store_id
            and classified.sku = corroborations.sku
            and classified.direction = corroborations.direction
            and classified.first_elevated_ts = corroborations.first_elevated_ts
),

preferred as (
    -- The earlier of the window's own onset and its corroborated one.
    select
        * exclude (
            decision, onset_confirmed_ts, window_start, window_end, onset_evidence,
            corroborated_onset_ts
        ),
        is_store_corroborated,
        case when is_store_corroborated then 'reported' else decision end as decision,
        case
            when is_store_corroborated then corroborated_onset_ts else onset_confirmed_ts
        end as onset_confirmed_ts,
        case when is_store_corroborated then weak_window_start else window_start end
            as window_start,
        case when is_store_corroborated then weak_window_end else window_end end as window_end,
        case when is_store_corroborated then weak_onset_evidence else onset_evidence end
            as onset_evidence
    from (
        select
            *,
            coalesce(
                corroborated_onset_ts is not null
                and (decision != 'reported' or corroborated_onset_ts < onset_confirmed_ts),
                false
            ) as is_store_corroborated
        from corroborated
    ) as compared
),

overtaken as (
    -- A corroborated window whose hours a later report of the series had already taken in
    -- (the classifier carried the window into it as dismissed, and that report was confirmed
    -- no later than the corroboration): those hours are that report's, the window stays
    -- dismissed. Whichever was known first stands, so every tick decides the same.
    select distinct
        earlier.store_id,
        earlier.sku,
        earlier.direction,
        earlier.first_elevated_ts
    from preferred as earlier
    inner join preferred as later
        on
            earlier.store_id = later.store_id
            and earlier.sku = later.sku
            and earlier.direction = later.direction
            and earlier.first_elevated_ts < later.first_elevated_ts
            and earlier.window_end > later.window_start
            and earlier.onset_confirmed_ts >= later.onset_confirmed_ts
    where earlier.is_store_corroborated and later.decision = 'reported'
),

chosen as (
    -- Each window as preferred, an overtaken one as the classifier decided it.
    select preferred.*
    from preferred
    left join overtaken
        on
            preferred.store_id = overtaken.store_id
            and preferred.sku = overtaken.sku
            and preferred.direction = overtaken.direction
            and preferred.first_elevated_ts = overtaken.first_elevated_ts
    where overtaken.sku is null
    union all by name
    select
        classified.*,
        false as is_store_corroborated
    from classified
    inner join overtaken
        on
            classified.store_id = overtaken.store_id
            and classified.sku = overtaken.sku
            and classified.direction = overtaken.direction
            and classified.first_elevated_ts = overtaken.first_elevated_ts
),

corroborated_reports as (
    select
        store_id,
        sku,
        direction,
        first_elevated_ts,
        window_end
    from chosen
    where is_store_corroborated and window_end is not null
),

latest_corroborated as (
    -- Each report's latest corroborated report of its series before it (a join of the few
    -- corroborated reports, not an as-of join over every window).
    select
        chosen.store_id,
        chosen.sku,
        chosen.direction,
        chosen.first_elevated_ts,
        max_by(earlier.window_end, earlier.first_elevated_ts) as window_end
    from chosen
    inner join corroborated_reports as earlier
        on
            chosen.store_id = earlier.store_id
            and chosen.sku = earlier.sku
            and chosen.direction = earlier.direction
            and chosen.first_elevated_ts > earlier.first_elevated_ts
    where chosen.decision = 'reported'
    group by chosen.store_id, chosen.sku, chosen.direction, chosen.first_elevated_ts
),

decisions as (
    -- A later report of the series that the classifier back-dated into a corroborated one
    -- (the windows it carried were dismissed, to the classifier) and that came after it
    -- starts where that one ended: its hours are reported once, and the two ids differ.
    select
        chosen.* exclude (window_start),
        case
            when earlier.window_end > chosen.window_start then earlier.window_end
            else chosen.window_start
        end as window_start
    from chosen
    left join latest_corroborated as earlier
        on
            chosen.store_id = earlier.store_id
            and chosen.sku = earlier.sku
            and chosen.direction = earlier.direction
            and chosen.first_elevated_ts = earlier.first_elevated_ts
),

candidate_hours as (
    select * from {{ ref('anomaly_candidate_hours') }}
),

candidate_since as (
    -- A window is a candidate from its onset_hours-th elevated hour on: only then is it
    -- known to the classifier, whichever tick computes it. (The elevated hours only, and
    -- the first few of each window kept, not a sorted list of all its hours.)
    select
        candidate_window_id,
        min_by(sales_ts, sales_ts, {{ var('anomaly_onset_hours') | int }})[
            {{ var('anomaly_onset_hours') | int }}
        ] as candidate_since_ts
    from candidate_hours
    where is_elevated and is_in_window
    group by candidate_window_id
),

keyed_decisions as (
    select
        *,
        {{ mrs_id('CW-', ['store_id', 'sku', 'direction', 'first_elevated_ts']) }}
            as candidate_window_id
    from decisions
),

identified as (
    select
        decisions.candidate_window_id,
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
        decisions.is_store_corroborated,
        candidate_since.candidate_since_ts,
        '{{ mrs_model_version("anomaly_classifier_model") }}' as model_version
    from keyed_decisions as decisions
    left join candidate_since
        on decisions.candidate_window_id = candidate_since.candidate_window_id
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
),

digested as (
    select
        *,
        -- the whole row: a row that differs from the kept one in any column replaces it
        hash(timed) as row_digest
    from timed
)

select * from digested
