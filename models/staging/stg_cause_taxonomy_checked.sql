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

ranked as (
    select
        *,
        {{ mrs_duplicate_rank(['cause_category']) }} as key_rank
    from ruled
),

checked as (
    select
        *,
        coalesce(
            rule_reason,
            case when key_rank > 1 then 'duplicate key (cause_category)' end
        ) as error_reason
    from ranked
)

select * from checked
