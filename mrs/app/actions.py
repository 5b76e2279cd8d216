"""The action form of the report and event pages. Every action goes through
`mrs.cli.review.record_edit`, the validated write path of `mrs review`: the same checks, the
same messages, the same edit journal."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from mrs.app.login import current_login
from mrs.cli.review import record_edit, recorded_message, rules
from mrs.pipeline.project import MrsError, Project
from mrs.review.reviewers import role_of

ACTIONS = {
    "approve": "Approve",
    "reject": "Reject",
    "edit": "Edit cause / category / confidence",
    "add_evidence": "Add evidence",
    "request_review": "Request review",
    "defer": "Defer",
    "reopen": "Reopen",
}
# An edit written while a build holds the database is validated against its published copy
# and never waits; this bounds the wait when there is no copy to validate against.
WAIT_SECONDS = 5.0


def action_form(
    database: Path,
    target_id: str,
    categories: tuple[str, ...],
    kind: str,
    finalised: str | None = None,
) -> None:
    """Pick an action, fill in the form, record it; show the result or the validation error.
    `finalised` says why the target is finalised in the latest build (reopen comes first)."""
    st.subheader(f"Act on this {kind}")
    if target_id.startswith("ME-"):
        st.caption("An event action applies to every report of the event.")
    if finalised:
        st.caption(
            f"{finalised} in the latest build: any other action is refused until it is "
            "reopened (and rebuilt)."
        )
    names = list(ACTIONS)
    action = st.selectbox(
        "Action",
        names,
        index=names.index("reopen") if finalised else 0,
        format_func=ACTIONS.__getitem__,
        key="action_choice",
    )
    fields: dict[str, object] = {}
    with st.form("action_form"):
        if action == "edit":
            fields["cause"] = st.text_input("Cause (free text; empty keeps it)", key="edit_cause")
            fields["category"] = st.selectbox(
                "Cause category",
                categories,
                index=None,
                placeholder="unchanged",
                key="edit_category",
            )
            fields["confidence"] = st.number_input(
                "Confidence (0 to 1; empty keeps it)",
                min_value=0.0,
                max_value=1.0,
                value=None,
                step=0.05,
                key="edit_confidence",
            )
        elif action == "add_evidence":
            fields["evidence"] = st.text_input(
                "Evidence (a URL or an evidence id such as CTX-002)", key="add_evidence"
            )
        elif action == "reopen":
            fields["reason"] = st.selectbox(
                "Reason",
                rules().reopen_reasons,
                index=None,
                placeholder="why reopen?",
                key="reopen_reason",
            )
        notes_label = (
            f"Notes (at least {rules().min_reopen_notes} characters)"
            if action == "reopen"
            else "Notes"
        )
        notes = st.text_area(notes_label, key="action_notes")
        submitted = st.form_submit_button(
            f"Record: {ACTIONS[action]}", type="primary", key="action_submit"
        )
    if submitted:
        # The signed-in reviewer acts, with the registry's role: never typed in here.
        actor = current_login()
        role = role_of(database, Project.locate(database).root, actor) or ""
        _record(database, action, target_id, actor=actor, role=role, notes=notes, **fields)


def _record(database: Path, action: str, target_id: str, **fields: object) -> None:
    try:
        edit = record_edit(database, action, target_id, wait_seconds=WAIT_SECONDS, **fields)  # type: ignore[arg-type]
    except MrsError as error:
        st.error(f"Not recorded: {error}", icon="⚠️")
    except OSError as error:
        st.error(f"Not recorded: cannot write the edit journal ({error})", icon="⚠️")
    else:
        st.success(recorded_message(edit), icon="✅")
