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

{{ mrs_reject_duplicate_keys(['sales_ts', 'store_id', 'sku']) }},

feed_hours as (
    -- How many rows the feed delivered for each hour (rows that passed every rule).
    select
        sales_ts,
        count(*) as hour_rows
    from checked
    where error_reason is null
    group by sales_ts
),

typical_hour as (
    select median(hour_rows) as median_rows
    from feed_hours
),

normal_hours as (
    -- Hours the feed delivered in earnest: at least `sales_normal_hour_share` of its median
    -- hour's rows (a stray row is not an hour of the feed).
    select feed_hours.sales_ts
    from feed_hours
    cross join typical_hour
    where
        feed_hours.hour_rows
        >= {{ var('sales_normal_hour_share') }} * typical_hour.median_rows
),

body_hours as (
    -- Normal hours with at least `sales_body_min_hours` normal hours in the week up to them:
    -- the feed's body, as opposed to a lone hour far from it.
    select sales_ts
    from (
        select
            sales_ts,
            count(*) over (
                order by sales_ts
                range between interval 7 days preceding and current row
            ) as recent_normal_hours,
            count(*) over () as normal_hours
        from normal_hours
    ) as counted
    where recent_normal_hours >= least({{ var('sales_body_min_hours') | int }}, normal_hours)
),

frontier as (
    -- Rows more than `sales_max_lead_hours` after the body's last hour are ahead of the
    -- feed: a mistyped year must not move as_of and zero-fill months of ticks. They are
    -- read again at every build and accepted once the feed has caught up with them.
    select
        {{ dbt.dateadd('hour', var('sales_max_lead_hours') | int, 'max(sales_ts)') }}
            as frontier_ts
    from body_hours
),

verdict as (
    select
        checked.* exclude (error_reason),
        coalesce(
            checked.error_reason,
            case
                when checked.sales_ts > frontier.frontier_ts
                    then concat(
                            'ahead of the feed (after ',
                            strftime(frontier.frontier_ts, '%Y-%m-%d %H:%M'),
                            ', {{ var("sales_max_lead_hours") | int }} h after its last full hour)'
                        )
            end
        ) as error_reason
    from checked
    cross join frontier
)

select * from verdict
