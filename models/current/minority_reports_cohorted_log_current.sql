{{ mrs_current_state('minority_reports_cohorted_log') }}
