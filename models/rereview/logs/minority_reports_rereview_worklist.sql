{#-
  MRRW: the rereview worklist (DESIGN.md section 8), one row per report and rereview round.
  At the last tick of a build, a finalised report (approved or rejected) is listed when it
  was finalised at least `rereview_after_days` ago, its final confidence is below
  `rereview_min_confidence`, or the cluster or attribution model version that scored it is
  not the version routed now. A report gets at most one round per pair of current model
  versions, so a rebuild lists nothing new until a model changes. Rereview is downstream
  only: it never changes the original logs.
-#}
{%- set cluster_version = "(select coalesce(max(current_model.model_version), '"
    ~ mrs_model_version('cluster_comparison_model') ~ "') from "
    ~ ref('cluster_comparison_model') ~ " as current_model)" %}
{#- The attribution version routed now: an approved registry version, else the shipped one. -#}
{%- set attribution_version = "(select coalesce(max(current_model.model_version), '"
    ~ mrs_model_version('attribution_model') ~ "') from " ~ ref('attribution_model')
    ~ " as current_model)" %}

with

settings as (
    select * from {{ ref('run_settings') }}
),

ticks as (
    select * from {{ ref('ticks') }}
),

latest_final as (
    select * from {{ ref('minority_reports_finalised_log_current') }}
),

latest_cluster as (
    select * from {{ ref('minority_reports_clustered_log_current') }}
),

latest_attribution as (
    select * from {{ ref('minority_reports_proposed_attribution_log_current') }}
),

last_tick as (
    select max(ticks.tick_ts) as tick_ts from ticks
),

previous_rounds as (
    {%- if is_incremental() %}
        select
            logged.report_id,
            max(logged.rereview_round) as previous_round,
            bool_or(
                logged.cluster_model_version_current = {{ cluster_version }}
                and logged.attribution_model_version_current = {{ attribution_version }}
            ) as has_current_round
        from {{ this }} as logged
        inner join settings on logged.run_id = settings.run_id
        group by logged.report_id
    {%- else %}
        select
            cast(null as varchar) as report_id,
            cast(0 as integer) as previous_round,
            false as has_current_round
        where false
    {%- endif %}
),

candidates as (
    select
        latest_final.report_id,
        latest_final.final_decision,
        latest_final.final_confidence,
        latest_final.finalized_at,
        latest_cluster.model_version as cluster_model_version_scored,
        latest_attribution.model_version as attribution_model_version_scored,
        latest_attribution.written_at as snapshot_written_at,
        last_tick.tick_ts,
        list_filter([
            case
                when latest_final.finalized_at <= {{ dbt.dateadd(
                    'day', -(var('rereview_after_days') | int), 'last_tick.tick_ts'
                ) }}
                    then 'old'
            end,
            case
                when latest_final.final_confidence < {{ var('rereview_min_confidence') }}
                    then 'low_confidence'
            end,
            case
                when latest_cluster.model_version != {{ cluster_version }}
                    then 'cluster_model_changed'
            end,
            case
                when latest_attribution.model_version != {{ attribution_version }}
                    then 'attribution_model_changed'
            end
        ], reason -> reason is not null) as reasons
    from latest_final
    cross join last_tick
    inner join latest_attribution on latest_final.report_id = latest_attribution.report_id
    left join latest_cluster on latest_final.report_id = latest_cluster.report_id
    where latest_final.final_decision in ('approved', 'rejected')
),

worklist as (
    select
        candidates.report_id,
        cast(coalesce(previous_rounds.previous_round, 0) + 1 as integer) as rereview_round,
        candidates.reasons,
        candidates.final_decision,
        candidates.final_confidence,
        candidates.finalized_at,
        candidates.cluster_model_version_scored,
        candidates.attribution_model_version_scored,
        {{ cluster_version }} as cluster_model_version_current,
        {{ attribution_version }} as attribution_model_version_current,
        candidates.snapshot_written_at,
        candidates.tick_ts as written_at,
        settings.run_id
    from candidates
    cross join settings
    left join previous_rounds on candidates.report_id = previous_rounds.report_id
    where
        len(candidates.reasons) > 0
        and not coalesce(previous_rounds.has_current_round, false)
)

select * from worklist
