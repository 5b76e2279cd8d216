"""Where the dbt project and its database are, and how to run dbt against them."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mrs.pipeline.parsed_project import ParsedProjects

DEFAULT_DATABASE = "mrs.duckdb"
# `dbt build` arguments that build seeds and models but run no data or unit tests.
WITHOUT_TESTS = ("--exclude", "resource_type:test", "resource_type:unit_test")
# Settings that change from build to build reach dbt as environment variables MRS_BUILD_<NAME>
# (macro mrs_build_setting), not --vars: a change of --vars makes dbt re-parse the whole
# project, about 5 s of every hourly tick.
BUILD_SETTINGS = ("as_of", "run_id", "training_start", "detection_start", "mrs_input_dir")
BUILD_SETTING_PREFIX = "MRS_BUILD_"


# The manifests this process parsed, kept for its next builds (mrs.pipeline.parsed_project):
# process-wide, as dbt's own flags and adapters are.
_PARSED_PROJECTS = ParsedProjects()


class MrsError(Exception):
    """An error the user can act on; the message says what to do."""


@dataclass(frozen=True)
class Project:
    root: Path
    database: Path

    @classmethod
    def locate(cls, database: str | os.PathLike[str] | None = None) -> Project:
        root = _project_root()
        chosen = database or os.environ.get("MRS_DUCKDB_PATH") or DEFAULT_DATABASE
        path = Path(chosen)
        if not path.is_absolute():
            path = (Path.cwd() if database else root) / path
        return cls(root=root, database=path.resolve())

    def dbt(
        self,
        arguments: list[str],
        dbt_vars: dict[str, object] | None = None,
        environment: dict[str, str] | None = None,
    ) -> int:
        """Run one dbt command in the project against this database, as a dbt process of its
        own; return its exit code. For builds that run side by side (the family evaluation's
        slots, the shards of a sharded build) or whose memory is measured apart (`mrs
        bench`); `mrs build`, `mrs demo` and `mrs evaluate` of demo-sized worlds use
        dbt_in_process. `environment`: more environment variables for this command."""
        executable = Path(sys.executable).with_name("dbt")
        dbt_arguments, settings = self._invocation(arguments, dbt_vars)
        command = [str(executable) if executable.exists() else _which_dbt(), *dbt_arguments]
        # Only this command's settings: none inherited from the caller's environment.
        env = {k: v for k, v in os.environ.items() if not k.startswith(BUILD_SETTING_PREFIX)}
        env.update(settings)
        env.update(environment or {})
        # dbt runs in the database's folder (_invocation), which a first build creates.
        self.database.parent.mkdir(parents=True, exist_ok=True)
        return subprocess.run(command, cwd=self.database.parent, env=env, check=False).returncode

    def dbt_in_process(
        self,
        arguments: list[str],
        dbt_vars: dict[str, object] | None = None,
        environment: dict[str, str] | None = None,
    ) -> int:
        """The same command through dbt's programmatic runner, in this process (`mrs build`,
        `mrs demo`): no second Python to start, and a process that builds again and again
        (`mrs build --every`, the test suite) imports dbt once (about 3 s of each build on the
        2-core machine: `mrs bench-startup`, docs/benchmark.md) and parses the project once
        while nothing it is parsed from changes (mrs.pipeline.parsed_project: 1.5-2 s less
        per unchanged rebuild of the demo). One at a time per process:
        dbt's flags and adapters are the process's. `environment`: more environment
        variables for this command."""
        from dbt.cli.main import dbtRunner  # about 1.4 s: only the commands that build

        dbt_arguments, settings = self._invocation(arguments, dbt_vars)
        self.database.parent.mkdir(parents=True, exist_ok=True)
        with (
            _environment({**settings, **(environment or {})}),
            contextlib.chdir(self.database.parent),
        ):
            try:
                # The project as parsed for the last builds like this one, or parsed now.
                manifest = _PARSED_PROJECTS.manifest_for(
                    self.root, dbt_arguments, _parsed_manifest, BUILD_SETTING_PREFIX
                )
                result = dbtRunner(manifest=manifest).invoke(dbt_arguments)
            finally:
                release_database()
        if result.exception is not None:
            print(f"mrs: dbt stopped: {result.exception}", file=sys.stderr)
            return 2
        return 0 if result.success else 1

    def _invocation(
        self, arguments: list[str], dbt_vars: dict[str, object] | None
    ) -> tuple[list[str], dict[str, str]]:
        """dbt's arguments, and the environment variables that carry the build settings."""
        dbt_arguments = list(arguments)
        settings = {k: v for k, v in (dbt_vars or {}).items() if k in BUILD_SETTINGS}
        other_vars = {k: v for k, v in (dbt_vars or {}).items() if k not in BUILD_SETTINGS}
        if other_vars:
            dbt_arguments += ["--vars", _yaml_flow(other_vars)]
        if settings.get("mrs_input_dir") and arguments[:1] == ["build"]:
            # The demo world's input seeds are read only when no input folder is given; the
            # largest takes 1.5 s to load.
            dbt_arguments += ["--exclude", "tag:demo_input"]
        environment = {
            BUILD_SETTING_PREFIX + k.upper(): str(v) for k, v in settings.items() if v is not None
        }
        # dbt runs in the database's folder and the profile names the file alone: dbt parses
        # the whole project again when the profile's path changes (about 4 s), so databases
        # of one name in different folders (a copy, a world per folder) share the parse.
        dbt_arguments += ["--project-dir", str(self.root), "--profiles-dir", str(self.root)]
        environment.update(MRS_DUCKDB_PATH=self.database.name, DBT_PROFILES_DIR=str(self.root))
        return dbt_arguments, environment


def _parsed_manifest(parse_arguments: list[str]) -> Any | None:
    """dbt's manifest from `dbt parse` in this process, or None if the parse failed."""
    from dbt.cli.main import dbtRunner

    try:
        result = dbtRunner().invoke(parse_arguments)
    finally:
        release_database()
    return result.result if result.success and result.exception is None else None


def release_database() -> None:
    """Close the database dbt-duckdb opened in this process. dbt-duckdb keeps its connection
    after a programmatic invocation (dbt-duckdb issue 616): the file stayed locked between two
    builds of `mrs build --every`, for BI tools and the review app, and the next build of
    another database file in the same process wrote into the first."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    try:
        environment = DuckDBConnectionManager.env()
    except Exception:  # dbt-duckdb's plain "requested before creation": none is open
        return
    environment.close()
    DuckDBConnectionManager.close_all_connections()


@contextlib.contextmanager
def _environment(settings: dict[str, str]) -> Iterator[None]:
    """This process's environment with exactly these build settings, restored afterwards
    (dbt reads them with env_var while it runs)."""
    saved = dict(os.environ)
    for name in [k for k in os.environ if k.startswith(BUILD_SETTING_PREFIX)]:
        del os.environ[name]
    os.environ.update(settings)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@functools.cache
def project_vars(root: Path) -> dict[str, Any]:
    """The vars of the project's dbt_project.yml: the rules the build and the mrs package share
    (review rules, the input contract), read once per process."""
    path = root / "dbt_project.yml"
    try:
        return dict(yaml.safe_load(path.read_text(encoding="utf-8"))["vars"])
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as error:
        raise MrsError(f"cannot read the vars of {path}: {error}") from error


def project_root() -> Path:
    """The folder of the dbt project (dbt_project.yml)."""
    return _project_root()


def _project_root() -> Path:
    override = os.environ.get("MRS_PROJECT_DIR")
    candidates = [Path(override)] if override else []
    candidates += [Path(__file__).resolve().parents[2], Path.cwd()]
    for candidate in candidates:
        if (candidate / "dbt_project.yml").exists():
            return candidate.resolve()
    raise MrsError(
        "cannot find the dbt project (dbt_project.yml); run mrs from the project folder "
        "or set MRS_PROJECT_DIR"
    )


def _which_dbt() -> str:
    found = shutil.which("dbt")
    if not found:
        raise MrsError("dbt is not installed; run `python3 tasks.py demo` to set everything up")
    return found


def _yaml_flow(values: dict[str, object]) -> str:
    """A dbt --vars argument; values are quoted so timestamps and paths stay strings."""
    parts = []
    for key, value in values.items():
        if isinstance(value, dict):
            rendered = _yaml_flow(value)
        elif value is None:
            rendered = "null"
        elif isinstance(value, bool):
            rendered = "true" if value else "false"
        elif isinstance(value, int | float):
            rendered = repr(value)
        else:
            rendered = "'" + str(value).replace("'", "''") + "'"
        parts.append(f"{key}: {rendered}")
    return "{" + ", ".join(parts) + "}"
