-- The reports the optimisers must be protected from (DESIGN.md section 8): approved by an
-- analyst, or not rejected with a final confidence of at least `protection_min_confidence`.
-- Uplift of a protected report is removed from the adjusted sales unless its final cause is
-- paid media (that uplift is what the media models must learn from). A report restated sales
-- superseded no longer exists and protects nothing.
with

reports as (
    select * from {{ ref('minority_reports') }}
),

protected as (
    select
        report_id,
        report_group_id,
        store_id,
        sku,
        window_start,
        coalesce(window_end, last_detected_at) as protected_until,
        window_end is null as is_active,
        direction,
        final_decision,
        final_cause,
        final_cause_category,
        final_confidence,
        final_cause_category != 'paid_media' and direction = 'up' as removes_uplift
    from reports
    where
        report_status != 'superseded'
        and (
            final_decision = 'approved'
            or (
                final_decision != 'rejected'
                and final_confidence >= {{ var('protection_min_confidence') }}
            )
        )
)

select * from protected
