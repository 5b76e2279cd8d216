"""Review: what an edit is checked against, the rules, the append-only journal of edits,
the reviewers registry and the app's passwords."""
