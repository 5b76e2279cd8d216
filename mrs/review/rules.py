"""The review rules of the project (dbt_project.yml vars `review_*`): reopen reasons, the
reopen note's minimum and the text limits of an edit. The build checks every journal edit
against the same vars (macro mrs_checked_edits), so `mrs review`, the app and the build
cannot disagree."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from mrs.pipeline.project import MrsError


@dataclass(frozen=True)
class ReviewRules:
    reopen_reasons: tuple[str, ...]
    min_reopen_notes: int
    text_limits: dict[str, int]


@functools.cache
def review_rules(project_root: Path) -> ReviewRules:
    """The rules as dbt_project.yml sets them (read once per process)."""
    path = project_root / "dbt_project.yml"
    try:
        settings = yaml.safe_load(path.read_text(encoding="utf-8"))["vars"]
        return ReviewRules(
            reopen_reasons=tuple(str(reason) for reason in settings["review_reopen_reasons"]),
            min_reopen_notes=int(settings["review_min_reopen_notes"]),
            text_limits={str(k): int(v) for k, v in settings["review_text_limits"].items()},
        )
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as error:
        raise MrsError(
            f"{path} does not set the review rules (vars review_reopen_reasons, "
            f"review_min_reopen_notes, review_text_limits): {error}"
        ) from error
