-- Every tick of the active run, from detection_start up to as_of (inclusive). At tick T a
-- stage sees sales with sales_ts < T and writes its snapshot rows with written_at = T.
with

settings as (
    select * from {{ ref('run_settings') }}
),

ticks as (
    select
        settings.run_id,
        unnest(generate_series(
            settings.detection_start,
            settings.as_of,
            to_hours(settings.tick_hours)
        )) as tick_ts
    from settings
    where settings.as_of >= settings.detection_start
)

select * from ticks
