{{ config(materialized='table') }}

-- One digest per sales day of the sales input as read: its rows' values, positions and
-- file, the reference inputs its keys are checked against and the text of the row checks;
-- and, hour by hour, the same digest of the day's rows up to that hour.
-- stg_unified_sales_data_checked checks again only the hours whose digest changed: an hourly
-- tick's new hour, a restated hour and the hours of its day after it.
-- A Parquet file's rows are digested as typed, with the columns' types and the session's
-- time zone (what their text depends on), not as the text staging casts them to: the same
-- change of rows, for about a quarter of the time (issue 18). (DuckDB hashes 0.0 and -0.0
-- alike, and every NaN: they stage as equal numbers, or as the same rejection.)
{%- set row_columns = [] %}
{%- for column in mrs_input_contract()['unified_sales_data']['columns'] %}
    {%- do row_columns.append('raw_sales.raw_' ~ column) %}
{%- endfor %}
{%- set column_types = [] %}
{%- for column in row_columns %}
    {%- do column_types.append('typeof(' ~ column ~ ')') %}
{%- endfor %}
{%- set checks_digest = local_md5(mrs_sales_row_checks()) %}

with

raw_sales as (
    {{ mrs_read_input('unified_sales_data', as_text=false) }}
),

known_stores as (
    select store_id from {{ ref('stg_stores') }}
),

known_products as (
    select sku from {{ ref('stg_products') }}
),

reference_digest as (
    -- A store or product added or removed changes which rows are `unknown`: every day.
    select
        (select coalesce(bit_xor(hash(known_stores.store_id)), 0) from known_stores)
            as stores_digest,
        (select coalesce(bit_xor(hash(known_products.sku)), 0) from known_products)
            as products_digest
),

row_digests as (
    select
        raw_sales.raw_sales_ts,
        raw_sales.source_row_number,
        hash(
            {{ row_columns | join(', ') }},
            raw_sales.raw_extra_fields,
            raw_sales.source_row_number,
            raw_sales.source_file
        ) as row_hash,
        -- The text of a typed value depends on its type (and a time zone's on the session's).
        -- A constant of the query (typeof is), on every row: the file is read once, where a
        -- second reader of raw_sales made DuckDB hold all of it in memory first.
        hash({{ column_types | join(', ') }}, current_setting('TimeZone')) as types_digest
    from raw_sales
),

time_text_digests as (
    -- The rows of each distinct time first (an hourly feed has one per hour, not per row),
    -- so each time's text is parsed once: parsing every row's text cost most of this model.
    -- count, bit_xor, min and max add up by day exactly as they would row by row.
    select
        row_digests.raw_sales_ts,
        count(*) as source_rows,
        bit_xor(row_digests.row_hash) as rows_checksum,
        any_value(row_digests.types_digest) as types_digest,
        min(row_digests.source_row_number) as first_source_row,
        max(row_digests.source_row_number) as last_source_row
    from row_digests
    group by row_digests.raw_sales_ts
),

days_of_time_texts as (
    -- The day and the hour staging finds in the time's text.
    select
        time_text_digests.*,
        {{ mrs_sales_day_key('cast(time_text_digests.raw_sales_ts as varchar)') }}
            as sales_day_key,
        {{ mrs_sales_hour_key('cast(time_text_digests.raw_sales_ts as varchar)') }}
            as sales_hour
    from time_text_digests
),

hour_sums as (
    select
        days_of_time_texts.sales_day_key,
        days_of_time_texts.sales_hour,
        sum(days_of_time_texts.source_rows) as source_rows,
        bit_xor(days_of_time_texts.rows_checksum) as rows_checksum,
        any_value(days_of_time_texts.types_digest) as types_digest,
        min(days_of_time_texts.first_source_row) as first_source_row,
        max(days_of_time_texts.last_source_row) as last_source_row
    from days_of_time_texts
    group by days_of_time_texts.sales_day_key, days_of_time_texts.sales_hour
),

days_so_far as (
    -- The day's rows up to each hour: its count and checksum add up hour by hour.
    select
        hour_sums.*,
        cast(sum(hour_sums.source_rows) over day_so_far as bigint) as day_rows_so_far,
        bit_xor(hour_sums.rows_checksum) over day_so_far as day_checksum_so_far
    from hour_sums
    window day_so_far as (
        partition by hour_sums.sales_day_key
        order by hour_sums.sales_hour
        rows between unbounded preceding and current row
    )
),

hour_digests as (
    -- Order-free: rows are distinct by their position, so none cancels another. A 64-bit
    -- number, so comparing the staged hours' digests is cheap. An hour's is unchanged while
    -- its rows and those of its day's hours before it are; the last hour's is the day's.
    select
        days_so_far.*,
        hash(
            '{{ checks_digest }}',
            reference_digest.stores_digest,
            reference_digest.products_digest,
            days_so_far.types_digest,
            days_so_far.day_rows_so_far,
            days_so_far.day_checksum_so_far
        ) as hour_digest
    from days_so_far
    cross join reference_digest
),

day_digests as (
    select
        sales_day_key,
        cast(sum(source_rows) as bigint) as source_rows,
        -- The day's digest: its last hour's (its rows so far grow hour by hour).
        arg_max(hour_digest, day_rows_so_far) as day_digest,
        list(
            {
                'sales_hour': sales_hour,
                'hour_digest': hour_digest,
                'first_source_row': first_source_row,
                'last_source_row': last_source_row
            }
            order by sales_hour
        ) as hour_digests
    from hour_digests
    group by sales_day_key
)

select * from day_digests
