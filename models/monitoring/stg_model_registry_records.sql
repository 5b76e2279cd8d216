-- The model registry journal's records that pass every rule (stg_model_registry_records_checked).
with

checked as (
    select * from {{ ref('stg_model_registry_records_checked') }}
),

accepted as (
    select
        sequence,  -- noqa: RF04
        record_type,
        model_name,
        model_version,
        implementation,
        trained_on,
        training_window,
        parameters,  -- noqa: RF04
        metrics,
        recorded_by,
        recorded_at,
        approval_action
    from checked
    where error_reason is null
)

select * from accepted
