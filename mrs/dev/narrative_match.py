"""Which narrative a detected report belongs to, the one rule every score against
master_narratives uses (mrs.dev.evaluation, mrs.dev.cluster_ceiling)."""

# A report belongs to a narrative row when it is on the same store and sku and overlaps the
# narrative's window, with 6 hours of slack either side (back-dating, late closure).
REPORT_NARRATIVES = """
with reports as (
    select report_id, store_id, sku, min(window_start) as window_start,
           max(window_end) as window_end, max(window_end) is null as is_open
    from minority_reports_detected_log group by report_id, store_id, sku
)
select n.narrative_id, n.store_id, n.sku, n.start_ts, n.end_ts, n.cluster_name, n.magnitude,
       r.report_id, r.window_start, r.window_end, r.is_open
from stg_master_narratives as n
left join reports as r
    on n.store_id = r.store_id and n.sku = r.sku
    and r.window_start < n.end_ts + interval 6 hour
    and coalesce(r.window_end, timestamp '2100-01-01') > n.start_ts - interval 6 hour
"""
