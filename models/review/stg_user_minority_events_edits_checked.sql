-- The user_minority_events_edits_log journal, typed and checked (macro mrs_checked_edits).
{{ mrs_checked_edits('user_minority_events_edits_log', 'report_group_id', 'ME-') }}
