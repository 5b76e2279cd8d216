-- Rejected input rows by input and reason: what a data engineer reads after a build that
-- reported rejections (`dbt compile` then run the compiled query, or paste it into a BI tool).
with

rejections as (
    select
        'unified_sales_data' as input_name,
        error_reason
    from {{ ref('unified_sales_data_errors') }}
    union all
    select
        'stores' as input_name,
        error_reason
    from {{ ref('stores_errors') }}
    union all
    select
        'products' as input_name,
        error_reason
    from {{ ref('products_errors') }}
    union all
    select
        'all_campaign_data' as input_name,
        error_reason
    from {{ ref('all_campaign_data_errors') }}
    union all
    select
        'contextual_data' as input_name,
        error_reason
    from {{ ref('contextual_data_errors') }}
    union all
    select
        'master_narratives' as input_name,
        error_reason
    from {{ ref('master_narratives_errors') }}
    union all
    select
        'cluster_library' as input_name,
        error_reason
    from {{ ref('cluster_library_errors') }}
    union all
    select
        'cause_taxonomy' as input_name,
        error_reason
    from {{ ref('cause_taxonomy_errors') }}
),

counted as (
    select
        input_name,
        error_reason,
        count(*) as rejected_rows
    from rejections
    group by input_name, error_reason
)

select * from counted
order by rejected_rows desc, input_name asc, error_reason asc
