{#-
  The reviewers registry as read, one row per line of its file, typed and checked: a
  reviewer needs a login and a role that has permissions (review_permissions); a login
  listed twice keeps its first line. No file: no reviewers, so every journal edit is refused
  until an admin runs `mrs reviewers add`. The edit checks (mrs_checked_edits) read the file
  through the same macro when they run, so a build that selects only the edits' models
  still checks them against the registry as it is now.
-#}
{% macro mrs_reviewers_checked() -%}
{%- set registry = mrs_reviewers_file() %}
{%- set found = execute and run_query(
    "select count(*) from glob(" ~ mrs_quote_path(registry) ~ ")"
).columns[0].values()[0] > 0 %}

with

raw_reviewers as (
    {%- if found %}
        select
            cast(reviewer as varchar) as raw_reviewer,
            cast(user_role as varchar) as raw_user_role,
            {{ mrs_quote_path(registry) }} as source_file,
            row_number() over () as source_row_number
        from read_csv(
            {{ mrs_quote_path(registry) }},
            header = true,
            all_varchar = true,
            delim = ',',
            quote = '"',
            escape = '"',
            columns = {'reviewer': 'varchar', 'user_role': 'varchar'}
        )
    {%- else %}
        select
            cast(null as varchar) as raw_reviewer,
            cast(null as varchar) as raw_user_role,
            cast(null as varchar) as source_file,
            cast(null as bigint) as source_row_number
        where false
    {%- endif %}
),

permissions as (
    select * from {{ ref('review_permissions') }}
),

typed as (
    select
        *,
        {{ mrs_text('raw_reviewer') }} as reviewer,
        lower({{ mrs_text('raw_user_role') }}) as user_role
    from raw_reviewers
),

ruled as (
    select
        *,
        {{ mrs_reject_reasons([
            ('reviewer is null', 'missing reviewer'),
            ('user_role is null or user_role not in (select permissions.user_role from permissions)',
                'unknown user_role'),
        ]) }} as rule_reason
    from typed
),

{{ mrs_reject_duplicate_keys(['reviewer']) }}

select * from checked
{%- endmacro %}
