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

approved as (
    select * from {{ ref('approved_model_versions') }}
    where model_name = 'baseline_sales_model'
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
