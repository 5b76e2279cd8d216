"""Seconds per model and per pipeline stage of a finished dbt build (its target folder)."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

# Folders under models/ (and python_models/), in pipeline order.
STAGES = (
    "staging",
    "timeline",
    "detection",
    "clustering",
    "attribution",
    "cohorting",
    "review",
    "hydration",
    "rereview",
    "alerting",
    "monitoring",
    "protection",
)
MODEL_FOLDERS = ("models", "python_models")


def node_timings(target: Path) -> tuple[dict[str, float], dict[str, float]]:
    """(seconds per model, seconds per stage) from a build's run_results.json; a model's stage
    is its folder under models/ or python_models/ (from manifest.json). Seeds and hooks are
    grouped as `seeds` and `hooks`. With several dbt threads the sums can exceed the wall."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    models: dict[str, float] = {}
    stages: dict[str, float] = dict.fromkeys(STAGES, 0.0)
    for result in results:
        unique_id = result["unique_id"]
        seconds = float(result["execution_time"])
        node = nodes.get(unique_id, {})
        if unique_id.startswith("model."):
            models[node.get("name", unique_id.split(".")[-1])] = seconds
        group = _group_of(unique_id, node.get("original_file_path", ""))
        stages[group] = stages.get(group, 0.0) + seconds
    return models, stages


def _group_of(unique_id: str, path: str) -> str:
    resource = unique_id.split(".")[0]
    if resource != "model":
        return {"seed": "seeds", "operation": "hooks", "exposure": "exposures"}.get(
            resource, resource
        )
    parts = PurePosixPath(path).parts
    if len(parts) >= 3 and parts[0] in MODEL_FOLDERS:
        return parts[1]
    return "other models"
