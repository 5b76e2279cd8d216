{#-
  The reviewers registry as read, one row per line of its file, typed and checked: a
  reviewer needs a login and a role that has permissions (review_permissions); a login
  listed twice keeps its first line; an optional scope (`region:North;store:ST-009`) limits
  the stores whose reports and events they may act on. No file: no reviewers, so every
  journal edit is refused until an admin runs `mrs reviewers add`. The edit checks
  (mrs_checked_edits) read the file through the same macro when they run, so a build that
  selects only the edits' models still checks them against the registry as it is now.
-#}
{% macro mrs_reviewers_checked() -%}
{%- set registry = mrs_reviewers_file() %}
{%- set found = execute and run_query(
    "select count(*) from glob(" ~ mrs_quote_path(registry) ~ ")"
).columns[0].values()[0] > 0 %}

with

raw_reviewers as (
    {%- if found %}
        -- Each line as a JSON object of its header's columns, so a registry written before
        -- the optional `scope` column existed reads as one without scopes.
        select
            to_json(registry_line) ->> 'reviewer' as raw_reviewer,
            to_json(registry_line) ->> 'user_role' as raw_user_role,
            to_json(registry_line) ->> 'scope' as raw_scope,
            {{ mrs_quote_path(registry) }} as source_file,
            row_number() over () as source_row_number
        from read_csv(
            {{ mrs_quote_path(registry) }},
            header = true,
            all_varchar = true,
            delim = ',',
            quote = '"',
            escape = '"',
            null_padding = true
        ) as registry_line
    {%- else %}
        select
            cast(null as varchar) as raw_reviewer,
            cast(null as varchar) as raw_user_role,
            cast(null as varchar) as raw_scope,
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
        lower({{ mrs_text('raw_user_role') }}) as user_role,
        -- Stores the reviewer may act on: `kind:value` entries separated by ';' (kind
        -- store, region, city or retailer); none: every store.
        list_filter(
            list_transform(
                string_split(coalesce({{ mrs_text('raw_scope') }}, ''), ';'), entry -> trim(entry)
            ),
            entry -> entry != ''
        ) as scope_entries
    from raw_reviewers
),

ruled as (
    select
        *,
        {{ mrs_reject_reasons([
            ('reviewer is null', 'missing reviewer'),
            ('user_role is null or user_role not in (select permissions.user_role from permissions)',
                'unknown user_role'),
            ("len(list_filter(scope_entries, entry -> not regexp_full_match("
                ~ "entry, '(store|region|city|retailer):.*\\S.*'))) > 0",
                'scope entries must read store:, region:, city: or retailer: and a value'),
        ]) }} as rule_reason
    from typed
),

{{ mrs_reject_duplicate_keys(['reviewer']) }}

select * from checked
{%- endmacro %}
