"""Where the dbt project and its database are, and how to run dbt against them."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE = "mrs.duckdb"
# `dbt build` arguments that build seeds and models but run no data or unit tests.
WITHOUT_TESTS = ("--exclude", "resource_type:test", "resource_type:unit_test")
# Settings that change from build to build reach dbt as environment variables MRS_BUILD_<NAME>
# (macro mrs_build_setting), not --vars: a change of --vars makes dbt re-parse the whole
# project, about 5 s of every hourly tick.
BUILD_SETTINGS = ("as_of", "run_id", "training_start", "detection_start", "mrs_input_dir")
BUILD_SETTING_PREFIX = "MRS_BUILD_"


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

    def dbt(self, arguments: list[str], dbt_vars: dict[str, object] | None = None) -> int:
        """Run one dbt command in the project against this database; return its exit code."""
        executable = Path(sys.executable).with_name("dbt")
        command = [str(executable) if executable.exists() else _which_dbt(), *arguments]
        settings = {k: v for k, v in (dbt_vars or {}).items() if k in BUILD_SETTINGS}
        other_vars = {k: v for k, v in (dbt_vars or {}).items() if k not in BUILD_SETTINGS}
        if other_vars:
            command += ["--vars", _yaml_flow(other_vars)]
        if settings.get("mrs_input_dir") and arguments[:1] == ["build"]:
            # The demo world's input seeds are read only when no input folder is given; the
            # largest takes 1.5 s to load.
            command += ["--exclude", "tag:demo_input"]
        # Only this command's settings: none inherited from the caller's environment.
        env = {k: v for k, v in os.environ.items() if not k.startswith(BUILD_SETTING_PREFIX)}
        env.update(
            {BUILD_SETTING_PREFIX + k.upper(): str(v) for k, v in settings.items() if v is not None}
        )
        env.update(MRS_DUCKDB_PATH=str(self.database), DBT_PROFILES_DIR=str(self.root))
        return subprocess.run(command, cwd=self.root, env=env, check=False).returncode


def _project_root() -> Path:
    override = os.environ.get("MRS_PROJECT_DIR")
    candidates = [Path(override)] if override else []
    candidates += [Path(__file__).resolve().parents[1], Path.cwd()]
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


def add_database_option(
    parser: argparse.ArgumentParser,
    help_text: str = "DuckDB file (default mrs.duckdb in the project)",
) -> None:
    """The `--database PATH` option of every command that works on one MRS database."""
    parser.add_argument("--database", help=help_text)
