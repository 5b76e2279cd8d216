"""Edits recorded since the latest build, shown as pending on the report and event pages, so
a second reviewer sees that someone has acted before the next build applies it."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pandas as pd
import streamlit as st

from mrs.pipeline.project import MrsError
from mrs.review.context import recorded_since_build

PENDING_COLUMNS = ["level", "action", "actor", "user_role", "edited_at", "source_file"]
# The journal is listed at every run (never cached): an edit shows as soon as it is written.
WAIT_SECONDS = 5.0


def pending_edits(
    database: Path, report_ids: Collection[str], group_id: str | None, key: str
) -> None:
    """A table of the edits recorded since the latest build on these reports or this event."""
    try:
        edits = recorded_since_build(database, report_ids, group_id, WAIT_SECONDS)
    except MrsError as error:
        st.caption(f"Edits recorded since the latest build cannot be listed: {error}")
        return
    if not edits:
        return
    rows = pd.DataFrame(edits)
    rows["level"] = ["event" if "report_group_id" in edit else "report" for edit in edits]
    st.warning(
        f"Recorded since the latest build, in effect after the next ({len(edits)}): someone "
        "has already acted.",
        icon="⏳",
    )
    st.dataframe(rows.reindex(columns=PENDING_COLUMNS), hide_index=True, key=key)
