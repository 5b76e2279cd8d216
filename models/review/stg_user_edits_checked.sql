-- The user_edits_log journal, typed and checked (macro mrs_checked_edits).
{{ mrs_checked_edits('user_edits_log', 'report_id', 'MR-') }}
