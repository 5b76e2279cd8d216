{#-
  The input contract of DESIGN.md section 4: var mrs_input_contract of dbt_project.yml, whose
  comment says what each part means. The mrs package reads the same var
  (mrs.pipeline.input_contract), so the build and the world generators cannot disagree.
-#}
{% macro mrs_input_contract() -%}
    {{ return(var('mrs_input_contract')) }}
{%- endmacro %}


{#- The 16 centroid feature columns of the cluster library, in order. -#}
{% macro mrs_shape_feature_columns() -%}
    {{ return(mrs_input_contract()['cluster_library']['required'][3:]) }}
{%- endmacro %}
