{#-
  Every record file of the model registry's journal (`<database>_models/records/`, written
  by `mrs train` and `mrs models approve` / `rollback`), read as text beside its fields and
  the verdict of the rules. An approval acts for the login it names only if the reviewers
  registry gives that login a role that review_permissions lets approve (or roll back) model
  versions, and it names a version with an earlier candidate record: a file written by hand
  for someone else, or for a version nobody trained, approves nothing.
  `stg_model_registry_records` and `model_registry_errors` split it.
-#}
with

raw_records as (
    select
        record_files.filename as source_file,
        parse_filename(record_files.filename) as file_name,
        record_files.content as raw_record
    from ({{ mrs_json_file_texts(mrs_registry_dir() ~ '/records') }}) as record_files
),

reviewers as (
    select * from {{ ref('stg_reviewers') }}
),

permissions as (
    select * from {{ ref('review_permissions') }}
),

shipped as (
    select * from {{ ref('model_registry') }}
),

parsed as (
    select
        source_file,
        file_name,
        raw_record,
        json_valid(raw_record) as is_json,
        try_cast(split_part(file_name, '-', 1) as integer) as sequence,  -- noqa: RF04
        case when json_valid(raw_record) then cast(raw_record as json) end as record
    from raw_records
),

typed as (
    select
        source_file,
        file_name,
        raw_record,
        is_json,
        sequence,  -- noqa: RF04
        record ->> 'record_type' as record_type,
        record ->> 'model_name' as model_name,
        record ->> 'model_version' as model_version,
        record ->> 'implementation' as implementation,
        record ->> 'trained_on' as trained_on,
        case
            when record ->> 'training_start' is not null
                then (record ->> 'training_start') || ' to ' || (record ->> 'training_end')
        end as training_window,
        cast(record -> 'parameters' as varchar) as parameters,  -- noqa: RF04
        cast(record -> 'metrics' as varchar) as metrics,
        record ->> 'recorded_by' as recorded_by,
        record ->> 'recorded_at' as recorded_at,
        -- Records written before approvals named their action: a rollback was an approval.
        case
            when record ->> 'record_type' = 'approval'
                then coalesce(record ->> 'action', 'approve_model')
        end as approval_action
    from parsed
),

candidates as (
    select
        typed.model_name,
        typed.model_version,
        typed.sequence  -- noqa: RF04
    from typed
    where typed.record_type = 'candidate'
),

ruled as (
    select
        typed.*,
        {{ mrs_reject_reasons([
            ('not typed.is_json', 'not a JSON record'),
            ('typed.is_json and typed.sequence is null',
                'file name does not start with a sequence number'),
            ("typed.is_json and coalesce(typed.record_type, '') not in ('candidate', 'approval')",
                'unknown record_type'),
            ('typed.is_json and typed.model_name not in (select shipped.model_name from shipped)',
                'unknown model_name'),
            ("typed.record_type = 'candidate' and typed.model_version is null",
                'candidate without a model_version'),
            ("typed.record_type = 'approval' and typed.recorded_by not in "
                ~ "(select reviewers.reviewer from reviewers)",
                'approver is not in the reviewers registry'),
            ("typed.record_type = 'approval' and typed.recorded_by in "
                ~ "(select reviewers.reviewer from reviewers) and not exists ("
                ~ "select 1 from reviewers inner join permissions "
                ~ "on reviewers.user_role = permissions.user_role "
                ~ "where reviewers.reviewer = typed.recorded_by "
                ~ "and permissions.action = typed.approval_action)",
                'the role of the approver may not take this action (review_permissions)'),
            ("typed.record_type = 'approval' and typed.model_version is not null and not exists ("
                ~ "select 1 from candidates where candidates.model_name = typed.model_name "
                ~ "and candidates.model_version = typed.model_version "
                ~ "and candidates.sequence < typed.sequence)",
                'approves a version with no earlier candidate record'),
        ]) }} as error_reason
    from typed
)

select * from ruled
