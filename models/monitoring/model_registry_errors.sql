-- Record files of the model registry journal that break a rule: they change no model version.
with

checked as (
    select * from {{ ref('stg_model_registry_records_checked') }}
),

rejected as (
    select
        source_file,
        file_name,
        raw_record,
        record_type,
        model_name,
        model_version,
        recorded_by,
        error_reason
    from checked
    where error_reason is not null
)

select * from rejected
