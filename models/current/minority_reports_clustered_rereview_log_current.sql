{{ mrs_current_state('minority_reports_clustered_rereview_log', order_column='rereview_round') }}
