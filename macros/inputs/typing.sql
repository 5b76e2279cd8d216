{#- Typing helpers for raw text inputs: blank text is null, unparseable text is null. -#}

{% macro mrs_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#-
  Times are UTC. A time written with a UTC offset (`14:00+02:00`, `14:00:00-0530`, `...Z`) is
  the instant it names, converted to UTC; without one it is taken as UTC already. (A plain
  cast to timestamp drops the offset: 14:00+02:00 became 14:00, and the genuine 12:00 row
  was then a duplicate.) Only text longer than a bare timestamp can carry an offset, so the
  pattern runs on those alone.
-#}
{% macro mrs_to_timestamp(column) -%}
    case
        when
            length(trim({{ column }})) > 19
            and regexp_matches(
                trim({{ column }}), '\d:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}(:?\d{2})?|Z)$'
            )
            then timezone('UTC', try_cast(trim({{ column }}) as timestamptz))
        else try_cast(nullif(trim({{ column }}), '') as timestamp)
    end
{%- endmacro %}

{% macro mrs_to_double(column) -%}
    try_cast(nullif(trim({{ column }}), '') as double)
{%- endmacro %}

{#- True when the text is present but does not parse as `type`. -#}
{% macro mrs_unparseable(column, type) -%}
    (nullif(trim({{ column }}), '') is not null
        and try_cast(trim({{ column }}) as {{ type }}) is null)
{%- endmacro %}

{#-
  Builds the rejection reason of a row from (condition, reason) pairs: every failed rule is
  named, separated by '; '; null when the row passes.
-#}
{% macro mrs_reject_reasons(rules) -%}
    nullif(concat_ws('; '
        {%- for condition, reason in rules %}
        , case when {{ condition }} then '{{ reason }}' end
        {%- endfor %}
    ), '')
{%- endmacro %}

{#-
  The rules every input row meets: no fields beyond its header's (CSV) and a value in every
  required column ('missing <column>'), on the raw_ columns.
-#}
{% macro mrs_required_rules(input_name) -%}
    {%- set rules = [
        ('raw_extra_fields is not null',
            'more fields than the header (an unquoted decimal comma?)')
    ] -%}
    {%- for column in mrs_input_contract()[input_name]['required'] -%}
        {%- do rules.append((mrs_text('raw_' ~ column) ~ ' is null', 'missing ' ~ column)) -%}
    {%- endfor -%}
    {{ return(rules) }}
{%- endmacro %}

{#-
  The rules for every number of an input (its contract's `numbers`), on `relation`'s typed
  column and its raw_ text: 'unparseable <column>'; 'non-finite <column>' (inf, -inf and nan
  parse as doubles, and text beyond the double range parses as inf, but none is a number
  the pipeline can add up); below the contract's minimum, 'negative <column>' when that is
  0, else '<column> out of range'; above its maximum, '<column> out of range'. A non-finite
  value fails that rule alone.
-#}
{% macro mrs_number_rules(input_name, relation=none) -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {%- set rules = [] -%}
    {%- for column, bounds in mrs_input_contract()[input_name].get('numbers', {}).items() -%}
        {%- set value = prefix ~ column -%}
        {%- do rules.append((mrs_unparseable(prefix ~ 'raw_' ~ column, 'double'),
            'unparseable ' ~ column)) -%}
        {%- do rules.append(('not isfinite(' ~ value ~ ')', 'non-finite ' ~ column)) -%}
        {%- set outside = [] -%}
        {%- if bounds.get('min') == 0 -%}
            {%- do rules.append(('isfinite(' ~ value ~ ') and ' ~ value ~ ' < 0',
                'negative ' ~ column)) -%}
        {%- elif bounds.get('min') is not none -%}
            {%- do outside.append(value ~ ' < ' ~ bounds['min']) -%}
        {%- endif -%}
        {%- if bounds.get('max') is not none -%}
            {%- do outside.append(value ~ ' > ' ~ bounds['max']) -%}
        {%- endif -%}
        {%- if outside -%}
            {%- do rules.append(('isfinite(' ~ value ~ ') and (' ~ outside | join(' or ') ~ ')',
                column ~ ' out of range')) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(rules) }}
{%- endmacro %}

{#- The raw text columns of an input under their contract names, for its _errors table. -#}
{% macro mrs_raw_columns(input_name, relation=none) -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {%- for column in mrs_input_contract()[input_name]['columns'] %}
        {{ prefix }}raw_{{ column }} as {{ column }},
    {%- endfor %}
        {{ prefix }}raw_extra_fields as extra_fields
{%- endmacro %}
