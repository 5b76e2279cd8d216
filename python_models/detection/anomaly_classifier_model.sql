{{ config(materialized='view') }}

{{ mrs_routed_model('anomaly_classifier_model') }}
