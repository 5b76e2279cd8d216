"""The review rules of the project (dbt_project.yml vars `review_*`): reopen reasons, the
reopen note's minimum and the text limits of an edit. The build checks every journal edit
against the same vars (macro mrs_checked_edits), so `mrs review`, the app and the build
cannot disagree."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from mrs.pipeline.project import MrsError, project_vars


@dataclass(frozen=True)
class ReviewRules:
    reopen_reasons: tuple[str, ...]
    min_reopen_notes: int
    text_limits: dict[str, int]


@functools.cache
def review_rules(project_root: Path) -> ReviewRules:
    """The rules as dbt_project.yml sets them (read once per process)."""
    settings = project_vars(project_root)
    try:
        return ReviewRules(
            reopen_reasons=tuple(str(reason) for reason in settings["review_reopen_reasons"]),
            min_reopen_notes=int(settings["review_min_reopen_notes"]),
            text_limits={str(k): int(v) for k, v in settings["review_text_limits"].items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise MrsError(
            f"{project_root / 'dbt_project.yml'} does not set the review rules (vars "
            f"review_reopen_reasons, review_min_reopen_notes, review_text_limits): {error}"
        ) from error
