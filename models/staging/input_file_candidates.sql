-- The file this build finds for each input in `mrs_input_dir` and the DuckDB reader staging
-- will scan it with; input_files tries each reader (DESIGN.md section 4).
{%- set input_dir = mrs_build_setting('mrs_input_dir') %}
{%- set found_files = [] %}
{%- for input_name in mrs_input_contract() | sort %}
    {%- set found = mrs_find_input_file(input_dir, input_name)
        if input_dir is not none and execute else none %}
    {%- do found_files.append((
        input_name,
        found,
        mrs_file_reader(found) if found else none,
    )) %}
{%- endfor %}

with

candidates as (
    {% for input_name, found, reader in found_files -%}
        select
            '{{ input_name }}' as input_name,
            {{ mrs_quote_path(found) if found else 'null' }} as file_path,
            {{ mrs_quote_path(reader) if reader else 'null' }} as reader_sql
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    input_name,
    cast(file_path as varchar) as file_path,
    cast(reader_sql as varchar) as reader_sql
from candidates
