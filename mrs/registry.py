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
from pathlib import Path
from typing import Any

from mrs.append_only_files import append_file
from mrs.project import MrsError

RECORDS = "records"
MANAGED_MODELS = ("attribution_model", "baseline_sales_model", "cluster_comparison_model")


def registry_dir(database: Path) -> Path:
    """mrs.duckdb -> mrs_models/ beside it."""
    return database.parent / f"{database.stem}_models"


def records(folder: Path) -> list[dict[str, Any]]:
    """Every record, in the order written."""
    path = folder / RECORDS
    if not path.is_dir():
        return []
    found = []
    for file in sorted(path.glob("*.json")):
        record = json.loads(file.read_text(encoding="utf-8"))
        record["sequence"] = int(file.name.split("-")[0])
        found.append(record)
    return found


def next_candidate_number(folder: Path, model_name: str) -> int:
    """The number of the model's next trained version: one more than its candidates so far."""
    return 1 + sum(
        1
        for r in records(folder)
        if r["record_type"] == "candidate" and r["model_name"] == model_name
    )


def active_version(folder: Path, model_name: str) -> dict[str, Any] | None:
    """The candidate record the latest approval of `model_name` names, if any."""
    history = records(folder)
    approvals = [
        r for r in history if r["record_type"] == "approval" and r["model_name"] == model_name
    ]
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
    """Append one record atomically and exclusively (mrs.append_only_files); its file name
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
        "recorded_by": actor,
        "recorded_at": at,
    }
    write_record(folder, record)
    return record


def rollback(folder: Path, model_name: str, actor: str, at: str) -> dict[str, Any]:
    """Point `model_name` back at the version active before the current one (or the seed's
    shipped version when there was none): recorded as a new approval."""
    _check_model(model_name)
    approvals = [
        r
        for r in records(folder)
        if r["record_type"] == "approval" and r["model_name"] == model_name
    ]
    if not approvals:
        raise MrsError(f"{model_name} has no approved version to roll back from")
    current = approvals[-1]["model_version"]
    earlier = [r["model_version"] for r in approvals[:-1] if r["model_version"] != current]
    record = {
        "record_type": "approval",
        "model_name": model_name,
        "model_version": earlier[-1] if earlier else None,
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
