{{ config(materialized='table') }}

with

raw_context as (
    {{ mrs_read_input('contextual_data') }}
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
        raw_context.*,
        {{ mrs_text('raw_context.raw_event_id') }} as event_id,
        lower({{ mrs_text('raw_context.raw_event_type') }}) as event_type,
        lower({{ mrs_text('raw_context.raw_event_subtype') }}) as event_subtype,
        {{ mrs_text('raw_context.raw_event_name') }} as event_name,
        {{ mrs_to_timestamp('raw_context.raw_start_ts') }} as start_ts,
        {{ mrs_to_timestamp('raw_context.raw_end_ts') }} as end_ts,
        {{ mrs_text('raw_context.raw_retailer') }} as retailer,
        {{ mrs_text('raw_context.raw_region') }} as region,
        {{ mrs_text('raw_context.raw_city') }} as city,
        {{ mrs_text('raw_context.raw_store_id') }} as store_id,
        {{ mrs_text('raw_context.raw_sku') }} as sku,
        {{ mrs_text('raw_context.raw_url') }} as url,
        {{ mrs_text('raw_context.raw_severity') }} as severity
    from raw_context
),

ruled as (
    select
        typed.*,
        {{ mrs_reject_reasons(mrs_required_rules('contextual_data') + [
            (mrs_unparseable('typed.raw_start_ts', 'timestamp'), 'unparseable start_ts'),
            (mrs_unparseable('typed.raw_end_ts', 'timestamp'), 'unparseable end_ts'),
            ('typed.end_ts <= typed.start_ts', 'end_ts not after start_ts'),
            ('typed.event_type is not null and taxonomy.cause_category is null',
                'unknown event_type'),
            ('typed.store_id is not null and known_stores.store_id is null',
                'unknown store_id'),
            ('typed.sku is not null and known_products.sku is null', 'unknown sku'),
        ]) }} as rule_reason
    from typed
    left join taxonomy on typed.event_type = taxonomy.cause_category
    left join known_stores on typed.store_id = known_stores.store_id
    left join known_products on typed.sku = known_products.sku
),

{{ mrs_reject_duplicate_keys(['event_id']) }}

select * from checked
