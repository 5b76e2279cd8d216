{#-
  What the real baseline is fitted on (DESIGN.md section 6): the approved registry version of
  baseline_sales_model (`mrs train baseline_sales_model`, `mrs models approve`), whose training
  window and confirmed-anomaly exclusions come from its parameters; else the vars
  [training_start, detection_start) and the version shipped with the project.
-#}

with

settings as (
    select * from {{ ref('run_settings') }}
),

registry as (
    select * from {{ ref('model_registry_log') }}
),

latest_approval as (
    select registry.model_version
    from registry
    where registry.model_name = 'baseline_sales_model' and registry.record_type = 'approval'
    qualify row_number() over (order by registry.sequence desc) = 1
),

approved as (
    select registry.*
    from registry
    inner join latest_approval on registry.model_version = latest_approval.model_version
    where registry.model_name = 'baseline_sales_model' and registry.record_type = 'candidate'
),

plan as (
    select
        coalesce(
            cast(json_extract_string(approved.parameters, '$.training_start') as timestamp),
            settings.training_start
        ) as training_start,
        coalesce(
            cast(json_extract_string(approved.parameters, '$.training_end') as timestamp),
            settings.detection_start
        ) as training_end,
        coalesce(approved.model_version, '{{ mrs_model_version("baseline_sales_model") }}')
            as model_version,
        approved.parameters
    from settings
    left join approved on true
)

select * from plan
