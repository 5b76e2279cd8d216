{{ config(materialized='view') }}

{{ mrs_routed_model('attribution_model') }}
