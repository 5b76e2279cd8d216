{#-
  The candidate windows (anomaly_candidate_window_hours) are kept from build to build (issue
  18). The scan carries where the windows stand at each hour (the last elevated and the last
  inside hour, which elevated hours start a window and which inside hours close one), so a
  window is assembled from its own hours: a build assembles again, per series, from the
  window still open at the first changed day, reading the scan from the context that window
  needs, whatever the history's length.
-#}


{#-
  What this build assembles, as SQL for the model: `first_day`, the first sales day whose
  scan differs from the day marks kept (a date literal; `cast(null as date)` for every
  day: a first or full-refresh build, no marks kept, or kept windows on hours the scan no
  longer has), and `read_day`, the first day of the scan it reads (the context of the first
  window it assembles again, and the hour before it). At the latest the last day marked.
-#}
{% macro mrs_first_assembled_day(code_digest) -%}
    {%- set every_day = {'first_day': 'cast(null as date)', 'read_day': 'cast(null as date)'} -%}
    {%- if not execute or not is_incremental() -%}{{ return(every_day) }}{%- endif -%}
    {%- set scan = ref('anomaly_scan_hours') -%}
    {%- set compared_sql -%}
        with
        kept_marks as (
            select cast(kept.sales_ts as date) as sales_day, kept.scan_day_digest
            from {{ this }} as kept
            where kept.candidate_window_id is null and kept.scan_day_digest is not null
        ),
        current_days as (
            select
                scan_hours.sales_day,
                {{ mrs_scan_day_digest('scan_hours', code_digest) }} as scan_day_digest
            from {{ scan }} as scan_hours
            group by scan_hours.sales_day
        )
        select
            (select count(*) from kept_marks) as kept_days,
            (select max(kept_marks.sales_day) from kept_marks) as last_kept_day,
            (
                select min(coalesce(current_days.sales_day, kept_marks.sales_day))
                from current_days
                full join kept_marks on current_days.sales_day = kept_marks.sales_day
                where current_days.scan_day_digest is distinct from kept_marks.scan_day_digest
            ) as first_changed_day
    {%- endset -%}
    {%- set compared = run_query(compared_sql).rows[0] -%}
    {%- if not compared['kept_days'] -%}
        {{ log("mrs: candidate windows assembled again from the first day (no day marks "
            ~ "kept)", info=true) }}
        {{ return(every_day) }}
    {%- endif -%}
    {%- set days = [compared['last_kept_day']] -%}
    {%- if compared['first_changed_day'] is not none -%}
        {%- do days.append(compared['first_changed_day']) -%}
    {%- endif -%}
    {%- set first_day = "date '" ~ (days | min) ~ "'" -%}
    {%- set read_sql -%}
        with
        {{ mrs_assembled_from(scan, first_day) }},
        read_from as (
            -- The hour before the back-dating context of the first window assembled again.
            select
                store_id,
                sku,
                direction_sign,
                greatest(
                    first_index - {{ var('anomaly_drift_backdate_hours') | int }} - 1, 1
                ) as trading_hour_index
            from assembled_from
        )
        select
            (
                select min(scan_hours.sales_day)
                from {{ scan }} as scan_hours
                inner join read_from
                    on
                        scan_hours.store_id = read_from.store_id
                        and scan_hours.sku = read_from.sku
                        and scan_hours.direction_sign = read_from.direction_sign
                        and scan_hours.trading_hour_index = read_from.trading_hour_index
            ) as read_day,
            (
                -- Kept windows on hours of a series the scan no longer has from that day.
                select count(*)
                from {{ this }} as kept
                where
                    kept.candidate_window_id is not null
                    and {{ mrs_sales_day('kept.sales_ts') }} >= {{ first_day }}
                    and not exists (
                        select 1
                        from first_changed_hours
                        where
                            first_changed_hours.store_id = kept.store_id
                            and first_changed_hours.sku = kept.sku
                            and {{ mrs_direction('first_changed_hours.direction_sign') }}
                            = kept.direction
                    )
            ) as orphaned_hours
    {%- endset -%}
    {%- set read = run_query(read_sql).rows[0] -%}
    {%- if read['orphaned_hours'] -%}
        {{ log("mrs: candidate windows assembled again from the first day (kept windows on "
            ~ "hours the scan no longer has)", info=true) }}
        {{ return(every_day) }}
    {%- endif -%}
    {%- set read_day = "date '" ~ read['read_day'] ~ "'" if read['read_day'] is not none
        else first_day -%}
    {{ log("mrs: candidate windows kept before " ~ (days | min) ~ ", assembled again from it "
        ~ "(the scan read from " ~ (read['read_day'] or (days | min)) ~ ")", info=true) }}
    {{ return({'first_day': first_day, 'read_day': read_day}) }}
{%- endmacro %}


{#- A sales day's mark: what the scan held for it (its input, as of its newest hour: see
    mrs_scanned_day_digests, and code) and the assembly's code (`code_digest`, text), over
    the scan's hours of that day in `relation`. -#}
{% macro mrs_scan_day_digest(relation, code_digest) -%}
    hash(
        arg_max({{ relation }}.input_day_digest, {{ relation }}.sales_ts),
        any_value({{ relation }}.scan_digest),
        '{{ code_digest }}'
    )
{%- endmacro %}


{#- A window's direction as the logs name it, from the scan's direction sign (1 or -1). -#}
{% macro mrs_direction(direction_sign) -%}
    case when {{ direction_sign }} = 1 then 'up' else 'down' end
{%- endmacro %}


{#-
  CTEs `first_changed_hours`, `open_windows`, `window_starts_before` and `assembled_from`
  (store_id, sku, direction_sign, first_index): per series, the first trading hour from which
  a build assembles the windows again, given `scan` (SQL: the scan, or what of it is read)
  and `first_day` (SQL: the first day assembled again; none, and no rows, when null). The
  window of the last elevated hour before the series' first hour of that day may take more
  hours now unless it had closed before it (an inside hour at least `anomaly_closure_hours`
  after it, not this one): then from that window's start, else from the hour itself.
-#}
{% macro mrs_assembled_from(scan, first_day) -%}
first_changed_hours as (
    select
        store_id,
        sku,
        direction_sign,
        trading_hour_index,
        last_elevated_index,
        last_inside_index,
        is_window_closure
    from {{ scan }}
    where {{ first_day }} is not null and sales_day >= {{ first_day }}
    qualify row_number() over (
        partition by store_id, sku, direction_sign order by trading_hour_index
    ) = 1
),

open_windows as (
    select
        store_id,
        sku,
        direction_sign,
        last_elevated_index
    from first_changed_hours
    where
        last_elevated_index is not null
        and not coalesce(
            last_inside_index >= last_elevated_index + {{ var('anomaly_closure_hours') | int }}
            and not is_window_closure,
            false
        )
),

window_starts_before as (
    select
        open_windows.store_id,
        open_windows.sku,
        open_windows.direction_sign,
        max(started.trading_hour_index) as window_first_index
    from {{ scan }} as started
    inner join open_windows
        on
            started.store_id = open_windows.store_id
            and started.sku = open_windows.sku
            and started.direction_sign = open_windows.direction_sign
            and started.trading_hour_index <= open_windows.last_elevated_index
    where started.is_window_start
    group by open_windows.store_id, open_windows.sku, open_windows.direction_sign
),

assembled_from as (
    select
        changed.store_id,
        changed.sku,
        changed.direction_sign,
        coalesce(window_starts_before.window_first_index, changed.trading_hour_index)
            as first_index
    from first_changed_hours as changed
    left join window_starts_before
        on
            changed.store_id = window_starts_before.store_id
            and changed.sku = window_starts_before.sku
            and changed.direction_sign = window_starts_before.direction_sign
)
{%- endmacro %}


{#-
  Incremental strategy of anomaly_candidate_window_hours: per series, the kept windows from
  the first window start the build assembled again (its series boundary rows), and the day
  marks from its first day (its day boundary row; every kept window too when it assembled
  every day) are replaced by the new rows; boundary rows are never inserted.
-#}
{% macro get_incremental_replace_windows_from_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    delete from {{ target }} as kept
    where
        kept.candidate_window_id is not null
        and exists (
            select 1
            from {{ source }} as boundary
            where
                boundary.candidate_window_id is null
                and boundary.scan_day_digest is null
                and boundary.store_id = kept.store_id
                and boundary.sku = kept.sku
                and boundary.direction = kept.direction
                and kept.first_elevated_ts >= boundary.first_elevated_ts
        );
    delete from {{ target }} as kept
    where
        kept.first_elevated_ts >= (
            select min(boundary.first_elevated_ts)
            from {{ source }} as boundary
            where boundary.candidate_window_id is null and boundary.store_id is null
        )
        or (
            kept.candidate_window_id is null
            and kept.sales_ts >= (
                select min(boundary.sales_ts)
                from {{ source }} as boundary
                where
                    boundary.candidate_window_id is null
                    and boundary.store_id is null
                    and boundary.scan_day_digest is null
            )
        );
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
    where candidate_window_id is not null or scan_day_digest is not null
{%- endmacro %}


{#-
  The slow CUSUMs' columns of the candidate windows, joined by commas, so that the model's SQL
  (digested as text) holds no Jinja loop: `run_start`, each CUSUM's earliest run start among
  the alarms of a window, then the largest bigint (for least() with the back-dating);
  `hour`, each CUSUM's alarm and run start of an hour, columns of `relation` when given.
-#}
{% macro mrs_window_alarm_columns(step, relation=none) -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {%- set parts = [] -%}
    {%- for name, _, _ in mrs_drift_cusums() -%}
        {%- if step == 'run_start' -%}
            {%- do parts.append('coalesce(min(case when is_' ~ name ~ '_alarm then ' ~ name
                ~ '_run_start_index end), 9223372036854775807)') -%}
        {%- else -%}
            {%- do parts.append(prefix ~ 'is_' ~ name ~ '_alarm, ' ~ prefix ~ name
                ~ '_run_start_index') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if step == 'run_start' -%}{%- do parts.append('9223372036854775807') -%}{%- endif -%}
    {{ return(parts | join(', ')) }}
{%- endmacro %}
