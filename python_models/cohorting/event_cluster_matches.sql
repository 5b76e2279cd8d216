{{ config(materialized='view') }}

{{ mrs_routed_model('event_cluster_matches', route_name='cluster_comparison_model') }}
