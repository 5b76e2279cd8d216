{#-
  Says, in the build's output, where the baseline's day does not start at midnight (model
  baseline_day_start's post-hook): a UTC feed of stores far from UTC is the usual reason, and
  setting mrs_store_timezone is then the better fix. Renders no SQL.
-#}
{% macro mrs_say_day_start() -%}
    {%- if execute -%}
        {%- set found = run_query(
            'select day_start_hour, midnight_cut_share from ' ~ this).rows -%}
        {%- if found | length == 1 and found[0][0] != 0 -%}
            {{ log("mrs: the baseline's day starts at " ~ "%02d" | format(found[0][0])
                ~ ":00 on the stores' clock, not at midnight: the feed is quietest then, and "
                ~ "sold " ~ "%.1f" | format(100 * found[0][1])
                ~ " % of its training units in the two hours around midnight. "
                ~ "A UTC feed of stores far from UTC? Give their zone (mrs build "
                ~ "--store-timezone, var mrs_store_timezone; docs/detection.md)", info=true) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
