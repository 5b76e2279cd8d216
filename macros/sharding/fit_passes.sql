{#-
  The baseline fit's passes in a sharded build (issue 17): its three pooled medians are over
  every store's series, so each shard runs the fit three times, environment variable
  MRS_FIT_PASS (else var `mrs_fit_pass`; an environment variable keeps dbt's partial parse):
  `dispersion` (its series' moments, for the pooled dispersion), `day_noise` (its series' day
  variances and hour-pair correlations, for the other two medians) and `fit` (the default,
  the only pass of one process). A partial pass writes its rows to the exchange folder under
  a name of its own, so the fit already built stays as it is.
-#}

{#- The passes in the order a shard runs them. -#}
{% macro mrs_fit_passes() -%}
    {{ return(['dispersion', 'day_noise', 'fit']) }}
{%- endmacro %}


{% macro mrs_fit_pass() -%}
    {{ return(mrs_shard_pass(
        'baseline_sales_model_fit', 'MRS_FIT_PASS', 'mrs_fit_pass', mrs_fit_passes())) }}
{%- endmacro %}


{#-
  Where a pooled median reads its series' values: the fit's own CTE `cte`, or, in a pass of a
  sharded build after `pooled_pass`, every shard's rows of that pass.
-#}
{% macro mrs_fit_pool(cte, pooled_pass) -%}
    {%- set order = mrs_fit_passes() -%}
    {%- if mrs_shard_count() > 1
        and order.index(mrs_fit_pass()) > order.index(pooled_pass) -%}
        {{ return(mrs_every_shard_file('baseline_sales_model_fit_' ~ pooled_pass)) }}
    {%- endif -%}
    {{ return(cte) }}
{%- endmacro %}


{#-
  The three pooled medians over every shard's series, as text for the fit's fingerprint: a
  shard's own training rows do not tell when another shard's changed them. Empty in one
  process, where the training rows are every series'.
-#}
{% macro mrs_fit_exchanged_pools() -%}
    {%- if not execute or mrs_shard_count() == 1 or mrs_fit_pass() != 'fit' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set pools = run_query(
        "select (select median(greatest(sum_xy / nullif(sum_xx, 0), 0.0)) from "
        ~ mrs_every_shard_file('baseline_sales_model_fit_dispersion')
        ~ "), (select median(day_variance) from "
        ~ mrs_every_shard_file('baseline_sales_model_fit_day_noise')
        ~ "), (select median(pair_correlation) from "
        ~ mrs_every_shard_file('baseline_sales_model_fit_day_noise') ~ ")"
    ) -%}
    {{ return('||pools ' ~ pools.rows[0].values() | join('|')) }}
{%- endmacro %}
