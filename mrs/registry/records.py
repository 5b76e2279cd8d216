"""The model registry's journal (DESIGN.md section 6): candidate versions and approvals.

`mrs train` writes a candidate record, `mrs models approve` and `mrs models rollback` write
approval records; nothing is ever changed or removed. The active version of a model is the
one its latest approval names; without one, the version shipped with the project (the
`model_registry` seed) runs. Records live beside the database (`<database>_models/`), one
JSON file each, so training never needs the database's write lock; dbt reads them into
`model_registry_log`, and the Python models read the active version's parameters here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from mrs.pipeline.project import MrsError
from mrs.review.append_only_files import append_file

RECORDS = "records"
MANAGED_MODELS = ("attribution_model", "baseline_sales_model", "cluster_comparison_model")


def registry_dir(database: Path) -> Path:
    """mrs.duckdb -> mrs_models/ beside it."""
    return database.parent / f"{database.stem}_models"


def records(folder: Path) -> list[dict[str, Any]]:
    """Every readable record, in the order written. A file that is no JSON record or whose
    name has no sequence number is left out, as the build leaves it out (to
    model_registry_errors); `unreadable_records` lists them."""
    return [record for _, record in _read_records(folder) if record is not None]


def unreadable_records(folder: Path) -> list[Path]:
    """The record files `records` leaves out."""
    return [file for file, record in _read_records(folder) if record is None]


def _read_records(folder: Path) -> list[tuple[Path, dict[str, Any] | None]]:
    path = folder / RECORDS
    if not path.is_dir():
        return []
    found: list[tuple[Path, dict[str, Any] | None]] = []
    for file in sorted(path.glob("*.json")):
        sequence = file.name.split("-")[0]
        try:
            record = json.loads(file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            record = None
        if (
            not isinstance(record, dict)
            or not sequence.isdigit()
            or not isinstance(record.get("record_type"), str)
            or not isinstance(record.get("model_name"), str)
        ):
            found.append((file, None))
            continue
        record["sequence"] = int(sequence)
        found.append((file, record))
    return found


def next_candidate_number(folder: Path, model_name: str) -> int:
    """The number of the model's next trained version: one more than its candidates so far."""
    return 1 + sum(
        1
        for r in records(folder)
        if r["record_type"] == "candidate" and r["model_name"] == model_name
    )


def record_in_force(versions: pd.DataFrame, model_name: str) -> dict[str, Any] | None:
    """The registry record of `model_name`'s version in force, from model
    approved_model_versions (the build's one decision: approvals re-checked against the
    reviewers registry); None when the shipped version runs."""
    rows = versions[versions["model_name"] == model_name]
    if rows.empty:
        return None
    row = rows.iloc[0]
    return {
        "model_name": model_name,
        "model_version": row["model_version"],
        "trained_on": row["trained_on"],
        "parameters": json.loads(row["parameters"]) if row["parameters"] else {},
        "metrics": json.loads(row["metrics"]) if row["metrics"] else {},
    }


def accepted_approvals(
    history: list[dict[str, Any]],
    model_name: str,
    registry: Mapping[str, str],
    allowed: Mapping[str, frozenset[str]],
) -> list[dict[str, Any]]:
    """The approvals of `model_name` a build accepts (stg_model_registry_records_checked):
    by a login the reviewers registry gives a role permitted the approval's action, naming
    an earlier candidate (or, for a rollback, the shipped version)."""
    accepted = []
    for position, record in enumerate(history):
        if record["record_type"] != "approval" or record["model_name"] != model_name:
            continue
        action = record.get("action", "approve_model")
        role = registry.get(str(record.get("recorded_by")))
        named = record.get("model_version")
        trained = any(
            r["record_type"] == "candidate"
            and r["model_name"] == model_name
            and r.get("model_version") == named
            for r in history[:position]
        )
        if role and action in allowed.get(role, frozenset()) and (named is None or trained):
            accepted.append(record)
    return accepted


def active_version(
    folder: Path,
    model_name: str,
    registry: Mapping[str, str],
    allowed: Mapping[str, frozenset[str]],
) -> dict[str, Any] | None:
    """The candidate record the latest accepted approval of `model_name` names, if any: what
    the next build runs (`registry` login -> role, `allowed` role -> actions)."""
    history = records(folder)
    approvals = accepted_approvals(history, model_name, registry, allowed)
    if not approvals or approvals[-1]["model_version"] is None:
        return None  # never approved, or rolled back to the shipped version
    return candidate(history, model_name, approvals[-1]["model_version"])


def candidate(history: list[dict[str, Any]], model_name: str, version: str) -> dict[str, Any]:
    for record in history:
        if (
            record["record_type"] == "candidate"
            and record["model_name"] == model_name
            and record["model_version"] == version
        ):
            return record
    known = sorted(
        r["model_version"]
        for r in history
        if r["record_type"] == "candidate" and r["model_name"] == model_name
    )
    raise MrsError(
        f"no candidate version {version!r} of {model_name}; known: {', '.join(known) or 'none'} "
        f"(train one with `mrs train {model_name}`)"
    )


def write_record(folder: Path, record: dict[str, Any]) -> Path:
    """Append one record atomically and exclusively (mrs.review.append_only_files); its file name
    starts with the next sequence number."""
    path = folder / RECORDS
    path.mkdir(parents=True, exist_ok=True)
    first = 1 + max((int(f.name.split("-")[0]) for f in path.glob("*.json")), default=0)
    return append_file(
        path,
        json.dumps(record, sort_keys=True) + "\n",
        first,
        lambda sequence: f"{sequence:08d}-{record['model_name']}-{record['record_type']}.json",
    )


def approve(folder: Path, model_name: str, version: str, actor: str, at: str) -> dict[str, Any]:
    """Record that `version` (a candidate) is now the active version of `model_name`."""
    _check_model(model_name)
    candidate(records(folder), model_name, version)
    record = {
        "record_type": "approval",
        "model_name": model_name,
        "model_version": version,
        "action": "approve_model",
        "recorded_by": actor,
        "recorded_at": at,
    }
    write_record(folder, record)
    return record


def rollback(
    folder: Path,
    model_name: str,
    actor: str,
    at: str,
    registry: Mapping[str, str],
    allowed: Mapping[str, frozenset[str]],
) -> dict[str, Any]:
    """Point `model_name` back at the version active before the current one (or the seed's
    shipped version when there was none): recorded as a new approval. Only approvals a
    build accepts count."""
    _check_model(model_name)
    approvals = accepted_approvals(records(folder), model_name, registry, allowed)
    if not approvals:
        raise MrsError(f"{model_name} has no approved version to roll back from")
    current = approvals[-1]["model_version"]
    earlier = [r["model_version"] for r in approvals[:-1] if r["model_version"] != current]
    record = {
        "record_type": "approval",
        "model_name": model_name,
        "model_version": earlier[-1] if earlier else None,
        "action": "rollback_model",
        "recorded_by": actor,
        "recorded_at": at,
    }
    write_record(folder, record)
    return record


def _check_model(model_name: str) -> None:
    if model_name not in MANAGED_MODELS:
        raise MrsError(
            f"{model_name!r} has no trainable versions here; use one of {', '.join(MANAGED_MODELS)}"
        )
