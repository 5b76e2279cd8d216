{{ config(materialized='table') }}

with

raw_stores as (
    {{ mrs_read_input('stores') }}
),

typed as (
    select
        *,
        {{ mrs_text('raw_store_id') }} as store_id,
        {{ mrs_text('raw_store_name') }} as store_name,
        {{ mrs_text('raw_retailer') }} as retailer,
        {{ mrs_text('raw_region') }} as region,
        {{ mrs_text('raw_city') }} as city,
        {{ mrs_to_double('raw_latitude') }} as latitude,
        {{ mrs_to_double('raw_longitude') }} as longitude
    from raw_stores
),

ruled as (
    select
        *,
        {{ mrs_reject_reasons(mrs_required_rules('stores') + mrs_number_rules('stores')) }}
            as rule_reason
    from typed
),

{{ mrs_reject_duplicate_keys(['store_id']) }}

select * from checked
