-- MRDL: one row per live report per tick, totals cumulative from window_start to the tick
-- (or to window_end on the tick that closes it). Appends only ticks after the newest one
-- logged for the active run.
-- Correction (DESIGN.md section 2): when restated sales change the past, the first new tick
-- also carries a 'superseded' row for every logged report the sales no longer give, and the
-- closing row of every report that the restated sales give but that ended unlogged.
with

settings as (
    select * from {{ ref('run_settings') }}
),

pending_ticks as (
    {{ mrs_pending_ticks() }}
),

reports as (
    select * from {{ ref('anomaly_classifier_decisions') }}
    where decision = 'reported'
),

predictions as (
    select * from {{ ref('baseline_sales_predictions') }}
),

previous_versions as (
    {{ mrs_previous_versions('report_id') }}
),

first_pending_tick as (
    select min(pending_ticks.tick_ts) as tick_ts from pending_ticks
),

logged_reports as (
    -- The latest row of every report this log holds for the active run.
    {%- if is_incremental() %}
        select logged.*
        from {{ this }} as logged
        where logged.run_id = (select settings.run_id from settings)
        qualify row_number() over (
            partition by logged.report_id order by logged.version desc
        ) = 1
    {%- else %}
        {{ mrs_no_logged_state({'report_id': 'varchar', 'report_status': 'varchar'}) }}
    {%- endif %}
),

live as (
    select
        reports.*,
        pending_ticks.tick_ts,
        case
            when reports.closed_tick <= pending_ticks.tick_ts then reports.window_end
        end as window_end_at_tick
    from reports
    inner join pending_ticks
        on
            reports.confirmed_tick <= pending_ticks.tick_ts
            -- an open report lasts to the last tick (a range join, as in the classifier's log)
            and coalesce(reports.closed_tick, 'infinity'::timestamp) >= pending_ticks.tick_ts
    union all
    -- Reports that ended before this build's ticks without ever being logged (the restated
    -- sales give them now): their closing row, at the first new tick.
    select
        reports.*,
        first_pending_tick.tick_ts,
        reports.window_end as window_end_at_tick
    from reports
    inner join first_pending_tick on reports.closed_tick < first_pending_tick.tick_ts
    where reports.report_id not in (select logged_reports.report_id from logged_reports)
),

report_hours as (
    select
        reports.report_id,
        predictions.sales_ts,
        predictions.model_version as baseline_model_version,
        sum(predictions.actual_units) over running as attributed_sales_total,
        sum(predictions.expected_units) over running as baseline_sales_total,
        sum(predictions.residual_units) over running as residual_total,
        sum(predictions.variance_units) over running as variance_total,
        count(*) over running as elapsed_hours
    from reports
    inner join predictions
        on
            reports.store_id = predictions.store_id
            and reports.sku = predictions.sku
            and predictions.sales_ts >= reports.window_start
            -- Up to the closing tick, not the window end: ticks before the closure was
            -- known report the totals up to the tick (tick equivalence).
            and (reports.closed_tick is null or reports.closed_tick > predictions.sales_ts)
    window running as (
        partition by reports.report_id
        order by predictions.sales_ts
        rows between unbounded preceding and current row
    )
),

snapshots as (
    select
        live.report_id,
        live.store_id,
        live.sku,
        live.window_start as first_detected_from,
        live.window_start,
        live.window_end_at_tick as window_end,
        report_hours.attributed_sales_total,
        report_hours.baseline_sales_total,
        report_hours.attributed_sales_total
        - report_hours.baseline_sales_total as impact_estimate,
        report_hours.residual_total / sqrt(report_hours.variance_total) as z_score,
        -- Severity grows with the relative size of the change and, for the first six
        -- hours, with its duration; 0 to 1 whatever the scale of the series.
        1 - exp(
            -abs(report_hours.attributed_sales_total - report_hours.baseline_sales_total)
            / greatest(report_hours.baseline_sales_total, 1.0)
            * least(1.0, report_hours.elapsed_hours / 6.0)
        ) as severity_score,
        live.direction,
        live.tick_ts as written_at,
        live.model_version,
        report_hours.baseline_model_version
    from live
    inner join report_hours
        on
            live.report_id = report_hours.report_id
            and report_hours.sales_ts
            = {{ dbt.dateadd('hour', -1, 'coalesce(live.window_end_at_tick, live.tick_ts)') }}
),

logged as (
    select
        snapshots.report_id,
        snapshots.store_id,
        snapshots.sku,
        snapshots.first_detected_from,
        snapshots.window_start,
        snapshots.window_end,
        round(snapshots.severity_score, 4) as severity_score,
        case
            when snapshots.severity_score >= 0.8 then 'critical'
            when snapshots.severity_score >= 0.55 then 'high'
            when snapshots.severity_score >= 0.3 then 'medium'
            else 'low'
        end as severity_band,
        round(snapshots.impact_estimate, 4) as impact_estimate,
        round(snapshots.attributed_sales_total, 4) as attributed_sales_total,
        round(snapshots.baseline_sales_total, 4) as baseline_sales_total,
        round(snapshots.z_score, 4) as z_score,
        snapshots.direction,
        'detected' as report_status,
        snapshots.written_at,
        settings.run_id,
        snapshots.model_version,
        snapshots.baseline_model_version
    from snapshots
    cross join settings
),

superseded as (
    -- Logged reports the restated sales no longer give: their last state, marked superseded.
    {%- if is_incremental() %}
    select
        logged_reports.* exclude (version, report_status, written_at),
        'superseded' as report_status,
        first_pending_tick.tick_ts as written_at
    from logged_reports
    inner join first_pending_tick on first_pending_tick.tick_ts is not null
    where
        logged_reports.report_status != 'superseded'
        and logged_reports.report_id not in (select reports.report_id from reports)
    {%- else %}
        select * from logged
        where false
    {%- endif %}
),

corrected as (
    select * from logged
    union all by name
    select * from superseded
)

{{ mrs_select_with_versions('corrected') }}
