{{ mrs_current_state('minority_event_ended_log', order_column='written_at') }}
