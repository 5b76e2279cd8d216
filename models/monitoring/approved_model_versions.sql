{#-
  The one place that decides which trained version of a model is in force: per model, the
  candidate its latest logged approval names (model_registry_log holds only approvals that
  passed the registry's rules). No row for a model never approved, or rolled back to the
  version shipped with the project. baseline_training_plan and the Python models read it.
-#}
with

registry as (
    select * from {{ ref('model_registry_log') }}
),

latest_approvals as (
    select
        registry.model_name,
        registry.model_version,
        registry.recorded_by as approved_by,
        registry.sequence as approval_sequence
    from registry
    where registry.record_type = 'approval'
    qualify row_number() over (
            partition by registry.model_name order by registry.sequence desc
        ) = 1
),

in_force as (
    select
        latest_approvals.model_name,
        latest_approvals.model_version,
        candidates.trained_on,
        candidates.training_window,
        candidates.parameters,  -- noqa: RF04
        candidates.metrics,
        try_cast(json_extract_string(candidates.metrics, '$.accuracy') as double)
            as model_confidence_metric,
        latest_approvals.approved_by,
        latest_approvals.approval_sequence
    from latest_approvals
    inner join registry as candidates
        on
            latest_approvals.model_name = candidates.model_name
            and latest_approvals.model_version = candidates.model_version
            and candidates.record_type = 'candidate'
            and latest_approvals.approval_sequence > candidates.sequence
    qualify row_number() over (
            partition by latest_approvals.model_name order by candidates.sequence desc
        ) = 1
)

select * from in_force
