{#-
  The sales input is staged day by day (issue 18): a build types and checks only the rows of
  the sales days whose digest changed (new days, restated days) and keeps the verdicts of
  every other day. A day is the UTC date of a row's parsed `sales_ts`: every row of one key
  (sales_ts, store_id, sku) falls on one day, so the duplicate-key check of a day needs no
  other day. Rows whose time does not parse share the day null.
-#}


{#- The sales day a raw row belongs to. -#}
{% macro mrs_sales_day_key(raw_sales_ts) -%}
    cast({{ mrs_to_timestamp(raw_sales_ts) }} as date)
{%- endmacro %}


{#-
  The row checks of the sales input, as CTEs after `raw_sales`, `known_stores` and
  `known_products`: typed, dated (the rows of the sales days in `days`, a list of
  `sales_day_key` texts with none for the rows whose time does not parse; every row when
  `days` is none), ruled, then the duplicate-key CTEs ending in `checked`. `row_ranges`
  (pairs of source row numbers, or none) limits the rows whose time is parsed to those
  ranges, which hold every row of those days. Their text with `days` none is part of every
  day's digest, so changed rules (or bounds in the vars) check every day again.
-#}
{% macro mrs_sales_row_checks(days=none, row_ranges=none) -%}
typed as (
    select
        raw_sales.*,
        {{ mrs_to_timestamp('raw_sales.raw_sales_ts') }} as sales_ts,
        {{ mrs_text('raw_sales.raw_store_id') }} as store_id,
        {{ mrs_text('raw_sales.raw_sku') }} as sku,
        {{ mrs_to_double('raw_sales.raw_units') }} as units,
        {{ mrs_to_double('raw_sales.raw_revenue') }} as revenue
    from raw_sales
    {%- if row_ranges is not none %}
    -- Only the file's rows between the first and last row of a day checked: no other
    -- row's time is parsed.
    where
        {%- for first_row, last_row in row_ranges %}
        raw_sales.source_row_number between {{ first_row }} and {{ last_row }}
        {{- ' or' if not loop.last }}
        {%- else %}
        false
        {%- endfor %}
    {%- endif %}
),

dated as (
    select
        typed.*,
        cast(typed.sales_ts as date) as sales_day_key
    from typed
    {%- if days is not none %}
    where
        {%- if not days %}
        false
        {%- else %}
        {{ mrs_sales_day_in('cast(typed.sales_ts as date)', days) }}
        {%- if none in days %}
        or typed.sales_ts is null
        {%- endif %}
        {%- endif %}
    {%- endif %}
),

ruled as (
    select
        dated.*,
        -- Units and revenue parse, are finite and lie within the contract's bounds.
        {{ mrs_reject_reasons(mrs_required_rules('unified_sales_data') + [
            (mrs_unparseable('dated.raw_sales_ts', 'timestamp'), 'unparseable sales_ts'),
            ("dated.sales_ts != date_trunc('hour', dated.sales_ts)",
                'sales_ts not on the hour'),
        ] + mrs_number_rules('unified_sales_data', 'dated') + [
            ('dated.store_id is not null and known_stores.store_id is null',
                'unknown store_id'),
            ('dated.sku is not null and known_products.sku is null', 'unknown sku'),
        ]) }} as rule_reason
    from dated
    left join known_stores on dated.store_id = known_stores.store_id
    left join known_products on dated.sku = known_products.sku
),

{{ mrs_reject_duplicate_keys(['sales_ts', 'store_id', 'sku']) }}
{%- endmacro %}


{#-
  Pre-hook of stg_unified_sales_data_checked (and of its hour partials): removes the staged
  rows of every day whose digest is no longer the day's (restated, gone from the input, or
  checked by other rules), in the build's transaction; the model then appends the days it
  does not hold. A digest names one day's content, so the stale digests are found among the
  distinct staged ones.
-#}
{% macro mrs_unstage_changed_days(day_digests) -%}
    {%- if execute and is_incremental() -%}
        delete from {{ this }}
        where day_digest in (
            select staged.day_digest
            from (select distinct sales_day_key, day_digest from {{ this }}) as staged
            where not exists (
                select 1 from {{ day_digests }} as current_days
                where
                    current_days.sales_day_key is not distinct from staged.sales_day_key
                    and current_days.day_digest = staged.day_digest
            )
        )
    {%- endif -%}
{%- endmacro %}


{#-
  The sales days this build checks and where their rows are: `days`, their `sales_day_key`
  as text (none for the rows whose time does not parse), the days whose digest the staged
  table does not hold, new or restated; `row_ranges`, the ranges of source row numbers that
  hold every row of those days (each day's first to last row, overlapping or adjacent ones
  merged; a feed written in time order has its new day's rows at its end). Both none (every
  day) on a first or full-refresh build. Says what it stages, unless `say` is false (the
  hour partials, kept day by day against the same digests, ask which days to sum).
-#}
{% macro mrs_sales_days_to_check(day_digests, say=true) -%}
    {%- if not execute -%}{{ return({'days': none, 'row_ranges': none}) }}{%- endif -%}
    {%- if not is_incremental() -%}
        {%- if say -%}
        {{ log("mrs: unified_sales_data: every sales day checked (no staged days kept)",
            info=true) }}
        {%- endif -%}
        {{ return({'days': none, 'row_ranges': none}) }}
    {%- endif -%}
    {%- set compared_sql -%}
        with
        staged as (select distinct sales_day_key, day_digest from {{ this }})
        select
            cast(current_days.sales_day_key as varchar) as sales_day_key,
            current_days.day_digest is null as is_gone,
            staged.day_digest is null as is_new,
            current_days.day_digest = staged.day_digest as is_same,
            current_days.first_source_row,
            current_days.last_source_row
        from {{ day_digests }} as current_days
        full join staged
            on current_days.sales_day_key is not distinct from staged.sales_day_key
        order by current_days.first_source_row, 1
    {%- endset -%}
    {%- set compared = run_query(compared_sql) -%}
    {%- set days = [] -%}
    {%- set row_ranges = [] -%}
    {%- set counts = {'new': 0, 'restated': 0, 'gone': 0, 'kept': 0} -%}
    {%- for row in compared.rows -%}
        {%- if row['is_gone'] -%}
            {%- do counts.update({'gone': counts['gone'] + 1}) -%}
        {%- elif row['is_same'] -%}
            {%- do counts.update({'kept': counts['kept'] + 1}) -%}
        {%- else -%}
            {%- do counts.update({'new' if row['is_new'] else 'restated':
                counts['new' if row['is_new'] else 'restated'] + 1}) -%}
            {%- do days.append(row['sales_day_key']) -%}
            {#- Rows come by first row: a range that starts within or right after the one
                before extends it. -#}
            {%- set first_row = row['first_source_row'] | int -%}
            {%- set last_row = row['last_source_row'] | int -%}
            {%- if row_ranges and first_row <= row_ranges[-1][1] + 1 -%}
                {%- set previous = row_ranges.pop() -%}
                {%- do row_ranges.append([previous[0], [last_row, previous[1]] | max]) -%}
            {%- else -%}
                {%- do row_ranges.append([first_row, last_row]) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if say -%}
    {{ log("mrs: unified_sales_data: " ~ counts['new'] ~ " new and " ~ counts['restated']
        ~ " restated sales day(s) checked, " ~ counts['gone'] ~ " removed, " ~ counts['kept']
        ~ " kept as staged", info=true) }}
    {%- endif -%}
    {{ return({'days': days, 'row_ranges': row_ranges}) }}
{%- endmacro %}


{#- Why a row that passed every check is held back: it is ahead of the feed's frontier. -#}
{% macro mrs_ahead_of_feed_reason(sales_ts, frontier_ts) -%}
    case
        when {{ sales_ts }} > {{ frontier_ts }}
            then concat(
                    'ahead of the feed (after ',
                    strftime({{ frontier_ts }}, '%Y-%m-%d %H:%M'),
                    ', {{ var("sales_max_lead_hours") | int }} h after its last full hour)'
                )
    end
{%- endmacro %}


{#-
  Whether the date `day` is one of `days` (mrs_sales_days_to_check's: text, none for rows
  without a parsed time, which no date matches): SQL, false when none is.
-#}
{% macro mrs_sales_day_in(day, days) -%}
    {%- set dated_days = days | reject('none') | list -%}
    {%- if dated_days -%}
        {{ day }} in ({% for sales_day in dated_days %}date '{{ sales_day }}'{{ ', ' if not loop.last }}{% endfor %})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}
