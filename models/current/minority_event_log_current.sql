{{ mrs_current_state('minority_event_log', key_column='report_group_id') }}
