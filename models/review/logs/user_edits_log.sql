-- The analysts' edits, one row per edit (DESIGN.md section 7), appended as new
-- journal files appear. full_refresh is off: not even `dbt build --full-refresh` rebuilds
-- it. A journal file is logged once; the same action typed twice is two edits.
-- Auto-approval (off by default, var auto_approval_enabled) adds an approve with
-- user_role 'system' at the first tick a report's proposed confidence reaches
-- `auto_approval_min_confidence`; finalisation ranks it below every analyst decision.
{{ config(full_refresh=false) }}

with

checked as (
    select * from {{ ref('stg_user_edits_checked') }}
),

valid as (
    {{ mrs_valid_edits('report_id') }}
),

system_approvals as (
    {%- if var('auto_approval_enabled', false) %}
        select
            {{ mrs_id('', [
                'attributed.report_id', "'approve'", 'null', 'null', 'null', 'null', 'null',
                "'auto-approved: confidence ' || round(attributed.confidence_score, 4)",
                "'mrs-auto-approval'", "'system'",
                "strftime(attributed.written_at, '%Y-%m-%d %H:%M:%S')", 'attributed.run_id'
            ], length=32) }} as annotation_id,
            attributed.report_id,
            'approve' as action,
            cast(null as varchar) as cause,
            cast(null as varchar) as cause_category,
            cast(null as double) as confidence,
            cast(null as varchar) as evidence,
            cast(null as varchar) as reopen_reason,
            'auto-approved: confidence ' || round(attributed.confidence_score, 4) as notes,
            'mrs-auto-approval' as actor,
            'system' as user_role,
            attributed.written_at as edited_at,
            attributed.run_id,
            cast(null as varchar) as source_file
        from {{ ref('minority_reports_proposed_attribution_log') }} as attributed
        where attributed.confidence_score >= {{ var('auto_approval_min_confidence') }}
        qualify row_number() over (
            partition by attributed.run_id, attributed.report_id
            order by attributed.written_at
        ) = 1
    {%- else %}
        select * from valid
        where false
    {%- endif %}
),

all_edits as (
    select * from valid
    union all
    select * from system_approvals
),

new_edits as (
    {{ mrs_unlogged_edits('all_edits') }}
)

select * from new_edits  -- noqa: AM04
