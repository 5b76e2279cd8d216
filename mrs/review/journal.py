"""The edit journal: analyst edits, one JSON file each, kept beside the DuckDB file.

Edits live outside the database so that dbt never rebuilds or truncates them and an edit made
while `dbt build` holds the DuckDB write lock is not lost (DESIGN.md section 7). The pipeline
reads the two folders as the sources of `user_edits_log` and `user_minority_events_edits_log`;
ids (including `annotation_id`) are computed there by the `mrs_id` macro, never here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from mrs.review.append_only_files import append_file

REPORT_EDITS = "user_edits_log"
EVENT_EDITS = "user_minority_events_edits_log"
REPORT_PREFIX = "MR-"
EVENT_PREFIX = "ME-"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Edit:
    """One analyst action on a report (`MR-...`) or an event (`ME-...`)."""

    target_id: str
    action: str
    actor: str
    user_role: str
    edited_at: dt.datetime
    run_id: str
    cause: str | None = None
    cause_category: str | None = None
    confidence: float | None = None
    evidence: str | None = None
    reopen_reason: str | None = None
    notes: str | None = None

    @property
    def is_event(self) -> bool:
        return self.target_id.startswith(EVENT_PREFIX)

    def record(self) -> dict[str, object]:
        """The journal object: every field present, in the contract's order."""
        key = "report_group_id" if self.is_event else "report_id"
        return {
            key: self.target_id,
            "action": self.action,
            "cause": self.cause,
            "cause_category": self.cause_category,
            "confidence": self.confidence,
            "evidence": self.evidence,
            "reopen_reason": self.reopen_reason,
            "notes": self.notes,
            "actor": self.actor,
            "user_role": self.user_role,
            "edited_at": self.edited_at.strftime(TIMESTAMP_FORMAT),
            "run_id": self.run_id,
        }


def journal_dir(database: Path) -> Path:
    """The journal folder of a database: mrs.duckdb -> mrs_edits/ beside it."""
    return database.parent / f"{database.stem}_edits"


def edits_folder(database: Path, *, event: bool) -> Path:
    """The folder holding report edits, or event edits when `event` is true."""
    return journal_dir(database) / (EVENT_EDITS if event else REPORT_EDITS)


def write_edit(database: Path, edit: Edit) -> Path:
    """Write one edit atomically and exclusively (mrs.review.append_only_files); return the file.

    Its name is `<edited_at>-<sequence>.json`: the sequence orders edits stamped with the
    same time (an analyst's request-review, edit, approve) as they were made, and N
    concurrent writers leave N files.
    """
    folder = edits_folder(database, event=edit.is_event)
    folder.mkdir(parents=True, exist_ok=True)
    first = 1 + max((_sequence(path) for path in folder.glob("*.json")), default=0)
    return append_file(
        folder,
        json.dumps(edit.record(), sort_keys=False) + "\n",
        first,
        lambda sequence: f"{edit.edited_at:%Y%m%dT%H%M%S}-{sequence:08d}.json",
    )


def unbuilt_edits(
    database: Path, built: Collection[str], run_id: str, *, event: bool
) -> list[dict[str, object]]:
    """Edits of `run_id` in the journal that no build has read yet (their file is neither
    logged nor rejected), in the order made: recorded, not yet in effect. A file that is not
    an edit's JSON is skipped here; the next build rejects it with its reason."""
    found: list[dict[str, object]] = []
    for path in sorted(edits_folder(database, event=event).glob("*.json")):
        if path.name in built:
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("run_id") == run_id:
            found.append({**record, "source_file": path.name})
    return found


def _sequence(path: Path) -> int:
    digits = path.name.split(".")[0].rpartition("-")[2]
    return int(digits) if digits.isdigit() else 0


JOURNAL_MARKER = "README.txt"


def ensure_journal(database: Path) -> Path:
    """Create the journal's two folders and its marker file: the pipeline treats a journal
    without the marker as unreachable (edits_down), not as one without edits."""
    for event in (False, True):
        edits_folder(database, event=event).mkdir(parents=True, exist_ok=True)
    marker = journal_dir(database) / JOURNAL_MARKER
    if not marker.exists():
        marker.write_text(
            "Analyst edits of the Minority Report System, one JSON file per edit, written by\n"
            "`mrs review`. This folder is the edit logs' only copy outside the database:\n"
            "do not delete or edit it by hand.\n",
            encoding="utf-8",
        )
    return journal_dir(database)
