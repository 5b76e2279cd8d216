{#-
  ui_notifications_log: one row per event and subscriber scope when the event first reaches the
  alert thresholds (severity >= `alert_min_severity` and |actual - baseline| >=
  `alert_min_impact_units` units) and the subscriber's scope covers it (DESIGN.md section
  8). A rebuild never repeats a notification: an (event, subscriber scope) already logged
  for the run is skipped.
-#}

with

settings as (
    select * from {{ ref('run_settings') }}
),

events as (
    select * from {{ ref('minority_event_log') }}
),

cohorted as (
    select * from {{ ref('minority_reports_cohorted_log') }}
),

stores as (
    select * from {{ ref('stg_stores') }}
),

subscriptions as (
    select * from {{ ref('alert_subscriptions') }}
),

crossings as (
    -- The first MELOG row of each event at or above both thresholds.
    select
        events.report_group_id,
        events.written_at,
        events.severity,
        events.attributed_sales_total - events.baseline_sales_total as impact_units,
        events.proposed_cause_category,
        events.event_status,
        events.store_count,
        events.run_id
    from events
    inner join settings on events.run_id = settings.run_id
    where
        events.severity >= {{ var('alert_min_severity') }}
        and abs(events.attributed_sales_total - events.baseline_sales_total)
        >= {{ var('alert_min_impact_units') }}
        and events.event_status != 'merged'
    qualify row_number() over (
            partition by events.report_group_id order by events.written_at, events.version
        ) = 1
),

event_places as (
    -- Where each crossing event's reports were at that tick.
    select distinct
        crossings.report_group_id,
        stores.region,
        stores.city,
        stores.retailer
    from crossings
    inner join cohorted
        on
            crossings.report_group_id = cohorted.report_group_id
            and crossings.written_at = cohorted.written_at
            and crossings.run_id = cohorted.run_id
    inner join stores on cohorted.store_id = stores.store_id
),

matched as (
    select distinct
        crossings.report_group_id,
        subscriptions.subscriber,
        subscriptions.scope_type,
        subscriptions.scope_value
    from crossings
    cross join subscriptions
    left join event_places on crossings.report_group_id = event_places.report_group_id
    where
        subscriptions.scope_type = 'national'
        or (subscriptions.scope_type = 'region' and event_places.region = subscriptions.scope_value)
        or (subscriptions.scope_type = 'city' and event_places.city = subscriptions.scope_value)
        or (
            subscriptions.scope_type = 'retailer'
            and event_places.retailer = subscriptions.scope_value
        )
        or (
            subscriptions.scope_type = 'cause_category'
            and crossings.proposed_cause_category = subscriptions.scope_value
        )
),

notifications as (
    select
        {{ mrs_id('NT-', [
            'crossings.run_id', 'crossings.report_group_id', 'matched.subscriber',
            'matched.scope_type', 'matched.scope_value'
        ]) }} as notification_id,
        crossings.report_group_id,
        matched.subscriber,
        matched.scope_type,
        matched.scope_value,
        'severity ' || round(crossings.severity, 2) || ' >= {{ var("alert_min_severity") }}'
        || ' and ' || round(abs(crossings.impact_units), 1)
        || ' units from baseline >= {{ var("alert_min_impact_units") }}' as alert_reason,
        crossings.severity,
        crossings.impact_units,
        crossings.proposed_cause_category,
        crossings.event_status,
        crossings.store_count,
        crossings.written_at,
        crossings.run_id
    from crossings
    inner join matched on crossings.report_group_id = matched.report_group_id
),

new_notifications as (
    select notifications.*
    from notifications
    {%- if is_incremental() %}
        where notifications.notification_id not in (
            select logged.notification_id from {{ this }} as logged
        )
    {%- endif %}
)

select * from new_notifications
