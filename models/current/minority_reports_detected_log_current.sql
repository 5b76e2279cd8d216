{{ mrs_current_state('minority_reports_detected_log') }}
