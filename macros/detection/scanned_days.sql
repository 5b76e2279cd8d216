{#-
  The detectors' per-hour scan (anomaly_scan_hours) is kept from build to build (issue 18): a
  build scans again only the sales days from the first one whose predictions changed,
  carrying each series' state from the last hour kept before it. A CUSUM is a prefix scan:
  restarted at hour h from the cumulative sum and running minimum it had at h - 1, it gives
  the values a scan from the first hour gives, and so do its run's start and peak. A sales
  day is where the day's innovations restart, so the scanned days are whole.
-#}


{#- The two slow CUSUMs: name, reference and decision interval (docs/detection.md). -#}
{% macro mrs_drift_cusums() -%}
    {{ return([
        ('drift', var('anomaly_drift_reference_z'), var('anomaly_drift_evidence')),
        ('shift', var('anomaly_shift_reference_z'), var('anomaly_shift_evidence')),
    ]) }}
{%- endmacro %}


{#- The hash of what the scan reads of one row of baseline_sales_predictions, stored with
    the row as `scan_row_digest` when the predictions write it (mrs_row_hash, as
    mrs_rows_digest hashes each row), so that a build's comparison reads one column of the
    kept rows instead of hashing eleven of every row of the history. -#}
{% macro mrs_prediction_row_digest(relation) -%}
    {{ mrs_columns_hash(relation, [
        'store_id', 'sku', 'sales_ts', 'actual_units', 'expected_units', 'variance_units',
        'residual_units', 'residual_z', 'day_inflation', 'within_day_correlation',
        'hour_persistence']) }}
{%- endmacro %}


{#- The digest of a day's rows of baseline_sales_predictions (the scan's sales days of trading
    hours, the adjusted hours' UTC days of every hour): what the scan reads of them, the xor
    of their stored row digests (mrs_prediction_row_digest; the rows of a day differ in their
    series or hour, so no two cancel), in `column` of `relation` (the adjusted hours keep
    them as prediction_row_digest). -#}
{% macro mrs_prediction_day_digest(relation, column='scan_row_digest') -%}
    bit_xor({{ relation }}.{{ column }})
{%- endmacro %}


{#-
  Each kept day's digest of what it was scanned from and the code it was scanned with, as a
  query of (sales_day, input_day_digest, scan_digest) over the scan's rows in `relation`: its
  newest hour's, since each hour carries the digest of its day's hours up to it
  (mrs_running_day_digests), and the newest's covers them all.
-#}
{% macro mrs_scanned_day_digests(relation) -%}
    select
        scanned.sales_day,
        arg_max(scanned.input_day_digest, scanned.sales_ts) as input_day_digest,
        scanned.scan_digest
    from {{ relation }} as scanned
    group by scanned.sales_day, scanned.scan_digest
{%- endmacro %}


{#-
  The first sales day this build scans, as SQL (a date literal), or `cast(null as date)` for
  every day: on a first or full-refresh build, or when `scan_digest` (`code_digest`, the SQL
  as rendered, and detection_start) differs from the one the kept rows were scanned with.
  Otherwise the first day whose trading hours of baseline_sales_predictions differ from
  those the kept rows were scanned from (a day scored again, the new hours of the last day,
  a day no longer predicted), and at the latest the last day kept.
-#}
{% macro mrs_first_scanned_day(code_digest) -%}
    {%- if not execute or not is_incremental() -%}{{ return('cast(null as date)') }}{%- endif -%}
    {%- set compared_sql -%}
        with
        kept as (
            {{ mrs_scanned_day_digests(this) }}
        ),
        current_days as (
            {{ mrs_day_digests(ref('baseline_sales_predictions'), mrs_prediction_day_digest,
                'digested.is_trading_hour') }}
        )
        {{ mrs_compared_days('scan_digest',
            "select hash('" ~ code_digest ~ "', settings.detection_start) from "
            ~ ref('run_settings') ~ " as settings") }}
    {%- endset -%}
    {{ return(mrs_first_kept_day(
        run_query(compared_sql).rows[0], ['last_kept_day', 'first_changed_day'],
        'candidate scan', 'scanned')) }}
{%- endmacro %}


{#-
  Within the first day scanned, the first hour this build scans, as SQL (a timestamp
  literal), or `cast(null as timestamp)` for every hour of it. An hourly tick scans the day
  it adds an hour to again, but the scan is causal (an hour's innovation, CUSUMs and window
  states follow from the hours before it): when that day is the last one kept and its kept
  hours were scanned from the predictions it has now up to the last of them (their digest),
  the kept hours stay as they were and the scan goes on from the hour after the last one,
  carrying each series' state from its last kept hour like from the day before (the newest
  kept hour carries the digest of the day's hours up to it: mrs_running_day_digests).
-#}
{% macro mrs_first_scanned_hour(first_scanned_day) -%}
    {%- set every_hour = 'cast(null as timestamp)' -%}
    {%- if not execute or not is_incremental() or first_scanned_day == 'cast(null as date)' -%}
        {{ return(every_hour) }}
    {%- endif -%}
    {%- set compared_sql -%}
        with
        kept_day as (
            select
                max(kept_hours.sales_ts) as last_kept_ts,
                arg_max(kept_hours.input_day_digest, kept_hours.sales_ts) as input_day_digest
            from {{ this }} as kept_hours
            where kept_hours.sales_day = {{ first_scanned_day }}
        ),
        current_day as (
            {{ mrs_day_digests(ref('baseline_sales_predictions'), mrs_prediction_day_digest,
                'digested.is_trading_hour and digested.sales_ts >= '
                ~ dbt.dateadd('day', -1, first_scanned_day)
                ~ ' and digested.sales_ts <= (select kept_day.last_kept_ts from kept_day)') }}
        )
        select
            kept_day.last_kept_ts,
            kept_day.input_day_digest = current_day.input_day_digest
            -- no kept day after it
            and (select max(kept_hours.sales_day) from {{ this }} as kept_hours)
            = {{ first_scanned_day }} as is_kept
        from kept_day
        left join current_day on current_day.sales_day = {{ first_scanned_day }}
    {%- endset -%}
    {%- set compared = run_query(compared_sql).rows[0] -%}
    {%- if not compared['is_kept'] -%}{{ return(every_hour) }}{%- endif -%}
    {%- set first_hour = compared['last_kept_ts'] + modules.datetime.timedelta(hours=1) -%}
    {{ log("mrs: candidate scan kept before " ~ first_hour ~ ", scanned from it", info=true) }}
    {{ return("timestamp '" ~ first_hour.strftime('%Y-%m-%d %H:%M:%S') ~ "'") }}
{%- endmacro %}


{#- The kept scan hours before the first hour scanned, as a condition on `relation`'s rows:
    the days before the first day scanned, and that day's hours before the first hour. -#}
{% macro mrs_kept_before_scan(relation, first_scanned_day, first_scanned_hour) -%}
    ({{ relation }}sales_day < {{ first_scanned_day }}
    or {{ relation }}sales_day = {{ first_scanned_day }}
    and {{ relation }}sales_ts < {{ first_scanned_hour }})
{%- endmacro %}


{#-
  The condition on the kept rows that selects those the scan needs, as SQL: the hours from
  the earliest of any series' last `anomaly_closure_hours - 1` (at least one) kept hours
  before the first scanned day, so the build reads each series' carried state and closure
  block from a few hours of kept rows instead of every kept hour; none when every day is
  scanned. Its day too, for the day's statistics (the rows are stored in day and hour
  order). Those hours are looked for in the last `anomaly_scan_tail_days` kept days first (a
  range the day statistics bound), and in every kept day only when some series has fewer of
  them there and began before them (a store closed for a week): an aggregate over every kept
  hour cost 0.4-0.5 s of a one-tick build at 12 months.
-#}
{% macro mrs_carried_tail_condition(first_scanned_day, first_scanned_hour) -%}
    {%- set days = var('anomaly_scan_tail_days') | int -%}
    {%- set no_row = 'sales_day >= cast(null as date)' -%}
    {%- if not execute or not is_incremental() or first_scanned_day == 'cast(null as date)' -%}
        {{ return(no_row) }}
    {%- endif -%}
    {%- set tail = run_query(mrs_carried_tails_sql(
        first_scanned_day, first_scanned_hour, days)).rows[0] -%}
    {%- if not tail['is_complete'] -%}
        {%- set tail = run_query(mrs_carried_tails_sql(
            first_scanned_day, first_scanned_hour, none)).rows[0] -%}
    {%- endif -%}
    {%- if tail['tail_ts'] is none -%}{{ return(no_row) }}{%- endif -%}
    {#- The store's day of a series' hour (its sales_day) is not always the UTC date of its
        sales_ts: the earliest of each bounds the rows needed. -#}
    {{ return("sales_day >= date '" ~ tail['tail_day'].strftime('%Y-%m-%d')
        ~ "' and sales_ts >= timestamp '" ~ tail['tail_ts'].strftime('%Y-%m-%d %H:%M:%S') ~ "'") }}
{%- endmacro %}


{#-
  The earliest day and hour of any series' last closure-block hours among the kept hours
  of the last `days` days before the first scanned day (every kept day with `days` none),
  and whether every kept series has them all there: as many hours as the block, or its
  first hour (a series' trading hours are numbered from 1 without gaps).
-#}
{% macro mrs_carried_tails_sql(first_scanned_day, first_scanned_hour, days) -%}
    {%- set block_hours = [var('anomaly_closure_hours') | int - 1, 1] | max -%}
    with
    searched_hours as (
        select store_id, sku, direction_sign, sales_day, sales_ts, trading_hour_index
        from {{ this }}
        where
            {{ mrs_kept_before_scan('', first_scanned_day, first_scanned_hour) }}
            {%- if days is not none %}
                and sales_day >= cast({{ first_scanned_day }} - to_days({{ days }}) as date)
            {%- endif %}
    ),
    series_tails as (
        -- A series' hours are in time order by their index, and its days with them: the
        -- earliest of its last `block_hours` hours is the least of its latest hours and days
        -- (top-n of two plain columns: arg_max over a list of both took 1 s at 20 M rows).
        select
            count(*) >= {{ block_hours }} or min(trading_hour_index) = 1 as is_whole,
            list_min(max(sales_day, {{ block_hours }})) as tail_day,
            list_min(max(sales_ts, {{ block_hours }})) as tail_ts
        from searched_hours
        group by store_id, sku, direction_sign
    )
    select
        {%- if days is not none %}
            -- (every kept series counted from the kept hours themselves: a read of three
            -- columns, not a CTE shared with the range above, which would hold them all)
            (select count(*) from series_tails where is_whole) = (
                select count(*) from (
                    select distinct store_id, sku, direction_sign
                    from {{ this }}
                    where {{ mrs_kept_before_scan('', first_scanned_day, first_scanned_hour) }}
                ) as kept_series
            ) as is_complete,
        {%- else %}
            true as is_complete,
        {%- endif %}
        min(series_tails.tail_day) as tail_day,
        min(series_tails.tail_ts) as tail_ts
    from series_tails
{%- endmacro %}


{#-
  Incremental strategy of anomaly_scan_hours: the kept rows from the first hour this build
  scanned are replaced by the new ones: from the first day scanned, or within it from the
  first hour scanned. The model's rows carry that day and hour (none: the whole day) in one
  boundary row (no store) that is never inserted, so a build that scanned no trading hour
  still removes what it replaces.
-#}
{% macro get_incremental_replace_from_first_scanned_hour_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    delete from {{ target }} as kept
    where exists (
        select 1 from {{ source }} as boundary
        where
            boundary.store_id is null
            and (
                kept.sales_day > boundary.sales_day
                or kept.sales_day = boundary.sales_day
                and kept.sales_ts >= coalesce(boundary.sales_ts, cast('-infinity' as timestamp))
            )
    );
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
    where store_id is not null
{%- endmacro %}


{#-
  Incremental strategy of the models kept by day (baseline_day_totals,
  protection_adjusted_hours): the kept rows from the first day this build computed are
  replaced by the new ones. The model's rows carry that day in one boundary row (no store)
  that is never inserted, so a build that computed no row still removes what it replaces.
-#}
{% macro get_incremental_replace_from_first_day_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    delete from {{ target }}
    where sales_day >= (select min(boundary.sales_day) from {{ source }} as boundary);
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
    where store_id is not null
{%- endmacro %}


{#-
  No kept scan hours, with the columns anomaly_scan_hours carries from them: what a first or
  full-refresh build goes on from.
-#}
{% macro mrs_no_kept_scan_hours(drift_cusums) -%}
    (
        select
            cast(null as varchar) as store_id,
            cast(null as varchar) as sku,
            cast(null as integer) as direction_sign,
            cast(null as date) as sales_day,
            cast(null as timestamp) as sales_ts,
            cast(null as bigint) as trading_hour_index,
            cast(null as double) as residual_z,
        {%- for name, _, _ in drift_cusums %}
            cast(null as decimal(38, 6)) as {{ name }}_cumulative,
            cast(null as decimal(38, 6)) as {{ name }}_running_minimum,
            cast(null as bigint) as {{ name }}_run_start_index,
            cast(null as decimal(38, 6)) as {{ name }}_run_peak,
        {%- endfor %}
            cast(null as bigint) as last_elevated_index,
            cast(null as bigint) as last_inside_index
        where false
    )
{%- endmacro %}


{#- The integer anomaly_scan_hours numbers the series of `relation` by (its store_id and
    sku), within one statement only: its windows sort it instead of the two texts. -#}
{% macro mrs_series_number(relation) -%}
    hash({{ relation }}.store_id, {{ relation }}.sku)
{%- endmacro %}


{#- What anomaly_scan_hours stores of each slow CUSUM per hour (`<name>_<column>`), before its
    alarm flag. -#}
{% macro mrs_cusum_stored_columns() -%}
    {{ return(['cumulative', 'running_minimum', 'evidence', 'run_start_index', 'run_peak']) }}
{%- endmacro %}


{#- The state a scan carries of each slow CUSUM from the last kept hour (`carried_<name>_<column>`),
    and its value where nothing is kept (a new series starts at zero, its run at hour 1). -#}
{% macro mrs_cusum_carried_columns() -%}
    {{ return([('cumulative', 0), ('running_minimum', 0), ('run_start_index', 1),
        ('run_peak', 0)]) }}
{%- endmacro %}


{#-
  The columns (or conditions) of one step of anomaly_scan_hours for each slow CUSUM, joined
  by commas (`or`, `and` for the conditions), so that the model's SQL, digested as text,
  holds no Jinja loop.
-#}
{% macro mrs_cusum_columns(step) -%}
    {%- set parts = [] -%}
    {%- for name, reference, evidence in mrs_drift_cusums() -%}
        {%- if step == 'carried' -%}
            {%- for column, start in mrs_cusum_carried_columns() -%}
                {%- do parts.append('coalesce(carried_states.' ~ name ~ '_' ~ column ~ ', '
                    ~ start ~ ') as carried_' ~ name ~ '_' ~ column) -%}
            {%- endfor -%}
        {%- elif step == 'carried_names' -%}
            {%- for column, _ in mrs_cusum_carried_columns() -%}
                {%- do parts.append('carried_' ~ name ~ '_' ~ column) -%}
            {%- endfor -%}
        {%- elif step == 'cumulative' -%}
            {%- do parts.append('cast(carried_' ~ name ~ '_cumulative + sum(drift_step - '
                ~ reference ~ ') over series_so_far as decimal(38, 6)) as ' ~ name ~ '_cumulative') -%}
        {%- elif step == 'running_minimum' -%}
            {%- do parts.append('cast(least(carried_' ~ name ~ '_running_minimum, min(' ~ name
                ~ '_cumulative) over series_so_far) as decimal(38, 6)) as ' ~ name
                ~ '_running_minimum') -%}
        {%- elif step == 'evidence' -%}
            {%- do parts.append('cast(' ~ name ~ '_cumulative - ' ~ name
                ~ '_running_minimum as decimal(38, 6)) as ' ~ name ~ '_evidence') -%}
        {%- elif step == 'run_start' -%}
            {%- do parts.append('coalesce(max(case when ' ~ name ~ '_evidence = 0 then '
                ~ 'trading_hour_index end) over series_so_far, carried_' ~ name
                ~ '_run_start_index - 1) + 1 as ' ~ name ~ '_run_start_index') -%}
        {%- elif step == 'previous_peak' -%}
            {%- do parts.append('cast(greatest(case when ' ~ name ~ '_run_start_index = carried_'
                ~ name ~ '_run_start_index then carried_' ~ name ~ '_run_peak else 0 end, '
                ~ 'coalesce(max(' ~ name ~ '_evidence) over (partition by series_number, '
                ~ 'direction_sign, ' ~ name ~ '_run_start_index order by trading_hour_index '
                ~ 'rows between unbounded preceding and 1 preceding), 0)) as decimal(38, 6)) as '
                ~ name ~ '_previous_peak') -%}
        {%- elif step == 'alarm' -%}
            {%- do parts.append('cast(greatest(' ~ name ~ '_previous_peak, ' ~ name
                ~ '_evidence) as decimal(38, 6)) as ' ~ name ~ '_run_peak, ' ~ name
                ~ '_evidence >= ' ~ evidence ~ ' and ' ~ name ~ '_evidence > ' ~ name
                ~ '_previous_peak as is_' ~ name ~ '_alarm') -%}
        {%- elif step == 'computed' -%}
            {%- for column in mrs_cusum_stored_columns() + ['previous_peak'] -%}
                {%- do parts.append('cusum_alarms.' ~ name ~ '_' ~ column) -%}
            {%- endfor -%}
            {%- do parts.append('cusum_alarms.is_' ~ name ~ '_alarm') -%}
        {%- elif step == 'any_alarm' -%}
            {%- do parts.append('drift_hours.is_' ~ name ~ '_alarm') -%}
        {%- elif step == 'no_peak_near' -%}
            {%- do parts.append('(drift_hours.' ~ name ~ '_evidence < ' ~ evidence
                ~ ' or drift_hours.' ~ name ~ '_evidence <= drift_hours.' ~ name
                ~ '_previous_peak - ' ~ var('anomaly_drift_drawdown') ~ ')') -%}
        {%- elif step == 'scanned' -%}
            {%- for column in mrs_cusum_stored_columns() -%}
                {%- do parts.append('flagged.' ~ name ~ '_' ~ column) -%}
            {%- endfor -%}
            {%- do parts.append('flagged.is_' ~ name ~ '_alarm') -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error('mrs_cusum_columns: unknown step ' ~ step) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set separator = {'any_alarm': ' or ', 'no_peak_near': ' and '}.get(step, ', ') -%}
    {{ return(parts | join(separator)) }}
{%- endmacro %}


{#-
  The sum of `column` over a closure block of `hours` trading hours ending at this one, added
  in one order (this hour, then each earlier one), so a scan restarted from kept hours adds
  them as a scan from the first hour does (a window frame's sum may add them in another).
-#}
{% macro mrs_closure_block_sum(column, hours) -%}
    {%- set terms = [column] -%}
    {%- for lag in range(1, hours) -%}
        {%- do terms.append('lag(' ~ column ~ ', ' ~ lag ~ ') over closure_order') -%}
    {%- endfor -%}
    {{ return(terms | join(' + ')) }}
{%- endmacro %}


{#-
  The select of the boundary row anomaly_scan_hours adds to what an incremental build scanned:
  no store, the first day scanned (`first_day`, SQL; every day when null) as sales_day and the
  first hour scanned of it (`first_hour`, SQL; the whole day when null) as sales_ts. The
  strategy deletes the kept rows from that hour and never inserts the row.
-#}
{% macro mrs_scan_boundary_row(first_day, first_hour) -%}
    {%- set columns = ['store_id', 'sku', 'direction_sign', 'sales_day', 'sales_ts',
        'trading_hour_index', 'actual_units', 'expected_units', 'variance_units',
        'residual_units', 'residual_z', 'onset_z', 'drift_step'] -%}
    {%- for name, _, _ in mrs_drift_cusums() -%}
        {%- for column in mrs_cusum_stored_columns() -%}
            {%- do columns.append(name ~ '_' ~ column) -%}
        {%- endfor -%}
        {%- do columns.append('is_' ~ name ~ '_alarm') -%}
    {%- endfor -%}
    {%- do columns.extend(['is_elevated', 'is_inside', 'last_elevated_index',
        'last_inside_index', 'is_window_start', 'is_window_closure', 'input_day_digest',
        'scan_digest']) -%}
    {{ mrs_boundary_row(columns, "coalesce(" ~ first_day ~ ", cast('-infinity' as date))",
        {'sales_ts': first_hour}) }}
{%- endmacro %}


{#-
  The select of a boundary row, for the incremental strategies replace_from_first_day and
  replace_from_first_scanned_hour: every column of `columns` (in the model's order) null but
  sales_day, which is `first_day` (SQL), and those of `values_of` (column: SQL). The strategy
  deletes the kept rows from that day (hour) and never inserts the row (no store).
-#}
{% macro mrs_boundary_row(columns, first_day, values_of={}) -%}
    {%- set values = [] -%}
    {%- for column in columns -%}
        {%- do values.append((first_day if column == 'sales_day'
            else values_of.get(column, 'null')) ~ ' as ' ~ column) -%}
    {%- endfor -%}
    select {{ values | join(', ') }}
{%- endmacro %}
