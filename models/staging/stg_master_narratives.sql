with

checked as (
    select * from {{ ref('stg_master_narratives_checked') }}
),

accepted as (
    select
        narrative_id,
        narrative_name,
        store_id,
        sku,
        start_ts,
        end_ts,
        cause,
        cause_category,
        cluster_name,
        shape,
        magnitude,
        confidence
    from checked
    where error_reason is null
)

select * from accepted
