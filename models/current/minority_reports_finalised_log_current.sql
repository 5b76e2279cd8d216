{{ mrs_current_state('minority_reports_finalised_log') }}
