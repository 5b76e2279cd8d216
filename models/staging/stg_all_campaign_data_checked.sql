{{ config(materialized='table') }}

with

raw_campaigns as (
    {{ mrs_read_input('all_campaign_data') }}
),

taxonomy as (
    select cause_category from {{ ref('stg_cause_taxonomy') }}
),

known_stores as (
    select store_id from {{ ref('stg_stores') }}
),

known_products as (
    select sku from {{ ref('stg_products') }}
),

typed as (
    select
        raw_campaigns.*,
        {{ mrs_text('raw_campaigns.raw_campaign_id') }} as campaign_id,
        {{ mrs_text('raw_campaigns.raw_campaign_name') }} as campaign_name,
        {{ mrs_text('raw_campaigns.raw_channel') }} as channel,
        lower({{ mrs_text('raw_campaigns.raw_cause_category') }}) as cause_category,
        {{ mrs_to_timestamp('raw_campaigns.raw_start_ts') }} as start_ts,
        {{ mrs_to_timestamp('raw_campaigns.raw_end_ts') }} as end_ts,
        {{ mrs_text('raw_campaigns.raw_sku') }} as sku,
        {{ mrs_text('raw_campaigns.raw_retailer') }} as retailer,
        {{ mrs_text('raw_campaigns.raw_region') }} as region,
        {{ mrs_text('raw_campaigns.raw_city') }} as city,
        {{ mrs_text('raw_campaigns.raw_store_id') }} as store_id,
        {{ mrs_to_double('raw_campaigns.raw_spend') }} as spend
    from raw_campaigns
),

ruled as (
    select
        typed.*,
        {{ mrs_reject_reasons(mrs_required_rules('all_campaign_data') + [
            (mrs_unparseable('typed.raw_start_ts', 'timestamp'), 'unparseable start_ts'),
            (mrs_unparseable('typed.raw_end_ts', 'timestamp'), 'unparseable end_ts'),
            ('typed.end_ts <= typed.start_ts', 'end_ts not after start_ts'),
            ('typed.cause_category is not null and taxonomy.cause_category is null',
                'unknown cause_category'),
            ('typed.store_id is not null and known_stores.store_id is null',
                'unknown store_id'),
            ('typed.sku is not null and known_products.sku is null', 'unknown sku'),
        ] + mrs_number_rules('all_campaign_data', 'typed')) }} as rule_reason
    from typed
    left join taxonomy on typed.cause_category = taxonomy.cause_category
    left join known_stores on typed.store_id = known_stores.store_id
    left join known_products on typed.sku = known_products.sku
),

{{ mrs_reject_duplicate_keys(['campaign_id']) }}

select * from checked
