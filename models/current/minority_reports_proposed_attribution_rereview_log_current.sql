{{ mrs_current_state(
    'minority_reports_proposed_attribution_rereview_log', order_column='rereview_round'
) }}
