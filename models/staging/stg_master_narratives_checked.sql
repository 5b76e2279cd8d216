{{ config(materialized='table') }}

with

raw_narratives as (
    {{ mrs_read_input('master_narratives') }}
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
        raw_narratives.*,
        {{ mrs_text('raw_narratives.raw_narrative_id') }} as narrative_id,
        {{ mrs_text('raw_narratives.raw_narrative_name') }} as narrative_name,
        {{ mrs_text('raw_narratives.raw_store_id') }} as store_id,
        {{ mrs_text('raw_narratives.raw_sku') }} as sku,
        {{ mrs_to_timestamp('raw_narratives.raw_start_ts') }} as start_ts,
        {{ mrs_to_timestamp('raw_narratives.raw_end_ts') }} as end_ts,
        {{ mrs_text('raw_narratives.raw_cause') }} as cause,
        lower({{ mrs_text('raw_narratives.raw_cause_category') }}) as cause_category,
        {{ mrs_text('raw_narratives.raw_cluster_name') }} as cluster_name,
        {{ mrs_text('raw_narratives.raw_shape') }} as shape,
        {{ mrs_to_double('raw_narratives.raw_magnitude') }} as magnitude,
        {{ mrs_to_double('raw_narratives.raw_confidence') }} as confidence
    from raw_narratives
),

ruled as (
    select
        typed.*,
        {{ mrs_reject_reasons(mrs_required_rules('master_narratives') + [
            (mrs_unparseable('typed.raw_start_ts', 'timestamp'), 'unparseable start_ts'),
            (mrs_unparseable('typed.raw_end_ts', 'timestamp'), 'unparseable end_ts'),
            ('typed.end_ts <= typed.start_ts', 'end_ts not after start_ts'),
            ('typed.cause_category is not null and taxonomy.cause_category is null',
                'unknown cause_category'),
            ('typed.store_id is not null and known_stores.store_id is null',
                'unknown store_id'),
            ('typed.sku is not null and known_products.sku is null', 'unknown sku'),
        ] + mrs_number_rules('master_narratives', 'typed')) }} as rule_reason
    from typed
    left join taxonomy on typed.cause_category = taxonomy.cause_category
    left join known_stores on typed.store_id = known_stores.store_id
    left join known_products on typed.sku = known_products.sku
),

{{ mrs_reject_duplicate_keys(['narrative_id', 'store_id', 'sku']) }}

select * from checked
