-- The baseline model's predictions, one row per store x sku x hour from detection_start, per
-- model version; written at the first tick that sees the hour. Appends only hours after the
-- newest one logged for the active run and model version.
with

settings as (
    select * from {{ ref('run_settings') }}
),

predictions as (
    select * from {{ ref('baseline_sales_predictions') }}
),

plan as (
    select * from {{ ref('baseline_training_plan') }}
),

versions as (
    select * from {{ ref('model_versions') }}
    where model_name = 'baseline_sales_model'
),

provenance as (
    -- The shipped baselines are refitted in every build, so their rows name the window in force.
    select
        versions.model_version,
        case
            when versions.model_registry_source = 'registry journal' then versions.trained_on
            else
                'sales ' || strftime(plan.training_start, '%Y-%m-%d %H:%M') || ' to '
                || strftime(plan.training_end, '%Y-%m-%d %H:%M')
        end as trained_on,
        versions.model_registry_source,
        versions.model_confidence_metric
    from versions
    cross join plan
),

{%- if is_incremental() %}

newest_logged as (
    select max(logged.sales_ts) as sales_ts
    from {{ this }} as logged
    where
        logged.run_id = (select settings.run_id from settings)
        and logged.model_version = '{{ mrs_model_version("baseline_sales_model") }}'
),
{%- endif %}

logged as (
    select
        'baseline_sales_model' as model_name,
        predictions.model_version,
        predictions.store_id,
        predictions.sku,
        predictions.sales_ts,
        {{ mrs_tick_at_or_after(dbt.dateadd('hour', 1, 'predictions.sales_ts')) }}
            as written_at,
        predictions.actual_units,
        round(predictions.expected_units, 4) as expected_units,
        round(predictions.spread_units, 4) as spread_units,
        round(predictions.level_factor, 4) as level_factor,
        round(predictions.residual_z, 4) as residual_z,
        -- Share of the training hours the feed reported for this hour of the week.
        round(predictions.training_coverage, 4) as quality_score,
        provenance.trained_on,
        provenance.model_registry_source,
        provenance.model_confidence_metric,
        settings.run_id
    from predictions
    cross join settings
    left join provenance on predictions.model_version = provenance.model_version
    where
        predictions.sales_ts >= settings.detection_start
    {%- if is_incremental() %}
        and predictions.sales_ts
        > coalesce((select newest_logged.sales_ts from newest_logged), '-infinity'::timestamp)
        {%- endif %}
)

select * from logged
