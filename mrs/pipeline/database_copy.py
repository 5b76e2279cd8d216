"""A copy of a working database with what its builds read and write beside it."""

from __future__ import annotations

import shutil
from pathlib import Path

from mrs.pipeline.publication import published_database, published_folder
from mrs.review.journal import journal_dir
from mrs.review.reviewers import access_dir


def copy_database(database: Path, folder: Path) -> Path:
    """Copy `database` into `folder` with its edit journal, reviewers registry and published
    copy (those it has; what the copy had of them is replaced), under the same file name:
    dbt-duckdb's views name the file's catalog. Returns the copy."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / database.name
    shutil.copy(database, copy)
    for place in (journal_dir, access_dir, published_folder):
        shutil.rmtree(place(copy), ignore_errors=True)
        if place(database).exists():
            shutil.copytree(place(database), place(copy))
    published_database(copy).unlink(missing_ok=True)
    if published_database(database).exists():
        shutil.copy(published_database(database), published_database(copy))
    return copy
