{{ config(materialized='table') }}

with

raw_sales as (
    {{ mrs_read_input('unified_sales_data') }}
),

known_stores as (
    select store_id from {{ ref('stg_stores') }}
),

known_products as (
    select sku from {{ ref('stg_products') }}
),

typed as (
    select
        raw_sales.*,
        {{ mrs_to_timestamp('raw_sales.raw_sales_ts') }} as sales_ts,
        {{ mrs_text('raw_sales.raw_store_id') }} as store_id,
        {{ mrs_text('raw_sales.raw_sku') }} as sku,
        {{ mrs_to_double('raw_sales.raw_units') }} as units,
        {{ mrs_to_double('raw_sales.raw_revenue') }} as revenue
    from raw_sales
),

ruled as (
    select
        typed.*,
        -- Units and revenue parse, are finite and lie within the contract's bounds.
        {{ mrs_reject_reasons(mrs_required_rules('unified_sales_data') + [
            (mrs_unparseable('typed.raw_sales_ts', 'timestamp'), 'unparseable sales_ts'),
            ("typed.sales_ts != date_trunc('hour', typed.sales_ts)",
                'sales_ts not on the hour'),
        ] + mrs_number_rules('unified_sales_data', 'typed') + [
            ('typed.store_id is not null and known_stores.store_id is null',
                'unknown store_id'),
            ('typed.sku is not null and known_products.sku is null', 'unknown sku'),
        ]) }} as rule_reason
    from typed
    left join known_stores on typed.store_id = known_stores.store_id
    left join known_products on typed.sku = known_products.sku
),

{{ mrs_reject_duplicate_keys(['sales_ts', 'store_id', 'sku']) }}

select * from checked
