{#-
  The input contract of DESIGN.md section 4: every input's columns in order, which of them
  are required, which are numbers and their bounds, and whether a missing file falls back to
  the project's own seed (reference tables) or to an empty input.

  `numbers`: column -> bounds ({'min': ..., 'max': ...}, either optional). Every number must
  parse and be finite (no inf or nan) and lie within its bounds; staging rejects the row
  otherwise (mrs_number_rules).
-#}
{% macro mrs_input_contract() -%}
    {%- set centroid = [
        'curve_p1', 'curve_p2', 'curve_p3', 'curve_p4', 'curve_p5', 'curve_p6',
        'curve_p7', 'rise_slope', 'decay_slope', 'peak_position', 'symmetry',
        'kurtosis', 'volatility', 'duration', 'direction', 'relative_magnitude'
    ] -%}
    {%- set centroid_numbers = {} -%}
    {%- for column in centroid + ['tsne_x', 'tsne_y'] -%}
        {%- do centroid_numbers.update({column: {}}) -%}
    {%- endfor -%}
    {#-
      The most units of one sku in one store in one hour: a million, generous for any shop
      (a larger number is a data error) and far below what the arithmetic downstream holds:
      the baseline keeps an hour's profile, which can reach ~24x an hour's units, as
      decimal(18, 9), i.e. below 1e9.
    -#}
    {%- set max_units_per_hour = 1000000 -%}
    {{ return({
        'unified_sales_data': {
            'columns': ['sales_ts', 'store_id', 'sku', 'units', 'revenue'],
            'required': ['sales_ts', 'store_id', 'sku', 'units'],
            'numbers': {'units': {'min': 0, 'max': max_units_per_hour}, 'revenue': {}},
            'fallback_to_project_seed': false,
        },
        'stores': {
            'columns': ['store_id', 'store_name', 'retailer', 'region', 'city',
                        'latitude', 'longitude'],
            'required': ['store_id', 'retailer', 'region', 'city'],
            'numbers': {'latitude': {'min': -90, 'max': 90},
                        'longitude': {'min': -180, 'max': 180}},
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
            'numbers': {'spend': {'min': 0}},
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
            'numbers': {'magnitude': {}, 'confidence': {'min': 0, 'max': 1}},
            'fallback_to_project_seed': false,
        },
        'cluster_library': {
            'columns': ['cluster_id', 'cluster_name', 'cause_category'] + centroid
                       + ['tsne_x', 'tsne_y'],
            'required': ['cluster_id', 'cluster_name', 'cause_category'] + centroid,
            'numbers': centroid_numbers,
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
