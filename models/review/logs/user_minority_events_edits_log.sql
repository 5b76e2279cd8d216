-- The analysts' event edits, one row per edit (DESIGN.md section 7), appended as new
-- journal files appear. full_refresh is off: not even `dbt build --full-refresh` rebuilds
-- it. A replayed edit (same fields) has the same annotation_id and is logged once.
{{ config(full_refresh=false) }}

with

checked as (
    select * from {{ ref('stg_user_minority_events_edits_checked') }}
),

valid as (
    {{ mrs_valid_edits('report_group_id') }}
),

new_edits as (
    select valid.*
    from valid
    {%- if is_incremental() %}
        where valid.annotation_id not in (select logged.annotation_id from {{ this }} as logged)
    {%- endif %}
)

select * from new_edits
