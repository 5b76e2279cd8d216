{#-
  Model routing (DESIGN.md section 6): which version of a model runs is configuration.
  var model_routing maps a model name to 'real' or 'mock'; both versions write the same
  columns, and every inference row records the version that made it.
-#}
{% macro mrs_model_route(model_name) -%}
    {%- set route = (var('model_routing', {}) or {}).get(model_name, 'real') -%}
    {%- if route not in ('real', 'mock') -%}
        {{ exceptions.raise_compiler_error(
            "model_routing." ~ model_name ~ " must be 'real' or 'mock', not '" ~ route ~ "'") }}
    {%- endif -%}
    {{ return(route) }}
{%- endmacro %}

{% macro mrs_model_version(model_name) -%}
    {%- set versions = {
        'baseline_sales_model': {
            'real': 'robust-hour-of-week-1.0', 'mock': 'mock-plausible-1.0'},
        'anomaly_classifier_model': {
            'real': 'robust-z-onset-1.0', 'mock': 'mock-narratives-1.0'},
        'cluster_comparison_model': {
            'real': 'cosine-centroid-1.0', 'mock': 'mock-narratives-1.0'},
        'attribution_model': {
            'real': 'evidence-scorer-1.0', 'mock': 'mock-narratives-1.0'},
    } -%}
    {{ return(versions[model_name][mrs_model_route(model_name)]) }}
{%- endmacro %}

{#-
  The body of a routing model: every row of `<model_name>_real` or `<model_name>_mock`,
  whichever model_routing names for `route_name` (the model's own name unless it follows
  another's route). dbt records the ref this renders at parse time, so the routing model's one
  parent is the version that runs, and the other is disabled and never built.
-#}
{% macro mrs_routed_model(model_name, route_name=none) -%}
    {%- set route = mrs_model_route(route_name or model_name) -%}
    select * from {{ ref(model_name ~ '_' ~ route) }}
{%- endmacro %}
