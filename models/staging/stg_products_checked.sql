{{ config(materialized='table') }}

with

raw_products as (
    {{ mrs_read_input('products') }}
),

typed as (
    select
        *,
        {{ mrs_text('raw_sku') }} as sku,
        {{ mrs_text('raw_product_name') }} as product_name,
        {{ mrs_text('raw_brand') }} as brand,
        {{ mrs_text('raw_category') }} as category
    from raw_products
),

ruled as (
    select
        *,
        {{ mrs_reject_reasons(mrs_required_rules('products')) }} as rule_reason
    from typed
),

{{ mrs_reject_duplicate_keys(['sku']) }}

select * from checked
