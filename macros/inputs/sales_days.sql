{#-
  The sales input is staged hour by hour (issue 18): a build types and checks only the rows of
  the hours whose digest changed (new hours, restated ones) and keeps the verdicts of every
  other hour. An hour's digest is its day's up to it (stg_unified_sales_data_day_digests), so
  a restated hour checks the rest of its day again, and an hourly tick its new hour only (it
  checked the tick's whole day until 2026-12-05). A day is the UTC date of a row's parsed
  `sales_ts` and an hour that time to the hour: every row of one key (sales_ts, store_id,
  sku) falls in one hour, so the duplicate-key check of an hour needs no other hour. Rows
  whose time does not parse share the day and hour null.
-#}


{#- The sales day a raw row belongs to. -#}
{% macro mrs_sales_day_key(raw_sales_ts) -%}
    cast({{ mrs_to_timestamp(raw_sales_ts) }} as date)
{%- endmacro %}


{#- The sales hour a raw row belongs to (its time to the hour, whether on it or not). -#}
{% macro mrs_sales_hour_key(raw_sales_ts) -%}
    date_trunc('hour', {{ mrs_to_timestamp(raw_sales_ts) }})
{%- endmacro %}


{#- The staged hours of the sales input as read, from stg_unified_sales_data_day_digests
    (`day_digests`): sales_day_key, sales_hour, the day's digest up to the hour (hour_digest)
    and the hour's first and last source row. -#}
{% macro mrs_sales_hour_digests(day_digests) -%}
    select
        days.sales_day_key,
        unnest(days.hour_digests, recursive := true)
    from {{ day_digests }} as days
{%- endmacro %}


{#-
  The row checks of the sales input, as CTEs after `raw_sales`, `known_stores` and
  `known_products`: typed, dated (the rows of the sales hours in `hours`, a list of pairs of
  a run of consecutive hours' first hour and the hour after its last, with none for the rows
  whose time does not parse; every row when `hours` is none), ruled, then the duplicate-key
  CTEs ending in `checked`. `row_ranges` (pairs of source row numbers, or none) limits the
  rows whose time is parsed to those ranges, which hold every row of those hours. Their text
  with `hours` none is part of every day's digest, so changed rules (or bounds in the vars)
  check every day again.
-#}
{% macro mrs_sales_row_checks(hours=none, row_ranges=none) -%}
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
    {%- if hours is not none %}
    where {{ mrs_sales_hours_in('typed.sales_ts', hours) }}
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
  rows of every hour whose digest is no longer the hour's (restated, after a restated hour of
  its day, gone from the input, or checked by other rules), in the build's transaction; the
  model then appends the hours it does not hold. A digest names one day's rows up to one
  hour, so the stale digests are found among the distinct staged ones.
-#}
{% macro mrs_unstage_changed_days(day_digests) -%}
    {%- if execute and is_incremental() -%}
        delete from {{ this }}
        where hour_digest in (
            select staged.hour_digest
            from (select distinct sales_day_key, hour_digest from {{ this }}) as staged
            where not exists (
                select 1 from ({{ mrs_sales_hour_digests(day_digests) }}) as current_hours
                where
                    current_hours.sales_day_key is not distinct from staged.sales_day_key
                    and current_hours.hour_digest = staged.hour_digest
            )
        )
    {%- endif -%}
{%- endmacro %}


{#-
  The sales hours this build checks and where their rows are: `hours`, the runs of
  consecutive hours as pairs of texts (mrs_consecutive_hours; none for the rows whose time
  does not parse), the hours whose digest the staged table does not hold (new, restated, or
  after a restated hour of their day); `row_ranges`, the ranges of source row numbers that
  hold every row of those hours (each hour's first to last row, overlapping or adjacent ones
  merged; a feed written in time order has its new hour's rows at its end). Both none (every
  hour) on a first or full-refresh build. Says how many days it stages, new (none of
  their hours staged) or restated (some), removed and kept, and how many hours, unless `say`
  is false (the hour partials, kept hour by hour against the same digests, ask which hours
  to sum).
-#}
{% macro mrs_sales_days_to_check(day_digests, say=true) -%}
    {%- if not execute -%}{{ return({'hours': none, 'row_ranges': none}) }}{%- endif -%}
    {%- if not is_incremental() -%}
        {%- if say -%}
        {{ log("mrs: unified_sales_data: every sales day checked (no staged days kept)",
            info=true) }}
        {%- endif -%}
        {{ return({'hours': none, 'row_ranges': none}) }}
    {%- endif -%}
    {%- set compared_sql -%}
        with
        staged as (select distinct sales_day_key, hour_digest from {{ this }}),
        current_hours as ({{ mrs_sales_hour_digests(day_digests) }}),
        compared_hours as (
            -- every current hour and every staged digest, matched where they are the same
            select
                coalesce(current_hours.sales_day_key, staged.sales_day_key) as sales_day_key,
                current_hours.sales_hour,
                current_hours.first_source_row,
                current_hours.last_source_row,
                current_hours.hour_digest is not null as is_current,
                staged.hour_digest is not null as is_staged
            from current_hours
            full join staged
                on
                    current_hours.sales_day_key is not distinct from staged.sales_day_key
                    and current_hours.hour_digest = staged.hour_digest
        ),
        days as (
            -- gone: none of its digests is current; new: none is staged; kept: every current
            -- hour is staged and every staged digest current; restated otherwise
            select
                sales_day_key,
                case
                    when not bool_or(is_current) then 'gone'
                    when not bool_or(is_staged) then 'new'
                    when bool_and(is_current and is_staged) then 'kept'
                    else 'restated'
                end as day_state
            from compared_hours
            group by sales_day_key
        )
        select
            cast(days.sales_day_key as varchar) as sales_day_key,
            days.day_state,
            strftime(compared_hours.sales_hour, '%Y-%m-%d %H:%M:%S') as sales_hour,
            compared_hours.first_source_row,
            compared_hours.last_source_row
        from days
        left join compared_hours
            on
                days.sales_day_key is not distinct from compared_hours.sales_day_key
                and compared_hours.is_current
                and not compared_hours.is_staged
        order by compared_hours.first_source_row nulls first, compared_hours.sales_hour, 1
    {%- endset -%}
    {%- set compared = run_query(compared_sql) -%}
    {%- set day_states = {} -%}
    {%- set checked_hours = [] -%}
    {%- set row_ranges = [] -%}
    {%- for row in compared.rows -%}
        {%- do day_states.update({row['sales_day_key']: row['day_state']}) -%}
        {%- if row['first_source_row'] is not none -%}
            {%- do checked_hours.append(row['sales_hour']) -%}
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
    {%- set counts = {'new': 0, 'restated': 0, 'gone': 0, 'kept': 0} -%}
    {%- for state in day_states.values() -%}
        {%- do counts.update({state: counts[state] + 1}) -%}
    {%- endfor -%}
    {%- if say -%}
    {{ log("mrs: unified_sales_data: " ~ counts['new'] ~ " new and " ~ counts['restated']
        ~ " restated sales day(s) checked, " ~ counts['gone'] ~ " removed, " ~ counts['kept']
        ~ " kept as staged; " ~ checked_hours | length ~ " hour(s) of them checked",
        info=true) }}
    {%- endif -%}
    {{ return({'hours': mrs_consecutive_hours(checked_hours), 'row_ranges': row_ranges}) }}
{%- endmacro %}


{#- `hours` (texts '%Y-%m-%d %H:%M:%S', none for the rows whose time does not parse) as
    pairs of each run of consecutive hours' first hour and the hour after its last, in time
    order, none last: a restated day's hours, or a day's new ones, are one pair. -#}
{% macro mrs_consecutive_hours(hours) -%}
    {%- set runs = [] -%}
    {%- set one_hour = modules.datetime.timedelta(hours=1) -%}
    {%- for hour in hours | reject('none') | sort -%}
        {%- set start = modules.datetime.datetime.strptime(hour, '%Y-%m-%d %H:%M:%S') -%}
        {%- if runs and runs[-1][1] + one_hour == start -%}
            {%- set run = runs.pop() -%}
            {%- do runs.append([run[0], start]) -%}
        {%- else -%}
            {%- do runs.append([start, start]) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set pairs = [] -%}
    {%- for first_hour, last_hour in runs -%}
        {%- do pairs.append([first_hour.strftime('%Y-%m-%d %H:%M:%S'),
            (last_hour + one_hour).strftime('%Y-%m-%d %H:%M:%S')]) -%}
    {%- endfor -%}
    {%- if none in hours -%}{%- do pairs.append(none) -%}{%- endif -%}
    {{ return(pairs) }}
{%- endmacro %}


{#-
  Whether the timestamp `sales_ts` falls in one of `hours` (mrs_sales_days_to_check's: pairs
  of the first hour of a run and the hour after its last, none for the rows whose time does
  not parse): SQL, false when none does.
-#}
{% macro mrs_sales_hours_in(sales_ts, hours) -%}
    {%- set conditions = [] -%}
    {%- for pair in hours -%}
        {%- if pair is none -%}
            {%- do conditions.append(sales_ts ~ ' is null') -%}
        {%- else -%}
            {%- do conditions.append('(' ~ sales_ts ~ " >= timestamp '" ~ pair[0] ~ "' and "
                ~ sales_ts ~ " < timestamp '" ~ pair[1] ~ "')") -%}
        {%- endif -%}
    {%- endfor -%}
    {{ conditions | join(' or ') if conditions else 'false' }}
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
