{{ mrs_current_state('minority_reports_proposed_attribution_log') }}
