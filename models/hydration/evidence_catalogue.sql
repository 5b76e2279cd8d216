-- Every campaign and context row an attribution can cite, under one id column: what the
-- review app shows (and links) for a report's supporting evidence.
with

campaigns as (
    select * from {{ ref('stg_all_campaign_data') }}
),

context as (
    select * from {{ ref('stg_contextual_data') }}
),

catalogue as (
    select
        campaign_id as evidence_id,
        'campaign' as evidence_kind,
        campaign_name as evidence_name,
        cause_category,
        channel as detail,
        start_ts,
        end_ts,
        cast(null as varchar) as url
    from campaigns
    union all
    select
        event_id as evidence_id,
        'context' as evidence_kind,
        event_name as evidence_name,
        event_type as cause_category,
        event_subtype as detail,
        start_ts,
        end_ts,
        url
    from context
)

select * from catalogue
