{#-
  The candidate windows' hours the classifier decides on: anomaly_candidate_window_hours
  without the day marks it keeps for the next build.
-#}
{{ config(materialized='view') }}

with

window_hours as (
    select * from {{ ref('anomaly_candidate_window_hours') }}
)

select
    candidate_window_id,
    store_id,
    sku,
    direction,
    first_elevated_ts,
    is_window_closed,
    sales_ts,
    trading_hour_index,
    is_in_window,
    is_elevated,
    is_closure_hour,
    actual_units,
    expected_units,
    variance_units,
    residual_units,
    residual_z,
    onset_z,
    drift_step,
    {{ mrs_window_alarm_columns('hour') }}
from window_hours
where candidate_window_id is not null
