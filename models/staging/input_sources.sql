-- Where each input came from in this build: its seed, its file, 'missing' (an absent
-- optional file read as empty) or 'unreadable' (a file DuckDB cannot read, read as absent;
-- read_error says why). Stages that fall back when an input is missing read this.
{%- set input_dir = var('mrs_input_dir', none) %}
{%- set contract = mrs_input_contract() %}
{%- set located = [] %}
{%- for input_name in contract | sort %}
    {%- if input_dir is none %}
        {%- do located.append((input_name, 'seed:' ~ input_name)) %}
    {%- elif execute %}
        {%- set found = mrs_find_input_file(input_dir, input_name) %}
        {%- if found and mrs_input_read_error(input_name) %}
            {%- do located.append((input_name, 'unreadable')) %}
        {%- elif found %}
            {%- do located.append((input_name, found)) %}
        {%- elif contract[input_name]['fallback_to_project_seed'] %}
            {%- do located.append((input_name, 'seed:' ~ input_name)) %}
        {%- else %}
            {%- do located.append((input_name, 'missing')) %}
        {%- endif %}
    {%- else %}
        {%- do located.append((input_name, 'unknown')) %}
    {%- endif %}
{%- endfor %}

with

files as (
    select * from {{ ref('input_files') }}
),

located as (
    {% for input_name, location in located -%}
        select
            '{{ input_name }}' as input_name,
            '{{ location }}' as source_location
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

sources as (
    select
        located.input_name,
        located.source_location,
        files.read_error
    from located
    left join files on located.input_name = files.input_name
)

select * from sources
