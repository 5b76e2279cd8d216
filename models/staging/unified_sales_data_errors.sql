with

checked as (
    select * from {{ ref('stg_unified_sales_data_checked') }}
),

frontier as (
    select * from {{ ref('stg_unified_sales_data_frontier') }}
),

rejected as (
    -- Rows that failed a check, and rows ahead of the feed (judged again at every build).
    select
        checked.source_file,
        checked.source_row_number,
        {{ mrs_raw_columns('unified_sales_data', 'checked') }},
        coalesce(
            checked.error_reason,
            {{ mrs_ahead_of_feed_reason('checked.sales_ts', 'frontier.frontier_ts') }}
        ) as error_reason
    from checked
    cross join frontier
    where
        checked.error_reason is not null
        or checked.sales_ts > frontier.frontier_ts
)

select * from rejected
