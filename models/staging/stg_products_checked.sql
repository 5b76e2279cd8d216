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

ranked as (
    select
        *,
        {{ mrs_duplicate_rank(['sku']) }} as key_rank
    from ruled
),

checked as (
    select
        *,
        coalesce(
            rule_reason,
            case when key_rank > 1 then 'duplicate key (sku)' end
        ) as error_reason
    from ranked
)

select * from checked
