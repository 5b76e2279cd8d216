"""The parsed dbt project a process keeps between builds (mrs.pipeline.parsed_project): used
while nothing it was parsed from changed, parsed again when anything did; and, with dbt itself
on a project of one model, a model edited between two builds of one process is built from its
new SQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

import mrs.pipeline.project as project_module
from mrs.pipeline.parsed_project import ParsedProjects
from mrs.pipeline.project import BUILD_SETTING_PREFIX, Project
from mrs.pipeline.shards import PASS_VARIABLES, SHARD_PHASES

BUILD = ["build", "--vars", "{sku_limit: 3}", "--target-path", "shard-0/target"]


class _Manifest:
    """What a parse gives, as far as the kept manifests look at it."""

    def __init__(self, env_vars: dict[str, str]) -> None:
        self.env_vars = env_vars


def _project(root: Path) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        "name: tiny\nversion: '1.0'\nconfig-version: 2\nprofile: tiny\n", encoding="utf-8"
    )
    (root / "profiles.yml").write_text(
        "tiny:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: \"{{ env_var('MRS_DUCKDB_PATH') }}\"\n      threads: 1\n",
        encoding="utf-8",
    )
    (root / "models" / "answer.sql").write_text("select 1 as answer\n", encoding="utf-8")
    return root


def _counting_parse(parsed: list[list[str]], env_vars: dict[str, str]) -> Callable:
    def parse(arguments: list[str]) -> _Manifest:
        parsed.append(arguments)
        return _Manifest(dict(env_vars))

    return parse


def test_a_kept_manifest_serves_every_build_whose_inputs_to_the_parse_are_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path / "project")
    parsed: list[list[str]] = []
    parse = _counting_parse(parsed, {"MRS_STORE_REGION": "north"})
    monkeypatch.setenv("MRS_STORE_REGION", "north")
    projects = ParsedProjects()
    first = projects.manifest_for(root, BUILD, parse, BUILD_SETTING_PREFIX)
    # The next tick: its build settings change, nothing the parse read.
    monkeypatch.setenv(f"{BUILD_SETTING_PREFIX}AS_OF", "2025-07-26 13:00")
    again = projects.manifest_for(root, [*BUILD, "--select", "answer"], parse, BUILD_SETTING_PREFIX)
    assert again is first
    # The parse takes the command's vars, and its target folder: the partial parse's saved
    # state is there (a parse elsewhere parsed everything again: a sharded build's phases,
    # each with a target folder of its own, took twice as long).
    assert parsed == [
        ["parse", "--log-level", "none", "--project-dir", str(root), "--profiles-dir", str(root),
         "--vars", "{sku_limit: 3}", "--target-path", "shard-0/target"]
    ]  # fmt: skip


@pytest.mark.parametrize(
    "change",
    [
        "a model's SQL, same size",
        "a new macro file",
        "the vars",
        "the profile's database file",
        "an environment variable the parse read",
        "the target folder",
        "the target folder's option",
    ],
)
def test_anything_a_parse_depends_on_changed_parses_again(
    change: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path / "project")
    parsed: list[list[str]] = []
    parse = _counting_parse(parsed, {"MRS_STORE_REGION": "north"})
    monkeypatch.setenv("MRS_STORE_REGION", "north")
    monkeypatch.setenv("MRS_DUCKDB_PATH", "mrs.duckdb")
    projects = ParsedProjects()
    first = projects.manifest_for(root, BUILD, parse, BUILD_SETTING_PREFIX)
    arguments = BUILD
    if change == "a model's SQL, same size":
        (root / "models" / "answer.sql").write_text("select 2 as answer\n", encoding="utf-8")
    elif change == "a new macro file":
        (root / "macros").mkdir()
        (root / "macros" / "cents.sql").write_text("{% macro cents() %}100{% endmacro %}\n")
    elif change == "the vars":
        arguments = ["build", "--vars", "{sku_limit: 4}", "--target-path", "shard-0/target"]
    elif change == "the profile's database file":
        monkeypatch.setenv("MRS_DUCKDB_PATH", "other.duckdb")
    elif change == "an environment variable the parse read":
        monkeypatch.setenv("MRS_STORE_REGION", "south")
    elif change == "the target folder":
        monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "elsewhere"))
    else:
        arguments = ["build", "--vars", "{sku_limit: 3}", "--target-path", "shard-1/target"]
    second = projects.manifest_for(root, arguments, parse, BUILD_SETTING_PREFIX)
    assert len(parsed) == 2
    assert second is not first
    # and the manifest parsed before it is still served to builds like the first
    monkeypatch.undo()
    monkeypatch.setenv("MRS_STORE_REGION", "north")
    monkeypatch.setenv("MRS_DUCKDB_PATH", "mrs.duckdb")
    if change in ("a model's SQL, same size", "a new macro file"):
        return  # the project's files are what they are now
    assert projects.manifest_for(root, BUILD, parse, BUILD_SETTING_PREFIX) is first
    assert len(parsed) == 2


def test_a_failed_parse_is_not_kept(tmp_path: Path) -> None:
    root = _project(tmp_path / "project")
    attempts: list[list[str]] = []

    def failing(arguments: list[str]) -> None:
        attempts.append(arguments)

    projects = ParsedProjects()
    assert projects.manifest_for(root, BUILD, failing, BUILD_SETTING_PREFIX) is None
    assert projects.manifest_for(root, BUILD, failing, BUILD_SETTING_PREFIX) is None
    assert len(attempts) == 2


def test_a_model_edited_between_two_builds_of_one_process_is_built_from_its_new_sql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path / "project")
    # This project's artifacts apart from the worker's own (its partial parse of the
    # real project).
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    database = tmp_path / "db" / "tiny.duckdb"
    project = Project(root=root, database=database)
    parses_before = project_module._PARSED_PROJECTS.parses

    def answer() -> int:
        with duckdb.connect(str(database), read_only=True) as connection:
            [(value,)] = connection.execute("select answer from answer").fetchall()
        return int(value)

    assert project.dbt_in_process(["build"]) == 0
    assert answer() == 1
    assert project.dbt_in_process(["build"]) == 0
    assert project_module._PARSED_PROJECTS.parses == parses_before + 1
    (root / "models" / "answer.sql").write_text("select 2 as answer\n", encoding="utf-8")
    assert project.dbt_in_process(["build"]) == 0
    assert answer() == 2
    assert project_module._PARSED_PROJECTS.parses == parses_before + 2
    # `dbt parse` parses (and writes its artifacts) whatever is kept.
    monkeypatch.setenv("DBT_WRITE_JSON", "true")
    assert project.dbt_in_process(["parse"]) == 0
    assert (tmp_path / "target" / "manifest.json").exists()
    assert project_module._PARSED_PROJECTS.parses == parses_before + 2
    # A model that no longer compiles fails the build as dbt alone would.
    (root / "models" / "answer.sql").write_text("select {{ no_such_macro() }}\n")
    assert project.dbt_in_process(["build"]) != 0


def test_a_ray_worker_building_two_shards_phase_by_phase_parses_each_setting_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A sharded build's worker with one CPU runs every phase of both shards in turn, each
    # phase with its passes' environment, each shard with its own vars and target folder:
    # the settings' manifests must all stay kept until the next build comes round (three
    # kept made every phase parse again, 6-12 s more for each of the demo's sharded builds).
    root = _project(tmp_path / "project")
    parsed: list[list[str]] = []
    parse = _counting_parse(parsed, {})
    projects = ParsedProjects()
    settings = set()
    for _build in range(2):
        for phase in SHARD_PHASES:
            for shard in range(2):
                environment = {**dict.fromkeys(PASS_VARIABLES, ""), **dict(phase.environment)}
                for name, value in environment.items():
                    monkeypatch.setenv(name, value)
                arguments = [
                    "build", "--vars", f"{{mrs_shard: {shard}}}",
                    "--target-path", f"shard-{shard}/target",
                ]  # fmt: skip
                settings.add((shard, tuple(sorted(environment.items()))))
                assert projects.manifest_for(root, arguments, parse, BUILD_SETTING_PREFIX)
    assert len(settings) == 10  # five phase settings (two phases share one), two shards
    assert len(parsed) == len(settings)
