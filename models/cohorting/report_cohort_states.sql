-- The state of every report cohorting considers at each tick of the active run: reports
-- live at the tick, and ended ones for `cohort_lookback_hours` after their last snapshot
-- (a later report can still overlap them). Each carries its latest attribution and cluster
-- at or before the tick (an as-of join). A report restated sales superseded leaves from the
-- tick of its 'superseded' row on. Only from the newest tick the cohort logs hold on
-- (mrs_cohort_resume_tick): earlier ticks are logged and never change.
with

ticks as (
    select * from {{ ref('ticks') }}
),

settings as (
    select * from {{ ref('run_settings') }}
),

attributed as (
    select * from {{ ref('minority_reports_proposed_attribution_log') }}
),

clustered as (
    select * from {{ ref('minority_reports_clustered_log') }}
),

snapshots as (
    select
        attributed.report_id,
        attributed.written_at,
        attributed.store_id,
        attributed.sku,
        attributed.first_detected_from,
        attributed.window_start,
        attributed.window_end,
        attributed.severity_score,
        attributed.impact_estimate,
        attributed.attributed_sales_total,
        attributed.baseline_sales_total,
        attributed.proposed_cause,
        attributed.proposed_cause_category,
        attributed.confidence_score,
        attributed.report_status,
        clustered.cluster_name
    from attributed
    inner join settings on attributed.run_id = settings.run_id
    left join clustered
        on
            attributed.report_id = clustered.report_id
            and attributed.written_at = clustered.written_at
            and attributed.run_id = clustered.run_id
),

report_spans as (
    select
        report_id,
        min(written_at) as first_tick,
        max(written_at) filter (where report_status != 'superseded') as last_tick,
        min(written_at) filter (where report_status = 'superseded') as superseded_tick
    from snapshots
    group by report_id
),

considered as (
    select
        ticks.tick_ts,
        report_spans.report_id,
        report_spans.last_tick
    from ticks
    inner join report_spans
        on
            ticks.tick_ts >= report_spans.first_tick
            and ticks.tick_ts <= {{ dbt.dateadd(
                'hour', var('cohort_lookback_hours') | int, 'report_spans.last_tick'
            ) }}
            and ticks.tick_ts < coalesce(report_spans.superseded_tick, 'infinity'::timestamp)
    where ticks.tick_ts >= {{ mrs_cohort_resume_tick() }}
),

states as (
    select
        considered.tick_ts,
        snapshots.*,
        snapshots.written_at = considered.tick_ts as is_live
    from considered
    asof inner join snapshots
        on
            considered.report_id = snapshots.report_id
            and considered.tick_ts >= snapshots.written_at
)

select * from states
