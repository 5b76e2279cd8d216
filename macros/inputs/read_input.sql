{#-
  Reads one input as raw text, whichever way it arrives.

  Every contract column comes back as varchar named `raw_<column>` (a column the file lacks
  becomes a typed null) plus `source_row_number` (1-based position in the file or seed) and `source_file`.
  - var mrs_input_dir unset: the demo seed of the same name.
  - var mrs_input_dir set: `<dir>/<input>.parquet` or `<dir>/<input>.csv`, detected when the
    model runs. A missing file gives an empty input, except the reference tables, which fall
    back to the project's own seed (DESIGN.md section 4). A file DuckDB cannot read (the
    input_files model tries) is treated as missing, and the build says so. Which file was
    found is input_files' answer too, so the folder is searched once per build.
  Staging then types and validates the text; nothing here rejects a row. An input the
  contract shards by store (`shard_by`) gives a shard of a sharded build its stores' rows
  only (macros/sharding/shards.sql), each with its position in the whole file.
  `as_text` false: a Parquet file's or seed's columns as they are typed, not cast to text,
  for a reader that only needs to know whether the rows changed (the cast of every
  timestamp and number to text was most of the time it took to read a Parquet file). A
  sharded build reads text always: its shards are drawn from the stores' text.
-#}
{% macro mrs_read_input(input_name, as_text=true) -%}
    {%- set shard_by = mrs_input_contract()[input_name].get('shard_by') -%}
    {%- if shard_by and mrs_shard_count() > 1 -%}
    {{ mrs_this_shards_rows(mrs_read_whole_input(input_name), 'raw_' ~ shard_by) }}
    {%- else -%}
    {{ mrs_read_whole_input(input_name, as_text) }}
    {%- endif -%}
{%- endmacro %}


{% macro mrs_read_whole_input(input_name, as_text=true) -%}
    {%- set contract = mrs_input_contract()[input_name] -%}
    {%- set input_dir = mrs_build_setting('mrs_input_dir') -%}
    -- depends_on: {{ source('mrs_input', input_name) }}
    -- depends_on: {{ ref('input_files') }}
    {% if contract['fallback_to_project_seed'] or input_dir is none -%}
    -- depends_on: {{ ref(input_name) }}
    {% endif -%}
    {%- if input_dir is none -%}
        {{ mrs_select_raw_columns(ref(input_name), contract['columns'], contract['columns'], 'seed:' ~ input_name, as_text=as_text) }}
    {%- elif not execute -%}
        {{ mrs_select_raw_columns(none, contract['columns'], [], none) }}
    {%- else -%}
        {%- set found, read_error, is_blank, unclosed_quote = mrs_input_file(input_name) -%}
        {#- A blank reference file (0 bytes: not even a header) is no reference table, as if
            absent; a header alone is an empty table the user chose. -#}
        {%- set empty_reference = found and is_blank and contract['fallback_to_project_seed'] -%}
        {%- if empty_reference -%}
            {{ log("mrs: " ~ found ~ " is blank; using the project's own seed", info=true) }}
            {%- set found = none -%}
        {%- endif -%}
        {%- if read_error -%}
            {{ log("mrs: " ~ found ~ " cannot be read (" ~ read_error[:200] ~ "); "
                ~ ("using the project's own seed" if contract['fallback_to_project_seed']
                   else "treating it as empty") ~ "; see input_sources", info=true) }}
            {%- set found = none -%}
        {%- endif -%}
        {%- if found is none and contract['fallback_to_project_seed'] -%}
            {%- if not read_error and not empty_reference %}
            {{ log("mrs: " ~ input_name ~ " not found in " ~ input_dir ~ "; using the project's own seed", info=true) }}
            {%- endif %}
            {{ mrs_select_raw_columns(ref(input_name), contract['columns'], contract['columns'], 'seed:' ~ input_name, as_text=as_text) }}
        {%- elif found is none -%}
            {%- if not read_error %}
            {{ log("mrs: " ~ input_name ~ " not found in " ~ input_dir ~ "; treating it as empty", info=true) }}
            {%- endif %}
            {{ mrs_select_raw_columns(none, contract['columns'], [], none) }}
        {%- else -%}
            {%- set reader = mrs_file_reader(found) -%}
            {%- set present = mrs_file_columns(reader) -%}
            {%- set is_csv = not found.endswith('.parquet') -%}
            {%- if is_csv -%}
                {%- set present = mrs_csv_header(present) -%}
                {%- if unclosed_quote %}
                {{ log("mrs: " ~ found ~ " has a field that opens a quote and never closes it (a "
                    ~ "field read with a line break in it); reading it with quotes off, one line "
                    ~ "one row: that row and any with a quoted comma go to the errors with their "
                    ~ "text", info=true) }}
                {%- endif -%}
                {%- set reader = mrs_csv_rows_reader(found, present, not unclosed_quote) -%}
            {%- endif -%}
            {%- set missing = contract['columns'] | reject('in', present) | list -%}
            {%- if missing %}
                {{ log("mrs: " ~ found ~ " has no column " ~ missing | join(', ') ~ "; read as null", info=true) }}
            {%- endif -%}
            {{ mrs_select_raw_columns(reader, contract['columns'], present, found,
                none if is_csv else 'file_row_number + 1',
                adapter.quote(mrs_extra_fields_column()) if is_csv else none, as_text) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#-
  `row_number`: an expression for the row's position when the reader gives one (Parquet's
  file_row_number, which scans in parallel); else a streaming row_number() in scan order.
  `as_text` false: the columns the reader has, as it types them (mrs_read_input).
-#}
{% macro mrs_select_raw_columns(
    relation, columns, present, source_file, row_number=none, extra_fields=none, as_text=true
) -%}
    select
        {%- for column in columns %}
        {% if column in present and not as_text -%}
        {{ adapter.quote(column) }}
        {%- elif column in present -%}
        cast({{ adapter.quote(column) }} as varchar)
        {%- else -%}
        cast(null as varchar)
        {%- endif %} as raw_{{ column }},
        {%- endfor %}
        -- Text beyond the header's last field (a CSV row with more fields than its header).
        cast({{ extra_fields or 'null' }} as varchar) as raw_extra_fields,
        -- The row's position in its file (a streaming row_number keeps the scan order).
        cast({{ row_number or 'row_number() over ()' }} as bigint) as source_row_number,
        cast({{ mrs_quote_path(source_file) if source_file else 'null' }} as varchar) as source_file
    {%- if relation is none %}
    where false
    {%- else %}
    from {{ relation }}
    {%- endif %}
{%- endmacro %}


{#-
  The file found for an input, DuckDB's error reading it, whether it is blank and whether
  a field of it opens a quote and never closes it, or none for each: the row of the
  input_files model, which found and tried every file before staging runs.
-#}
{% macro mrs_input_file(input_name) -%}
    {%- set probed = run_query(
        "select file_path, read_error, is_blank, has_unclosed_quote from " ~ ref('input_files')
        ~ " where input_name = '" ~ input_name ~ "'"
    ).rows -%}
    {{ return(probed[0] | list if probed else (none, none, none, none)) }}
{%- endmacro %}


{#- Returns the path of `<dir>/<name>.parquet` or `<dir>/<name>.csv` (Parquet first), or none. -#}
{% macro mrs_find_input_file(input_dir, input_name) -%}
    {%- set base = input_dir.rstrip('/') ~ '/' ~ input_name -%}
    {%- set query -%}
        select file from glob({{ mrs_quote_path(base ~ '.parquet') }})
        union all
        select file from glob({{ mrs_quote_path(base ~ '.csv') }})
    {%- endset -%}
    {%- set files = run_query(query).columns[0].values() -%}
    {%- if files | length > 1 -%}
        {{ log("mrs: both " ~ files | join(' and ') ~ " exist; reading the Parquet file", info=true) }}
    {%- endif -%}
    {{ return(files[0] if files else none) }}
{%- endmacro %}


{% macro mrs_file_reader(path) -%}
    {%- if path.endswith('.parquet') -%}
        {{ return("read_parquet(" ~ mrs_quote_path(path) ~ ", file_row_number = true)") }}
    {%- else -%}
        {{ return("read_csv(" ~ mrs_quote_path(path) ~ ", all_varchar = true, "
            ~ mrs_csv_dialect() ~ ")") }}
    {%- endif -%}
{%- endmacro %}


{#- The column that holds a CSV row's fields beyond its header's (mrs_csv_rows_reader). -#}
{% macro mrs_extra_fields_column() -%}
    {{ return('_mrs_extra_fields') }}
{%- endmacro %}


{#-
  A CSV file's header names from the sniffing reader's columns: without the names DuckDB
  makes up (`column5`, `column6`, ...) for fields beyond the header when its sample holds a
  row longer than the header.
-#}
{% macro mrs_csv_header(columns) -%}
    {%- set names = columns | list -%}
    {%- for _ in range(names | length) -%}
        {%- if names and names[-1] == 'column' ~ (names | length - 1) -%}
            {%- do names.pop() -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}


{#-
  The rows of a CSV file with its header's columns, in order, and one more that takes what a
  row has beyond them (an unquoted decimal comma makes `12,5` two fields). The sniffer only
  sees a sample, so past it a longer row's extra field was dropped silently; with the columns
  given and nothing detected, every row is read the same way, short rows padded with nulls,
  and a stray quote inside a field is a character of that field (the row's rules then
  reject it with its text). `quoted` false reads with quotes off: a field that opens a quote
  and never closes it would otherwise take every line up to the next quote with it (DuckDB
  reads on in every mode); one line is then one row.
-#}
{% macro mrs_csv_rows_reader(path, header, quoted=true) -%}
    {%- set columns = [] -%}
    {%- for name in header + [mrs_extra_fields_column()] -%}
        {%- do columns.append("'" ~ name | replace("'", "''") ~ "': 'varchar'") -%}
    {%- endfor -%}
    {{ return("read_csv(" ~ mrs_quote_path(path) ~ ", auto_detect = false, "
        ~ mrs_csv_dialect(quoted) ~ ", columns = {" ~ columns | join(', ') ~ "})") }}
{%- endmacro %}


{#-
  The CSV dialect of every input file, fixed (comma, double quotes) so sniffing cannot fail on
  a messy file; lenient parsing reads mixed line endings and pads short rows with nulls,
  which the staging rules then reject. Quotes off (`quoted` false): no quote character.
-#}
{% macro mrs_csv_dialect(quoted=true) -%}
    {%- set quote = "'\"'" if quoted else "''" -%}
    {{ return("header = true, delim = ',', quote = " ~ quote ~ ", escape = " ~ quote
        ~ ", strict_mode = false, null_padding = true") }}
{%- endmacro %}


{% macro mrs_file_columns(reader) -%}
    {%- set described = run_query('describe select * from ' ~ reader) -%}
    {{ return(described.columns[0].values() | map('lower') | list) }}
{%- endmacro %}
