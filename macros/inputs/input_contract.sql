{#-
  The input contract of DESIGN.md section 4: every input's columns in order, which of them
  are required, and whether a missing file falls back to the project's own seed (reference
  tables) or to an empty input.
-#}
{% macro mrs_input_contract() -%}
    {%- set centroid = [
        'curve_p1', 'curve_p2', 'curve_p3', 'curve_p4', 'curve_p5', 'curve_p6',
        'curve_p7', 'rise_slope', 'decay_slope', 'peak_position', 'symmetry',
        'kurtosis', 'volatility', 'duration', 'direction', 'relative_magnitude'
    ] -%}
    {{ return({
        'unified_sales_data': {
            'columns': ['sales_ts', 'store_id', 'sku', 'units', 'revenue'],
            'required': ['sales_ts', 'store_id', 'sku', 'units'],
            'fallback_to_project_seed': false,
        },
        'stores': {
            'columns': ['store_id', 'store_name', 'retailer', 'region', 'city',
                        'latitude', 'longitude'],
            'required': ['store_id', 'retailer', 'region', 'city'],
            'fallback_to_project_seed': false,
        },
        'products': {
            'columns': ['sku', 'product_name', 'brand', 'category'],
            'required': ['sku'],
            'fallback_to_project_seed': false,
        },
        'all_campaign_data': {
            'columns': ['campaign_id', 'campaign_name', 'channel', 'cause_category',
                        'start_ts', 'end_ts', 'sku', 'retailer', 'region', 'city',
                        'store_id', 'spend'],
            'required': ['campaign_id', 'channel', 'cause_category', 'start_ts', 'end_ts'],
            'fallback_to_project_seed': false,
        },
        'contextual_data': {
            'columns': ['event_id', 'event_type', 'event_subtype', 'event_name', 'start_ts',
                        'end_ts', 'retailer', 'region', 'city', 'store_id', 'sku', 'url',
                        'severity'],
            'required': ['event_id', 'event_type', 'start_ts', 'end_ts'],
            'fallback_to_project_seed': false,
        },
        'master_narratives': {
            'columns': ['narrative_id', 'narrative_name', 'store_id', 'sku', 'start_ts',
                        'end_ts', 'cause', 'cause_category', 'cluster_name', 'shape',
                        'magnitude', 'confidence'],
            'required': ['narrative_id', 'store_id', 'sku', 'start_ts', 'end_ts', 'cause',
                         'cause_category', 'cluster_name'],
            'fallback_to_project_seed': false,
        },
        'cluster_library': {
            'columns': ['cluster_id', 'cluster_name', 'cause_category'] + centroid
                       + ['tsne_x', 'tsne_y'],
            'required': ['cluster_id', 'cluster_name', 'cause_category'] + centroid,
            'fallback_to_project_seed': true,
        },
        'cause_taxonomy': {
            'columns': ['cause_category', 'label', 'description'],
            'required': ['cause_category'],
            'fallback_to_project_seed': true,
        },
    }) }}
{%- endmacro %}


{#- The 16 centroid feature columns of the cluster library, in order. -#}
{% macro mrs_shape_feature_columns() -%}
    {{ return(mrs_input_contract()['cluster_library']['required'][3:]) }}
{%- endmacro %}
