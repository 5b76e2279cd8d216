-- The reviewers registry, typed and checked (macro mrs_reviewers_checked).
{{ mrs_reviewers_checked() }}
