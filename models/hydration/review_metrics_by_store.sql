{#-
  The headline figures of the review app's All reports page, per store of the active run.
  Every column is a count or a sum, so the figures of any set of stores (a reviewer's scope,
  a BI tool's filter) are the sums of its rows; the auto-attribution rate is
  reports_approved_as_proposed / reports_approved over those rows.
-#}
with

settings as (
    select * from {{ ref('run_settings') }}
),

reports as (
    select * from {{ ref('minority_reports') }}
),

classified as (
    select
        reports.run_id,
        reports.store_id,
        -- Recent on the build's clock (as_of), not today's date.
        coalesce(
            reports.window_start
            > settings.as_of - interval ({{ var('review_recent_days') | int }}) day
            and reports.window_start <= settings.as_of,
            false
        ) as is_recent,
        reports.final_decision = 'pending' as is_pending,
        reports.final_decision = 'approved' as is_approved,
        coalesce(
            reports.final_decision = 'approved'
            and reports.final_cause = reports.proposed_cause
            and reports.final_cause_category = reports.proposed_cause_category,
            false
        ) as is_approved_as_proposed,
        case
            when reports.final_decision = 'approved'
                then abs(reports.attributed_sales_total - reports.baseline_sales_total)
        end as protected_units
    from reports
    cross join settings
),

per_store as (
    select
        run_id,
        store_id,
        count(*) as reports,
        count(*) filter (where is_recent) as reports_recent,
        count(*) filter (where is_pending) as reports_pending,
        count(*) filter (where is_approved) as reports_approved,
        count(*) filter (where is_approved_as_proposed) as reports_approved_as_proposed,
        -- Exact decimals: the same sum whatever order threads add the reports in.
        cast(
            coalesce(sum(cast(protected_units as decimal(38, 6))), 0) as double
        ) as protected_units
    from classified
    group by run_id, store_id
)

select * from per_store
