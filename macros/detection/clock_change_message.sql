{#-
  Says, in the build's output, that the feed's hours were found to follow a zone's
  daylight-saving change (model baseline_clock_change's post-hook): a UTC feed of stores whose
  zone was not given, which giving it (mrs_store_timezone) reads right from the first hour.
  Renders no SQL.
-#}
{% macro mrs_say_clock_change() -%}
    {%- if execute -%}
        {%- set found = run_query(
            'select clock_zone, change_ts, read_from_ts, moved_votes, telling_hours from '
            ~ this ~ ' where is_clock_moved').rows -%}
        {%- if found | length == 1 -%}
            {{ log("mrs: the feed's hours moved by an hour with " ~ found[0][0]
                ~ "'s clock change at " ~ found[0][1] ~ " UTC (" ~ found[0][3] ~ " of "
                ~ found[0][4] ~ " telling hours had moved), so the baseline reads them on that "
                ~ "zone's daylight-saving clock from " ~ found[0][2] ~ " UTC on. A UTC feed of "
                ~ "stores that keep daylight saving? Give their zone (mrs build "
                ~ "--store-timezone, var mrs_store_timezone; docs/detection.md) so that "
                ~ "the hours after every change are read right from the first", info=true) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
