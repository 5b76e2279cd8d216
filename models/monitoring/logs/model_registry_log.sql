{#-
  model_registry_log (DESIGN.md section 6): every model version and every approval, append
  only: the versions shipped with the project (seed model_registry), then the records of the
  registry journal beside the database (`mrs train` candidates, `mrs models approve` and
  `rollback` approvals), appended as they appear.
-#}
{%- set folder = mrs_registry_dir() ~ '/records' %}
{%- set pattern = mrs_quote_path(folder ~ "/*.json") %}
{%- set listing = "select file from glob(" ~ pattern ~ ") order by file" %}
{%- set files = run_query(listing).columns[0].values() | list if execute else [] %}

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
    {%- if files %}
        select
            cast(split_part(parse_filename(filename), '-', 1) as integer) as sequence,  -- noqa: RF04
            record_type,
            model_name,
            model_version,
            implementation,
            trained_on,
            case
                when training_start is not null then training_start || ' to ' || training_end
            end as training_window,
            cast(to_json(parameters) as varchar) as parameters,  -- noqa: RF04
            cast(to_json(metrics) as varchar) as metrics,
            case
                when record_type = 'candidate' then 'candidate' else 'approved'
            end as approval_status,
            recorded_by,
            recorded_at
        from read_json(
            [{%- for file in files %}{{ mrs_quote_path(file) }}{{ ', ' if not loop.last }}{% endfor -%}],
            format = 'auto',
            union_by_name = true,
            filename = true
        )
    {%- else %}
        select
            cast(null as integer) as sequence,  -- noqa: RF04
            cast(null as varchar) as record_type,
            cast(null as varchar) as model_name,
            cast(null as varchar) as model_version,
            cast(null as varchar) as implementation,
            cast(null as varchar) as trained_on,
            cast(null as varchar) as training_window,
            cast(null as varchar) as parameters,  -- noqa: RF04
            cast(null as varchar) as metrics,
            cast(null as varchar) as approval_status,
            cast(null as varchar) as recorded_by,
            cast(null as varchar) as recorded_at
        where false
    {%- endif %}
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
