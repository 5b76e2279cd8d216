{#-
  What the baseline fit is fitted on, as one digest: the SQL of the fit as rendered (vars,
  route and macros expanded), the training plan (window, model version, parameters), the
  confirmed-anomaly exclusions, the holidays the contextual data names and every training row
  (an order-free checksum of store, sku, hour, units and the feed's gaps). A restated
  training day, an approved or rolled-back version, a changed holiday, a changed var or
  changed code each give another digest, and the fit is computed again.
-#}
{% macro mrs_fit_fingerprint(fit_sql) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {#- Compiling without a build (sqlfluff, dbt compile on an empty file): no digest, and
        the next build fits again. -#}
    {%- for parent in ['sales_timeseries_data', 'baseline_training_exclusions',
            'baseline_holiday_days', 'baseline_training_plan'] -%}
        {%- set relation = ref(parent) -%}
        {%- if adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier
        ) is none -%}
            {{ return('') }}
        {%- endif -%}
    {%- endfor -%}
    {%- set inputs_sql -%}
        select
            plan.training_start,
            plan.training_end,
            plan.model_version,
            plan.parameters,
            (
                -- (what the sales series' day digests read of a row)
                select coalesce({{ mrs_series_day_digest('series_hours') }}, 0)
                from {{ ref('sales_timeseries_data') }} as series_hours
                where
                    series_hours.sales_ts >= plan.training_start
                    and series_hours.sales_ts < plan.training_end
            ) as training_rows,
            (
                select coalesce({{ mrs_rows_digest(
                    'exclusions', ['store_id', 'sku', 'excluded_day']) }}, 0)
                from {{ ref('baseline_training_exclusions') }} as exclusions
            ) as excluded_days,
            (
                select coalesce({{ mrs_rows_digest(
                    'holidays', ['store_id', 'sku', 'holiday_day', 'is_left_out']) }}, 0)
                from {{ ref('baseline_holiday_days') }} as holidays
            ) as holiday_days
        from {{ ref('baseline_training_plan') }} as plan
    {%- endset -%}
    {%- set inputs = run_query(inputs_sql) -%}
    {%- set described = [] -%}
    {%- for row in inputs.rows -%}
        {%- do described.append(row.values() | join('|')) -%}
    {%- endfor -%}
    {{ return(mrs_code_digest(fit_sql ~ '||' ~ described | join('||'))) }}
{%- endmacro %}


{#- The fit already built has `fingerprint` (and --full-refresh was not asked for). -#}
{% macro mrs_fit_is_current(fingerprint) -%}
    {%- if not execute or flags.FULL_REFRESH or not fingerprint -%}{{ return(false) }}{%- endif -%}
    {%- set built = adapter.get_relation(
        database=this.database, schema=this.schema, identifier=this.identifier
    ) -%}
    {%- if built is none -%}{{ return(false) }}{%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(built) | map(attribute='name') | list -%}
    {%- if 'fit_fingerprint' not in columns -%}{{ return(false) }}{%- endif -%}
    {%- set same = run_query(
        "select count(*) > 0 and bool_and(fit_fingerprint = '" ~ fingerprint ~ "') from "
        ~ built
    ) -%}
    {%- set current = same.columns[0].values()[0] == true -%}
    {%- if current -%}
        {{ log("mrs: baseline fit kept: its training rows, plan, exclusions and code are "
            ~ "unchanged", info=true) }}
    {%- endif -%}
    {{ return(current) }}
{%- endmacro %}


{#-
  Incremental strategy of baseline_sales_model_fit: a build that fitted again (its rows carry
  a boundary row, no store, never inserted) replaces every kept row; a build whose fit is
  current writes none and keeps them.
-#}
{% macro get_incremental_replace_when_fitted_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    delete from {{ target }}
    where exists (select 1 from {{ source }});
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
    where store_id is not null
{%- endmacro %}


{#-
  `set memory_limit` to `fraction` of the build's (the profile's `memory_limit` setting: a
  number and a unit such as 3GB; none of this for another form or none). The fit
  runs under two thirds of it: its medians over every series' hours of the week hold about
  0.7-0.9 GiB beyond DuckDB's limit (at 20 M sales rows and a 3 GB limit the build's peak, 4.1
  to 4.3 GiB, was the fit's; under 2 GB it took as long, 82 s), and the post-hook gives the
  rest of the build its limit back. DuckDB's limit is the database's, so a node running
  beside the fit has the lower limit too.
-#}
{% macro mrs_set_memory_limit(fraction) -%}
    {%- set configured = (target.settings or {}).get('memory_limit') or '' -%}
    {%- set parsed = modules.re.match(
        '^\\s*([0-9]+(?:\\.[0-9]+)?)\\s*([KMGT]i?B)\\s*$', configured, modules.re.IGNORECASE) -%}
    {%- if parsed -%}
        set memory_limit = '{{ (parsed.group(1) | float * fraction) | round(3) }}{{ parsed.group(2) }}'
    {%- endif -%}
{%- endmacro %}
