{#-
  The baseline predictions are kept from build to build (issue 18): a build scores again only
  the sales days from the first one whose inputs changed, reading a bounded context of days
  before it, so an hourly build costs one day plus that context whatever the history's
  length. Every value of a day depends only on the days before it (tick equivalence), so the
  days kept are the days a full build would compute.
-#}


{#-
  Days of day totals (baseline_day_totals) a scored day needs before it, from the longest
  chain of windows: the score
  scale (`baseline_score_scale_days`) over days whose weekday and hour-of-week factors look
  back `baseline_weekday_weeks` weeks at days whose level looked back twice
  `baseline_level_days` (its disturbed days are judged against the median before them) and
  whose shape factor `baseline_shape_days`; one more for the stores' local days.
-#}
{% macro mrs_prediction_context_days() -%}
    {%- set level_days = var('baseline_level_days') | int -%}
    {%- set shape_days = var('baseline_shape_days') | int -%}
    {%- set weekday_days = 7 * (var('baseline_weekday_weeks') | int) -%}
    {%- set chain = [2 * level_days, shape_days, weekday_days + shape_days,
        weekday_days + 2 * level_days] | max -%}
    {{ return(chain + ([var('baseline_score_scale_days') | int, 1] | max) + 2) }}
{%- endmacro %}


{#-
  The fit's row of each hour of `hours` (a relation or alias with store_id, sku and
  sales_ts), as `fit`: its series' profile hour of the week in the stores' time. The fit is
  read where it is joined (or through a CTE that is not materialised, `fit_relation`), so
  each read takes only its own columns.
-#}
{% macro mrs_join_profile_hour(hours, fit_relation=none) -%}
    inner join {{ fit_relation or ref('baseline_sales_model_fit') }} as fit
        on
            {{ hours }}.store_id = fit.store_id
            and {{ hours }}.sku = fit.sku
            and {{ mrs_hour_of_week(hours ~ '.sales_ts') }} = fit.hour_of_week
{%- endmacro %}


{#-
  One row's hash of `values` (SQL expressions), for digests that xor rows together. Hashed
  again: DuckDB combines a hash of several values by xoring in the last one's, so a change of
  the last value shared by an even number of rows (a series' hours, a day's) cancelled out
  of the xor (found 2026-12-05).
-#}
{% macro mrs_row_hash(values) -%}
    hash(hash({{ values | join(', ') }}))
{%- endmacro %}


{#- One row's hash (mrs_row_hash) of `columns` of `relation`. -#}
{% macro mrs_columns_hash(relation, columns) -%}
    {%- set qualified = [] -%}
    {%- for column in columns -%}
        {%- do qualified.append(relation ~ '.' ~ column) -%}
    {%- endfor -%}
    {{ mrs_row_hash(qualified) }}
{%- endmacro %}


{#-
  An order-free digest of a group of rows of `relation` (a sales day's, in the kept models):
  the xor of each row's hash of `columns` (mrs_row_hash), so the rows' order and the threads
  adding them up change nothing.
-#}
{% macro mrs_rows_digest(relation, columns) -%}
    bit_xor({{ mrs_columns_hash(relation, columns) }})
{%- endmacro %}


{#-
  The rows of `earlier_relation` (as `earlier`) a window over it would frame for each row of
  `targets`: the same series and `hour_column` (none: every hour), from `days` days before
  the target's sales day to the day before it (`range between interval <days> days preceding
  and interval 1 day preceding`), so that aggregates grouped by the target equal that
  window's values. No row is lost: a target with no earlier rows has nulls (a left join).
-#}
{% macro mrs_join_earlier_days(targets, earlier_relation, hour_column, days) -%}
    left join {{ earlier_relation }} as earlier
        on
            {{ targets }}.store_id = earlier.store_id
            and {{ targets }}.sku = earlier.sku
            {%- if hour_column %}
            and {{ targets }}.{{ hour_column }} = earlier.{{ hour_column }}
            {%- endif %}
            and earlier.sales_day < {{ targets }}.sales_day
            and earlier.sales_day >= {{ dbt.dateadd('day', -days, targets ~ '.sales_day') }}
{%- endmacro %}


{#- No kept predictions (a first build): the columns the predictions read of their kept rows. -#}
{% macro mrs_no_kept_predictions() -%}
    (
        select
            cast(null as varchar) as store_id,
            cast(null as varchar) as sku,
            cast(null as timestamp) as sales_ts,
            cast(null as double) as profile_units,
            cast(null as double) as shape_factor,
            cast(null as double) as shape_variance,
            cast(null as double) as level_factor,
            cast(null as decimal(24, 9)) as scale_squared_score
        where false
    )
{%- endmacro %}


{#-
  Each day's digest of the rows of `relation` (a CTE or relation, aliased `digested`) where
  `condition` holds, as a query of (sales_day, input_day_digest): `row_digest` (the macro of
  what a kept model reads of those rows) over each day's rows, the day `day_of` its
  sales_ts (the store's sales day; the UTC date for the sales series). One query for the
  digests a kept model stores and for those its next build compares them with.
-#}
{% macro mrs_day_digests(relation, row_digest, condition='true', day_of=mrs_sales_day) -%}
    select
        {{ day_of('digested.sales_ts') }} as sales_day,
        {{ row_digest('digested') }} as input_day_digest
    from {{ relation }} as digested
    where {{ condition }}
    group by {{ day_of('digested.sales_ts') }}
{%- endmacro %}


{#-
  Each hour's running digest of its sales day, as a query of (sales_day, sales_ts,
  input_day_digest) over `relation` (a CTE or relation, aliased `digested`): the xor of
  `row_digest` over the day's rows up to that hour. The same whichever hour a kept model's
  build went on from, so its kept hours stay as a build of every day has them; a day's
  newest hour's is the whole day's (mrs_day_digests), which the next build compares.
-#}
{% macro mrs_running_day_digests(relation, row_digest) -%}
    select
        hour_digests.sales_day,
        hour_digests.sales_ts,
        bit_xor(hour_digests.hour_digest) over (
            partition by hour_digests.sales_day
            order by hour_digests.sales_ts
            rows between unbounded preceding and current row
        ) as input_day_digest
    from (
        select
            {{ mrs_sales_day('digested.sales_ts') }} as sales_day,
            digested.sales_ts,
            {{ row_digest('digested') }} as hour_digest
        from {{ relation }} as digested
        group by digested.sales_ts
    ) as hour_digests
{%- endmacro %}


{#- The digest of one sales day's hours of sales_timeseries_data (`relation`). -#}
{% macro mrs_series_day_digest(relation) -%}
    {{ mrs_rows_digest(relation, [
        'store_id', 'sku', 'sales_ts', 'units', 'is_reported', 'is_feed_gap']) }}
{%- endmacro %}


{#-
  The first sales day this build scores, as SQL (a date literal), or `cast(null as date)` for
  every day: on a first or full-refresh build (no `kept` predictions), or when
  `prediction_digest` (`code_digest`, the CTEs as rendered, and the day totals' digest,
  which holds the fit's fingerprint) differs from the one the kept rows were scored with.
  Otherwise the first day from two days before detection_start whose hours of
  sales_timeseries_data differ from those the kept rows were scored from (a restated day, a
  gap judged again, the new hours of the last day, a day beyond the new as_of), and at the
  latest the last day kept, so a build always scores at least one day.
-#}
{% macro mrs_first_scored_day(code_digest, kept) -%}
    {%- if not execute or kept is none -%}{{ return('cast(null as date)') }}{%- endif -%}
    {%- set kept_days -%}
        -- (a day's newest hour's digest is the whole day's, as it was then)
        select
            {{ mrs_sales_day('kept_hours.sales_ts') }} as sales_day,
            arg_max(kept_hours.input_day_digest, kept_hours.sales_ts) as input_day_digest,
            kept_hours.prediction_digest
        from {{ kept }} as kept_hours
        group by {{ mrs_sales_day('kept_hours.sales_ts') }}, kept_hours.prediction_digest
    {%- endset -%}
    {{ return(mrs_first_changed_detection_day(
        kept_days, 'prediction_digest', mrs_prediction_digest(code_digest),
        'baseline predictions', 'scored')) }}
{%- endmacro %}


{#-
  Within the first day scored, the first hour this build computes, as SQL (a timestamp
  literal), or `cast(null as timestamp)` for every hour of it. An hourly tick scores the day
  it adds an hour to again (`first_day`, a date literal, from mrs_first_scored_day), but every
  value of an hour depends only on the days before its own and on its own sales: when that
  day is the last one kept, its kept hours were scored from the same hours as now (the
  digest of the day's hours up to the last one kept, which its newest hour carries) and the
  build adds at least one hour and none of a later day (whose score scale would add this
  day's hours up), the kept hours are taken as they are and only the hours after them are
  computed. Not in a sharded build (its score passes share whole days).
-#}
{% macro mrs_first_scored_hour(first_day, kept) -%}
    {%- set every_hour = 'cast(null as timestamp)' -%}
    {%- if not execute or kept is none or first_day == 'cast(null as date)'
        or mrs_shard_count() > 1 -%}
        {{ return(every_hour) }}
    {%- endif -%}
    {%- set compared_sql -%}
        with
        settings as (select * from {{ ref('run_settings') }}),
        kept_day as (
            -- (the rows are in time order: the range skips the other row groups)
            select
                max(kept_hours.sales_ts) as last_kept_ts,
                arg_max(kept_hours.input_day_digest, kept_hours.sales_ts) as input_day_digest
            from {{ kept }} as kept_hours
            where
                kept_hours.sales_ts >= {{ dbt.dateadd('day', -1, first_day) }}
                and {{ mrs_sales_day('kept_hours.sales_ts') }} = {{ first_day }}
        ),
        current_day as (
            {{ mrs_day_digests(ref('sales_timeseries_data'), mrs_series_day_digest,
                'digested.sales_ts >= ' ~ dbt.dateadd('day', -1, first_day)
                ~ ' and digested.sales_ts <= (select kept_day.last_kept_ts from kept_day)') }}
        )
        select
            kept_day.last_kept_ts,
            kept_day.input_day_digest = current_day.input_day_digest
            -- no kept hour after the day, and no hour of the next day scored
            and (select max(kept_hours.sales_ts) from {{ kept }} as kept_hours)
            = kept_day.last_kept_ts
            and {{ mrs_sales_day(dbt.dateadd('hour', -1, 'settings.as_of')) }} = {{ first_day }}
            -- and an hour to score (the strategy replaces from the first hour scored)
            and kept_day.last_kept_ts < {{ dbt.dateadd('hour', -1, 'settings.as_of') }}
                as is_kept
        from kept_day
        cross join settings
        left join current_day on current_day.sales_day = {{ first_day }}
    {%- endset -%}
    {%- set compared = run_query(compared_sql).rows[0] -%}
    {%- if not compared['is_kept'] -%}{{ return(every_hour) }}{%- endif -%}
    {%- set first_hour = compared['last_kept_ts'] + modules.datetime.timedelta(hours=1) -%}
    {{ log("mrs: baseline predictions kept before " ~ first_hour ~ ", scored from it",
        info=true) }}
    {{ return("timestamp '" ~ first_hour.strftime('%Y-%m-%d %H:%M:%S') ~ "'") }}
{%- endmacro %}


{#- The digest the predictions are scored with, as SQL: their code as rendered and the day
    totals' digest, which holds the fit's fingerprint (a new fit, or a change of how the
    days are added up, scores every day again). -#}
{% macro mrs_prediction_digest(code_digest) -%}
    select hash('{{ code_digest }}', any_value(day_totals.totals_digest))
    from {{ ref('baseline_day_totals') }} as day_totals
{%- endmacro %}


{#-
  The first sales day baseline_day_totals adds up, as SQL (a date literal), or every day
  (`cast(null as date)`) on a first or full-refresh build or when `totals_digest` (the code
  as rendered, `code_digest`, and the fit's fingerprint) differs from the kept rows'.
  Otherwise, as for the predictions, the first day from two days before detection_start
  whose hours changed, at the latest the last day kept. The days before are training days:
  a change of theirs is a new fit.
-#}
{% macro mrs_first_totals_day(code_digest) -%}
    {%- if not execute or not is_incremental() -%}{{ return('cast(null as date)') }}{%- endif -%}
    {%- set kept_days -%}
        select sales_day, input_day_digest, totals_digest from {{ this }} group by all
    {%- endset -%}
    {{ return(mrs_first_changed_detection_day(
        kept_days, 'totals_digest', mrs_totals_digest(code_digest), 'baseline day totals',
        'added up')) }}
{%- endmacro %}


{#- The digest the day totals are added up with, as SQL: their code as rendered and the
    fit's fingerprint. -#}
{% macro mrs_totals_digest(code_digest) -%}
    select hash('{{ code_digest }}', coalesce(any_value(fit.fit_fingerprint), ''))
    from {{ ref('baseline_sales_model_fit') }} as fit
{%- endmacro %}


{#-
  What a model kept by sales day since two days before detection_start computes from: every
  day when its digest is not `current_digest` (SQL), else the earliest of the last day kept
  and the first day (from two days before detection_start) whose hours of
  sales_timeseries_data differ from those `kept_days` (SQL: sales_day, input_day_digest and
  `digest_column`) were computed from. Logs what it decided for `table`.
-#}
{% macro mrs_first_changed_detection_day(kept_days, digest_column, current_digest, table, verb) -%}
    {%- set compared_sql -%}
        with
        settings as (select * from {{ ref('run_settings') }}),
        kept as ({{ kept_days }}),
        current_days as (
            {{ mrs_day_digests(ref('sales_timeseries_data'), mrs_series_day_digest,
                'digested.sales_ts >= (select '
                ~ dbt.dateadd('day', -3, 'settings.detection_start') ~ ' from settings)') }}
        ),
        first_output_day as (
            select
                {{ mrs_sales_day(dbt.dateadd('day', -2, 'settings.detection_start')) }}
                    as sales_day
            from settings
        )
        {{ mrs_compared_days(digest_column, current_digest,
            first_compared_day='select first_output_day.sales_day from first_output_day') }}
    {%- endset -%}
    {{ return(mrs_first_kept_day(
        run_query(compared_sql).rows[0], ['last_kept_day', 'first_changed_day'], table, verb)) }}
{%- endmacro %}


{#-
  The comparison the kept models make at compile time, over CTEs `kept` (sales_day,
  input_day_digest and `digest_column` of the kept rows) and `current_days` (sales_day and
  input_day_digest of what they are computed from now): how many digests the kept rows have,
  whether theirs is `current_digest` (SQL), the last day kept, the first day (from
  `first_compared_day`, SQL, when given) whose input digest differs, and `extra_columns`
  ("sql as name"). mrs_first_kept_day decides from it.
-#}
{% macro mrs_compared_days(digest_column, current_digest, extra_columns=[],
    first_compared_day=none) -%}
        select
            (select count(distinct kept.{{ digest_column }}) from kept) as digests,
            (select any_value(kept.{{ digest_column }}) from kept) = ({{ current_digest }})
                as is_same_digest,
            (select max(kept.sales_day) from kept) as last_kept_day,
            {%- for column in extra_columns %}
            {{ column }},
            {%- endfor %}
            (
                select min(coalesce(current_days.sales_day, kept.sales_day))
                from current_days
                full join kept on current_days.sales_day = kept.sales_day
                where
                    current_days.input_day_digest is distinct from kept.input_day_digest
                    {%- if first_compared_day is not none %}
                    and coalesce(current_days.sales_day, kept.sales_day)
                    >= ({{ first_compared_day }})
                    {%- endif %}
            ) as first_changed_day
{%- endmacro %}


{#-
  What mrs_first_scored_day and mrs_first_series_day return, from their comparison of what is
  kept with what is current (`compared`: how many digests the kept rows have, whether theirs
  is the current one, and the days named in `latest_days`, the first day to compute at the
  latest for each reason): every day when the digest differs, else the earliest of those
  days. Says which.
-#}
{% macro mrs_first_kept_day(compared, latest_days, table, verb) -%}
    {%- if compared['digests'] != 1 or not compared['is_same_digest'] -%}
        {%- if compared['digests'] -%}
            {{ log("mrs: " ~ table ~ " " ~ verb ~ " again from the first day (its code, a var "
                ~ "or what it is computed from changed)", info=true) }}
        {%- endif -%}
        {{ return('cast(null as date)') }}
    {%- endif -%}
    {%- set days = [] -%}
    {%- for name in latest_days if compared[name] is not none -%}
        {%- do days.append(compared[name]) -%}
    {%- endfor -%}
    {%- set first_day = days | min -%}
    {{ log("mrs: " ~ table ~ " kept before " ~ first_day ~ ", " ~ verb ~ " from it", info=true) }}
    {{ return("date '" ~ first_day ~ "'") }}
{%- endmacro %}


{#-
  Incremental strategy of baseline_sales_predictions: the kept rows from the first hour this
  build scored on are replaced by the new ones (none when the build scored nothing, which
  happens only when sales_timeseries_data is empty: then every kept row goes). A build that
  scores a kept day on from an hour (mrs_first_scored_hour) adds a row without a store at
  that hour, never inserted, so it never removes the kept hours before it.
-#}
{% macro get_incremental_replace_from_first_hour_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    delete from {{ target }}
    where sales_ts >= coalesce(
        (select min(sales_ts) from {{ source }}), cast('-infinity' as timestamp)
    );
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
    where store_id is not null
{%- endmacro %}


{#-
  What each UTC day of sales_timeseries_data is filled from, as a query of (sales_day,
  input_day_digest) that reads a CTE `settings` (run_settings): a day's accepted sales are
  its checked rows (named by the staged day's digest, stg_unified_sales_data_day_digests)
  that pass every rule, up to the feed's frontier and the hour before as_of, from
  training_start; so the day's digest and where those bounds cut it name them, one row per
  day, where hashing every accepted row of the history took most of a tick's reading of it
  (issue 18). A day staged again with the same rows (a file moved, rows reordered) is
  filled again too.
-#}
{% macro mrs_series_input_days() -%}
    select
        staged_days.sales_day_key as sales_day,
        hash(
            staged_days.day_digest,
            -- The last hour accepted, on the day it falls on, and the first.
            case
                when cast(bounds.last_accepted_ts as date) = staged_days.sales_day_key
                    then bounds.last_accepted_ts
            end,
            case
                when cast(bounds.training_start as date) = staged_days.sales_day_key
                    then bounds.training_start
            end
        ) as input_day_digest
    from {{ ref('stg_unified_sales_data_day_digests') }} as staged_days
    cross join (
        select
            settings.training_start,
            least(
                coalesce(frontier.frontier_ts, cast('infinity' as timestamp)),
                {{ dbt.dateadd('hour', -1, 'settings.as_of') }}
            ) as last_accepted_ts
        from settings
        cross join {{ ref('stg_unified_sales_data_frontier') }} as frontier
    ) as bounds
    where
        staged_days.sales_day_key >= cast(bounds.training_start as date)
        and staged_days.sales_day_key <= cast(bounds.last_accepted_ts as date)
{%- endmacro %}


{#-
  sales_timeseries_data is kept from build to build the same way. A UTC day's hours depend on
  that day's accepted sales (mrs_series_input_days), the feed's hours (judged against the
  four weeks before them), the series' first sale and, for the last hours, the stores whose
  rows come late; so a build fills again from the first day whose accepted sales changed,
  at the latest from the day a late store's hours could still change
  (`sales_store_late_hours` before the last hour kept) or the day before the new as_of, and
  every day when the code, a var or training_start changed (`series_digest`).
-#}
{% macro mrs_first_series_day(code_digest) -%}
    {%- set every_day = 'cast(null as date)' -%}
    {%- if not execute or not is_incremental() -%}{{ return(every_day) }}{%- endif -%}
    {%- set compared_sql -%}
        with
        settings as (select * from {{ ref('run_settings') }}),
        kept as (
            select
                cast(kept_hours.sales_ts as date) as sales_day,
                kept_hours.input_day_digest,
                kept_hours.series_digest
            from {{ this }} as kept_hours
            group by all
        ),
        current_days as (
            {{ mrs_series_input_days() }}
        )
        {{ mrs_compared_days('series_digest',
            "select hash('" ~ code_digest ~ "', settings.training_start) from settings",
            extra_columns=[
                "(select cast(max(kept_hours.sales_ts) - to_hours("
                ~ (var('sales_store_late_hours') | int) ~ " + 1) as date) from " ~ this
                ~ " as kept_hours) as late_day",
                "(select cast(" ~ dbt.dateadd('hour', -1, 'settings.as_of')
                ~ " as date) from settings) as last_current_day",
            ]) }}
    {%- endset -%}
    {{ return(mrs_first_kept_day(
        run_query(compared_sql).rows[0],
        ['last_kept_day', 'late_day', 'last_current_day', 'first_changed_day'],
        'sales series', 'filled')) }}
{%- endmacro %}


{#-
  The digest of a kept model's code: its SQL as rendered, without the database's name that
  qualifies every relation in it (the file's stem in DuckDB), so a database copied or moved
  to another file name keeps its rows instead of computing them all again.
-#}
{% macro mrs_code_digest(rendered_sql) -%}
    {{ return(local_md5(rendered_sql | replace(adapter.quote(target.database) ~ '.', ''))) }}
{%- endmacro %}
