"""The project's structure rules, checked on dbt's manifest (the rules the dbt project
evaluator checks for exposures, sources, staging and primary keys; its package cannot be
installed here, so they are written out). Each remaining exception is named in the README
(section "Project rules") with its reason; a new one fails here until it is."""

from __future__ import annotations

import json

import pytest
from conftest import run_dbt

from mrs.pipeline.database_lock import LOGS_SCHEMA, STAGING_SCHEMA

KEY_TESTS = {"unique", "mrs_unique_combination"}
REFERENCE_INPUTS = {"stg_stores", "stg_products", "stg_cause_taxonomy"}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    target = tmp_path_factory.mktemp("parse")
    parsed = run_dbt(
        target / "parse.duckdb",
        "parse", "--quiet", "--write-json", "--target-path", str(target), "--log-path", str(target),
    )  # fmt: skip
    assert parsed.returncode == 0, parsed.stdout
    return json.loads((target / "manifest.json").read_text())


def _models(manifest: dict) -> dict[str, dict]:
    return {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
    }


def _is_staging(node: dict) -> bool:
    return "/staging/" in node["original_file_path"]


def test_exposures_read_only_public_models(manifest: dict) -> None:
    models = _models(manifest)
    private = [
        (exposure["name"], parent)
        for exposure in manifest["exposures"].values()
        for parent in exposure["depends_on"]["nodes"]
        if parent in models and models[parent].get("access") != "public"
    ]
    assert private == []
    assert manifest["exposures"], "the downstream consumers are declared as exposures"


def test_only_staging_models_read_sources(manifest: dict) -> None:
    readers = [
        unique_id
        for unique_id, node in _models(manifest).items()
        if any(parent.startswith("source.") for parent in node["depends_on"]["nodes"])
        and not _is_staging(node)
    ]
    assert readers == []


def test_every_model_has_a_key_test(manifest: dict) -> None:
    tested = {
        parent
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and (node.get("test_metadata") or {}).get("name") in KEY_TESTS
        for parent in node["depends_on"]["nodes"]
    }
    untested = sorted(name for name in _models(manifest) if name not in tested)
    assert untested == []


def _allowed_staging_edge(child: str, parent: str) -> bool:
    """The staging models that read other staging models, by design (README, "Project
    rules"): each input is read and checked once, then split into its clean rows and its
    dead letters; the check reads which file to use and the reference inputs it validates
    keys against; the sales input is checked (and its hours summed) day by day against its
    day digests, which read what the check reads, and its split reads the feed's frontier."""
    split = parent == f"stg_{child.removesuffix('_errors')}_checked" or parent == f"{child}_checked"
    checks = child.endswith(("_checked", "_day_digests"))
    which_file = parent == "input_files" and (checks or child == "input_sources")
    references = checks and parent in REFERENCE_INPUTS
    candidates = child in {"input_files", "input_sources"} and parent == "input_file_candidates"
    day_digests = parent in {
        f"{child.removesuffix('_checked')}_day_digests",
        f"{child.removesuffix('_hour_partials')}_day_digests",
    }
    # The feed's frontier is computed once from the checked rows' hour totals (every shard's
    # hour partials added up), and the split reads it.
    input_name = child.removesuffix("_frontier").removesuffix("_hour_totals")
    hours = parent == f"{child.removesuffix('_hour_partials')}_checked" or parent in {
        f"{input_name}_hour_totals",
        f"{input_name}_hour_partials",
    }
    frontier = parent in {f"{child}_frontier", f"stg_{child.removesuffix('_errors')}_frontier"}
    return split or which_file or references or candidates or day_digests or hours or frontier


def test_staging_reads_staging_only_where_the_readme_says_why(manifest: dict) -> None:
    models = _models(manifest)
    edges = [
        (node["name"], models[parent]["name"])
        for node in models.values()
        if _is_staging(node)
        for parent in node["depends_on"]["nodes"]
        if parent in models and _is_staging(models[parent])
    ]
    assert edges, "the staging layer splits each input: there are such edges"
    assert [edge for edge in edges if not _allowed_staging_edge(*edge)] == []


def test_public_sql_models_have_enforced_contracts(manifest: dict) -> None:
    public = [node for node in _models(manifest).values() if node.get("access") == "public"]
    assert len(public) >= 8
    uncontracted = [
        node["name"]
        for node in public
        if node["language"] == "sql" and not node["config"]["contract"]["enforced"]
    ]
    assert uncontracted == []


def test_the_staged_inputs_and_the_logs_have_schemas_of_their_own(manifest: dict) -> None:
    # The schemas MRS's readers put on their search path (open_database) are the ones the
    # staging folder and the logs folders build into; everything else stays in main.
    schemas = {node["name"]: node["schema"] for node in _models(manifest).values()}
    staged = {node["name"] for node in _models(manifest).values() if _is_staging(node)}
    logs = {
        node["name"]
        for node in _models(manifest).values()
        if "/logs/" in node["original_file_path"]
    }
    assert staged and {schemas[name] for name in staged} == {STAGING_SCHEMA}
    assert len(logs) == 20 and {schemas[name] for name in logs} == {LOGS_SCHEMA}
    assert {schema for name, schema in schemas.items() if name not in staged | logs} == {"main"}


SHARD_SCOPES = {"per_shard", "every_shard", "global"}


def _shard_scopes(manifest: dict) -> dict[str, str]:
    """Each model's scale-out scope tag (docs/scale_out.md), disabled versions included."""
    disabled = [node for nodes in manifest.get("disabled", {}).values() for node in nodes]
    scopes = {}
    for node in [*manifest["nodes"].values(), *disabled]:
        if node["resource_type"] == "model":
            tags = SHARD_SCOPES.intersection(node["tags"])
            assert len(tags) == 1, f"{node['name']} has scope tags {sorted(tags)}: tag it once"
            scopes[node["unique_id"]] = tags.pop()
    return scopes


def test_every_model_says_where_it_runs_when_the_build_is_sharded(manifest: dict) -> None:
    scopes = _shard_scopes(manifest)
    assert len(scopes) > 100
    assert set(scopes.values()) == SHARD_SCOPES


def test_a_shard_reads_no_global_model_and_other_shards_only_through_partials(
    manifest: dict,
) -> None:
    # A shard runs before the global stage, and a model the same in every shard can only
    # read what every shard has: other shards' rows reach it as their partial statistics.
    scopes = _shard_scopes(manifest)
    models = _models(manifest)
    crossings = [
        (node["name"], scopes[unique_id], models[parent]["name"], scopes[parent])
        for unique_id, node in models.items()
        for parent in node["depends_on"]["nodes"]
        if parent in models
        and (
            (scopes[unique_id] != "global" and scopes[parent] == "global")
            or (
                scopes[unique_id] == "every_shard"
                and scopes[parent] == "per_shard"
                and "shard_partials" not in models[parent]["tags"]
            )
        )
    ]
    assert crossings == []
