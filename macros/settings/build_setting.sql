{#-
  A setting that changes from build to build: as_of, run_id, training_start, detection_start
  or mrs_input_dir. `mrs build` passes them to dbt as environment variables MRS_BUILD_<NAME>
  (MRS_BUILD_AS_OF, ...), read only while a node runs, rather than as --vars: dbt re-parses
  the whole project whenever --vars change (about 5 s of every hourly tick), and does not
  see an environment variable that parsing never read. Without the environment variable
  the var is used, so a plain `dbt build --vars '{as_of: ...}'` works as before. A dbt unit
  test reads the var only: its `overrides: vars` are its settings, whatever dates the build
  is given (reading the build's, a unit test that rounds to ticks failed, and skipped its
  model, in every build of other dates than the demo's).
-#}
{% macro mrs_build_setting(name) -%}
    {%- set in_unit_test = model is mapping and model.resource_type == 'unit_test' -%}
    {%- set passed = (
        env_var('MRS_BUILD_' ~ (name | upper), '') if execute and not in_unit_test else ''
    ) -%}
    {{- return(passed if passed else var(name, none)) -}}
{%- endmacro %}
