-- The provenance every inference row carries (model lifecycle document: model_version,
-- trained_on, model_registry_source, model_confidence_metric), one row per registered model
-- version: what its latest registry record says it was trained on, where the record comes
-- from, and its headline training metric (accuracy; null when the version records none).
with

registry as (
    select * from {{ ref('model_registry_log') }}
),

versions as (
    select
        registry.model_name,
        registry.model_version,
        registry.trained_on,
        case
            when registry.record_type = 'shipped' then 'model_registry seed'
            else 'registry journal'
        end as model_registry_source,
        try_cast(json_extract_string(registry.metrics, '$.accuracy') as double)
            as model_confidence_metric
    from registry
    where registry.record_type in ('shipped', 'candidate')
    qualify row_number() over (
            partition by registry.model_name, registry.model_version
            order by registry.sequence desc
        ) = 1
)

select * from versions
