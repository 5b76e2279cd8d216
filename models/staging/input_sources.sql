-- Where each input came from in this build: its seed (a reference table whose file is
-- absent or blank), its file, 'missing' (an absent optional file read as empty) or
-- 'unreadable' (a file DuckDB cannot read, read as absent; read_error says why), and whether
-- a CSV file was read with quotes off (a field opened a quote and never closed it). Stages
-- that fall back when an input is missing read this. Derived from input_files, which found
-- and tried every file.
{%- set input_dir = mrs_build_setting('mrs_input_dir') %}
{%- set contract = mrs_input_contract() %}
{#- The inputs read from the project's seeds when no file is found. -#}
{%- set seeded = [] %}
{%- for input_name, spec in contract.items() | sort %}
    {%- if input_dir is none or spec['fallback_to_project_seed'] %}
        {%- do seeded.append(input_name) %}
    {%- endif %}
{%- endfor %}
{%- set seeded_names = "'" ~ seeded | join("', '") ~ "'" %}

with

files as (
    select * from {{ ref('input_files') }}
),

sources as (
    select
        input_name,
        case
            when read_error is not null then 'unreadable'
            -- A blank file (not even a header) of a seeded input counts as absent.
            when file_path is not null and not (is_blank and input_name in ({{ seeded_names }}))
                then file_path
            when input_name in ({{ seeded_names }}) then 'seed:' || input_name
            else 'missing'
        end as source_location,
        read_error,
        coalesce(has_unclosed_quote, false) as is_read_with_quotes_off
    from files
)

select * from sources
