{#-
  The one id builder of the project (DESIGN.md section 3).

  Joins the parts with '|' (a null part becomes the empty string, so the position of every
  part is kept), hashes with md5 through dbt's cross-database `hash` macro and keeps the first
  `length` hex characters behind `prefix`:
    report_id       = mrs_id('MR-', ['store_id', 'sku', 'first_detected_from'])
    report_group_id = mrs_id('ME-', ['earliest_report_id', 'earliest_first_detected_from'])
    annotation_id   = mrs_id('', [...the edit's own fields...], length=32)
  Timestamps hash in their varchar form, 'YYYY-MM-DD HH:MM:SS'.
-#}
{% macro mrs_id(prefix, parts, length=12) -%}
    {%- set joined -%}
        concat_ws('|'
        {%- for part in parts -%}
            , coalesce(cast({{ part }} as varchar), '')
        {%- endfor -%}
        )
    {%- endset -%}
    '{{ prefix }}' || left({{ dbt.hash(joined) }}, {{ length }})
{%- endmacro %}
