{#-
  model_monitoring_metrics is kept from build to build (issue 18): a build computes only the
  ticks after the newest it holds. What it holds stands while the active run, the model's
  code and the monitoring vars stay the same; their digest is stored on every row.
-#}


{#- The digest of what a tick's metrics are computed by: the model's code and its vars. -#}
{% macro mrs_monitoring_digest() -%}
    {%- set settings = [model.raw_code] -%}
    {%- for name in [
        'monitoring_window_hours', 'monitoring_max_residual_bias',
        'monitoring_max_residual_rms_ratio', 'monitoring_max_residual_psi',
        'monitoring_max_confidence_decay', 'monitoring_max_anomaly_rate',
    ] -%}
        {%- do settings.append(name ~ '=' ~ var(name)) -%}
    {%- endfor -%}
    {{ return(local_md5(settings | join('\n'))) }}
{%- endmacro %}


{#- The kept rows that no longer stand: another run's, another digest's, a tick gone. -#}
{% macro mrs_outdated_metrics_condition(metrics_digest, kept='kept') -%}
    {{ kept }}.run_id is distinct from (select settings.run_id from {{ ref('run_settings') }} as settings)
    or {{ kept }}.metrics_digest is distinct from '{{ metrics_digest }}'
    or {{ kept }}.tick_ts not in (select ticks.tick_ts from {{ ref('ticks') }} as ticks)
{%- endmacro %}


{#- Pre-hook: forgets the kept rows that no longer stand, in the build's transaction. -#}
{% macro mrs_forget_outdated_metrics(metrics_digest) -%}
    {%- if execute and is_incremental() -%}
        delete from {{ this }} as kept
        where {{ mrs_outdated_metrics_condition(metrics_digest) }}
    {%- endif -%}
{%- endmacro %}


{#-
  The first tick this build computes, as a SQL timestamp literal: the one after the newest
  kept tick that still stands; none on a first or full-refresh build (every tick). The
  model is compiled before its pre-hook runs, so the rows that no longer stand are left out
  here too. Says what it keeps.
-#}
{% macro mrs_first_pending_metrics_tick(metrics_digest) -%}
    {%- if not execute or not is_incremental() -%}{{ return(none) }}{%- endif -%}
    {%- set newest_sql -%}
        select
            max(kept.tick_ts) + to_hours(max(settings.tick_hours)) as first_pending_tick,
            count(distinct kept.tick_ts) as kept_ticks
        from {{ this }} as kept
        cross join {{ ref('run_settings') }} as settings
        where not ({{ mrs_outdated_metrics_condition(metrics_digest) }})
    {%- endset -%}
    {%- set newest = run_query(newest_sql).rows[0] -%}
    {%- if newest['first_pending_tick'] is none -%}
        {{ log("mrs: model_monitoring_metrics: every tick computed (none kept)", info=true) }}
        {{ return(none) }}
    {%- endif -%}
    {{ log("mrs: model_monitoring_metrics: " ~ newest['kept_ticks'] ~ " tick(s) kept, "
        ~ "computed from " ~ newest['first_pending_tick'], info=true) }}
    {{ return("timestamp '" ~ newest['first_pending_tick'] ~ "'") }}
{%- endmacro %}


{#-
  The predictions' hours a build's metrics read: on a build that computes every tick, all;
  else the training days (the reference) and the windows of the ticks it computes, a range
  of the time-ordered predictions whose other row groups are skipped.
-#}
{% macro mrs_monitored_hours(first_pending_tick, window) -%}
    {%- if first_pending_tick is none -%}
        true
    {%- else -%}
        (sales_ts < (select settings.detection_start from settings)
            or sales_ts >= {{ first_pending_tick }} - to_hours({{ window }}))
    {%- endif -%}
{%- endmacro %}


{#- Each metric's newest kept tick before `first_pending_tick` and whether it breached. -#}
{% macro mrs_previous_breaches(first_pending_tick) -%}
    {%- if first_pending_tick is none -%}
    select
        cast(null as varchar) as model_name,
        cast(null as varchar) as metric,
        cast(null as timestamp) as tick_ts,
        cast(null as boolean) as is_breached
    where false
    {%- else -%}
    select
        kept.model_name,
        kept.metric,
        kept.tick_ts,
        kept.is_breached
    from {{ this }} as kept
    where kept.tick_ts < {{ first_pending_tick }}
    qualify row_number() over (
            partition by kept.model_name, kept.metric order by kept.tick_ts desc
        ) = 1
    {%- endif -%}
{%- endmacro %}
