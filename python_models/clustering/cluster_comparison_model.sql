{{ config(materialized='view') }}

{{ mrs_routed_model('cluster_comparison_model') }}
