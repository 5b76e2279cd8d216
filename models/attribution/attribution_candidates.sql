-- Every (report snapshot, evidence row) pair that could explain the report: the evidence's
-- influence window [start - lead, end + lag) overlaps the report so far, and its scope
-- (store, city, region, retailer, product; null = all) covers the report's store and sku.
-- The columns describe the pair for the attribution model's scorer.
{%- set lead = var('attribution_lead_hours') | int %}
{%- set lag = var('attribution_lag_hours') | int %}

with

snapshots as (
    select * from {{ ref('report_snapshots') }}
),

campaigns as (
    select * from {{ ref('stg_all_campaign_data') }}
),

context as (
    select * from {{ ref('stg_contextual_data') }}
),

evidence as (
    select
        campaigns.campaign_id as evidence_id,
        'campaign' as evidence_type,
        coalesce(campaigns.campaign_name, campaigns.campaign_id) as evidence_name,
        campaigns.cause_category,
        {{ dbt.dateadd('hour', -lead, 'campaigns.start_ts') }} as influence_start,
        {{ dbt.dateadd('hour', lag, 'campaigns.end_ts') }} as influence_end,
        campaigns.start_ts,
        campaigns.store_id,
        campaigns.city,
        campaigns.region,
        campaigns.retailer,
        campaigns.sku
    from campaigns
    union all
    select
        context.event_id as evidence_id,
        'context' as evidence_type,
        coalesce(context.event_name, context.event_subtype, context.event_id)
            as evidence_name,
        context.event_type as cause_category,
        {{ dbt.dateadd('hour', -lead, 'context.start_ts') }} as influence_start,
        {{ dbt.dateadd('hour', lag, 'context.end_ts') }} as influence_end,
        context.start_ts,
        context.store_id,
        context.city,
        context.region,
        context.retailer,
        context.sku
    from context
),

pairs as (
    select
        snapshots.report_id,
        snapshots.written_at,
        evidence.evidence_id,
        evidence.evidence_type,
        evidence.evidence_name,
        evidence.cause_category,
        case
            when evidence.store_id is not null then 'store'
            when evidence.city is not null then 'city'
            when evidence.region is not null then 'region'
            when evidence.retailer is not null then 'retailer'
            else 'national'
        end as scope_level,
        evidence.sku is not null as is_sku_specific,
        greatest(snapshots.window_start, evidence.influence_start) as overlap_start,
        least(snapshots.window_end_so_far, evidence.influence_end) as overlap_end,
        greatest(
            {{ mrs_hours_between('snapshots.window_start', 'snapshots.window_end_so_far') }},
            1.0
        ) as report_hours,
        {{ mrs_hours_between('evidence.start_ts', 'snapshots.window_start') }} as onset_gap_hours,
        snapshots.direction,
        snapshots.cluster_cause_category
    from snapshots
    inner join evidence
        on
            snapshots.window_end_so_far > evidence.influence_start
            and snapshots.window_start < evidence.influence_end
            and {{ mrs_in_scope(
                'evidence', 'snapshots', ['store_id', 'city', 'region', 'retailer', 'sku']
            ) }}
),

described as (
    select
        report_id,
        written_at,
        evidence_id,
        evidence_type,
        evidence_name,
        cause_category,
        scope_level,
        is_sku_specific,
        {{ mrs_hours_between('overlap_start', 'overlap_end') }} / report_hours as overlap_share,
        onset_gap_hours,
        direction,
        cluster_cause_category
    from pairs
)

select * from described
