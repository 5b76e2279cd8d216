{{ mrs_current_state('minority_reports_clustered_log') }}
