{{ config(materialized='table') }}

with

raw_taxonomy as (
    {{ mrs_read_input('cause_taxonomy') }}
),

typed as (
    select
        *,
        lower({{ mrs_text('raw_cause_category') }}) as cause_category,
        -- label and description are contract column names (DESIGN.md section 4).
        {{ mrs_text('raw_label') }} as label,  -- noqa: RF04
        {{ mrs_text('raw_description') }} as description
    from raw_taxonomy
),

ruled as (
    select
        *,
        {{ mrs_reject_reasons(mrs_required_rules('cause_taxonomy')) }} as rule_reason
    from typed
),

{{ mrs_reject_duplicate_keys(['cause_category']) }}

select * from checked
