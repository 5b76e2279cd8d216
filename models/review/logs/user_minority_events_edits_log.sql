-- The analysts' event edits, one row per edit (DESIGN.md section 7), appended as new
-- journal files appear. full_refresh is off: not even `dbt build --full-refresh` rebuilds
-- it. A journal file is logged once; the same action typed twice is two edits.
{{ config(full_refresh=false) }}

with

checked as (
    select * from {{ ref('stg_user_minority_events_edits_checked') }}
),

valid as (
    {{ mrs_valid_edits('report_group_id') }}
),

new_edits as (
    {{ mrs_unlogged_edits('valid') }}
)

select * from new_edits
