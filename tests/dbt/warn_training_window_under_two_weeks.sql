-- A training window shorter than two weeks leaves a weekday one training day or none: the
-- baseline cannot tell a weekday's level from its noise, and a real series then reports
-- every other day (docs/detection.md, "Real demand series": 267 reports in 556 series-days
-- of Capital Bikeshare on one training week, 39 on two, 27 on four). A warning, not a
-- failure: the build still runs, and says why its reports will be many.
{{ config(severity='warn') }}

with

settings as (
    select * from {{ ref('run_settings') }}
)

select
    run_id,
    training_start,
    detection_start
from settings
where detection_start < {{ dbt.dateadd('day', 14, 'training_start') }}
