{#-
  model_registry_log (DESIGN.md section 6): every model version and every approval, append
  only: the versions shipped with the project (seed model_registry), then the records of the
  registry journal beside the database (`mrs train` candidates, `mrs models approve` and
  `rollback` approvals), appended as they appear once they pass the registry's rules
  (stg_model_registry_records: an approval by someone the reviewers registry does not let
  approve is never logged, and goes to model_registry_errors).
-#}
with

shipped as (
    select * from {{ ref('model_registry') }}
),

shipped_records as (
    select
        0 as sequence,  -- noqa: RF04
        'shipped' as record_type,
        model_name,
        model_version,
        implementation,
        trained_on,
        training_window,
        cast(null as varchar) as parameters,  -- noqa: RF04
        cast(null as varchar) as metrics,
        approval_status,
        'model_registry seed' as recorded_by,
        cast(null as varchar) as recorded_at
    from shipped
),

journal_records as (
    -- Only records that pass the registry's rules (model_registry_errors has the rest).
    select
        records.sequence,  -- noqa: RF04
        records.record_type,
        records.model_name,
        records.model_version,
        records.implementation,
        records.trained_on,
        records.training_window,
        records.parameters,  -- noqa: RF04
        records.metrics,
        case
            when records.record_type = 'candidate' then 'candidate' else 'approved'
        end as approval_status,
        records.recorded_by,
        records.recorded_at
    from {{ ref('stg_model_registry_records') }} as records
),

all_records as (
    select * from shipped_records
    union all by name
    select * from journal_records
),

identified as (
    select
        {{ mrs_id('MV-', [
            'all_records.sequence', 'all_records.record_type', 'all_records.model_name',
            'all_records.model_version'
        ]) }} as registry_record_id,
        all_records.*
    from all_records
),

new_records as (
    select identified.*
    from identified
    {%- if is_incremental() %}
        where identified.registry_record_id not in (
            select logged.registry_record_id from {{ this }} as logged
        )
    {%- endif %}
)

select * from new_records
