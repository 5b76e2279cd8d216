{#-
  The baseline predictions' passes in a sharded build (issue 17): a day's score scale pools
  the score variances of every store's series that day (tau^2, whose sums are additive), so
  each shard runs the predictions three times, environment variable MRS_SCORE_PASS (else var
  `mrs_score_pass`): `plan` writes the first day this shard would score again, `scale` the
  sums of its series for every day from the first one any shard scores again (a shard keeps
  such a day, but another one's rows of it change, and with them the day's scale), and
  `score` (the default, the only pass of one process) scores from that day with every shard's
  sums. A partial pass writes to the exchange folder under a name of its own
  (mrs_shard_pass_config), so the predictions already built stay as they are.
-#}

{% macro mrs_score_pass() -%}
    {{ return(mrs_shard_pass(
        'baseline_sales_predictions', 'MRS_SCORE_PASS', 'mrs_score_pass',
        ['plan', 'scale', 'score'])) }}
{%- endmacro %}


{#- Where a day's score scale reads its sums: the predictions' CTE `cte` in one process,
    every shard's scale pass in a sharded build. -#}
{% macro mrs_score_partials(cte) -%}
    {%- if mrs_shard_count() > 1 -%}
        {{ return(mrs_every_shard_file('baseline_sales_predictions_scale')) }}
    {%- endif -%}
    {{ return(cte) }}
{%- endmacro %}


{#-
  The predictions kept from the builds before, or none (a first or full-refresh build): the
  model's own table, which a partial pass (written under another name) reads as well.
-#}
{% macro mrs_kept_predictions(score_pass) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- if score_pass == 'score' -%}
        {{ return(this if is_incremental() else none) }}
    {%- endif -%}
    {%- if should_full_refresh() -%}{{ return(none) }}{%- endif -%}
    {{ return(adapter.get_relation(this.database, this.schema, 'baseline_sales_predictions')) }}
{%- endmacro %}


{#-
  The first day a sharded build scores, as SQL: the earliest of every shard's plan (every day
  when one of them scores every day), so each shard scores again the days whose scale another
  shard's rows change, as one process does.
-#}
{% macro mrs_every_shard_first_scored_day() -%}
    {%- set every_day = 'cast(null as date)' -%}
    {%- if not execute -%}{{ return(every_day) }}{%- endif -%}
    {%- set planned = run_query(
        "select count(*) filter (where first_scored_day is null), min(first_scored_day) from "
        ~ mrs_every_shard_file('baseline_sales_predictions_plan')
    ).rows[0] -%}
    {%- if planned[0] > 0 or planned[1] is none -%}
        {{ log("mrs: baseline predictions scored from the first day (a shard scores every "
            ~ "day)", info=true) }}
        {{ return(every_day) }}
    {%- endif -%}
    {{ log("mrs: baseline predictions kept before " ~ planned[1] ~ ", scored from it (the "
        ~ "first day a shard scores again)", info=true) }}
    {{ return("date '" ~ planned[1] ~ "'") }}
{%- endmacro %}
