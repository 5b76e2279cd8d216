{{ config(materialized='table') }}

{%- set features = mrs_shape_feature_columns() %}

with

raw_library as (
    {{ mrs_read_input('cluster_library') }}
),

taxonomy as (
    select cause_category from {{ ref('stg_cause_taxonomy') }}
),

typed as (
    select
        raw_library.*,
        {{ mrs_text('raw_library.raw_cluster_id') }} as cluster_id,
        {{ mrs_text('raw_library.raw_cluster_name') }} as cluster_name,
        lower({{ mrs_text('raw_library.raw_cause_category') }}) as cause_category,
        {% for feature in features -%}
            {{ mrs_to_double('raw_library.raw_' ~ feature) }} as {{ feature }},
        {% endfor -%}
        {{ mrs_to_double('raw_library.raw_tsne_x') }} as tsne_x,
        {{ mrs_to_double('raw_library.raw_tsne_y') }} as tsne_y
    from raw_library
),

ruled as (
    select
        typed.*,
        {{ mrs_reject_reasons(mrs_required_rules('cluster_library')
            + mrs_number_rules('cluster_library', 'typed') + [
            ('typed.cause_category is not null and taxonomy.cause_category is null',
                'unknown cause_category'),
        ]) }} as rule_reason
    from typed
    left join taxonomy on typed.cause_category = taxonomy.cause_category
),

{{ mrs_reject_duplicate_keys(['cluster_id']) }}

select * from checked
