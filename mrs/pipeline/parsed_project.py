"""The parsed dbt project a process keeps between its builds.

dbt parses the project at every invocation: a partial parse reads the whole saved manifest
back (`partial_parse.msgpack`) and writes `manifest.json` again, and it leaves a new
manifest of a few hundred thousand objects behind each time, which Python's cyclic garbage
collector then walks again and again while the build runs. A process that builds again and
again (`mrs build --every`, the test suite's workers) parses once with `dbt parse`, hands
the manifest to dbt's programmatic runner (`dbtRunner(manifest=...)`, dbt's documented way
to reuse one) and moves everything alive after the parse out of the collector's sight
(`gc.freeze`). Kept without the freeze, a manifest saved nothing (docs/benchmark.md, "dbt's
fixed cost").

A kept manifest is used only while everything it was parsed from is unchanged: the
project's files (their paths and contents; a file over a MiB, its size and modification
time), the arguments that reach the parse (`--vars`, `--target`, `--profile`, and
`--target-path`, where the partial parse's state is), the MRS_ and
DBT_ environment variables other than the build settings, which macros read only while
executing (the profile names the database file through MRS_DUCKDB_PATH; DBT_TARGET_PATH is
where the parse wrote manifest.json), and every other environment variable the parse read
(dbt records them). Anything else parses again, as dbt alone would.
"""

from __future__ import annotations

import gc
import hashlib
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# dbt_project.yml keys of the folders dbt parses, with dbt's defaults.
PROJECT_FOLDERS = {
    "model-paths": ["models"],
    "seed-paths": ["seeds"],
    "macro-paths": ["macros"],
    "test-paths": ["tests"],
    "analysis-paths": ["analyses"],
    "snapshot-paths": ["snapshots"],
    "docs-paths": [],
}
PROJECT_FILES = (
    "dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml", "selectors.yml"
)  # fmt: skip
# Arguments of the command that its parse takes too: what reaches the parse, and where the
# partial parse's saved state and the log are (a parse elsewhere would parse everything).
PARSE_OPTIONS = ("--vars", "--target", "-t", "--profile", "--target-path", "--log-path")
PARSE_FLAGS = ("--partial-parse", "--no-partial-parse")
# Environment variables that can change what a parse gives (the build settings excepted).
ENVIRONMENT_PREFIXES = ("MRS_", "DBT_")
# dbt's record of an environment variable a parse took from env_var's default.
DEFAULT_PLACEHOLDER = "DBT_DEFAULT_PLACEHOLDER"
# libyaml's loader where PyYAML has it (ten times faster on this project's 400 lines).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Files larger than this are told apart by size and modification time, not read.
LARGE_FILE_BYTES = 1024 * 1024
# Manifests kept per process: a sharded build's worker alternates between its shards'
# settings (five phase settings a shard, mrs.pipeline.shards.SHARD_PHASES: two shards on one
# worker keep ten; with three kept every phase parsed again, and the demo's sharded builds
# after the first took 37-41 s instead of 27-35 s), the test suite's workers between a few.
# About 8 MB a manifest.
KEPT_MANIFESTS = 12


@dataclass
class _KeptManifest:
    manifest: Any
    # The environment variables the parse read through env_var, as dbt recorded them then
    # (a build may record more in the manifest later).
    parsed_environment: dict[str, str]


@dataclass
class ParsedProjects:
    """Manifests this process parsed, by what they were parsed from (the newest last)."""

    kept: OrderedDict[str, _KeptManifest] = field(default_factory=OrderedDict)
    parses: int = 0

    def manifest_for(
        self,
        root: Path,
        dbt_arguments: Sequence[str],
        parse: Callable[[list[str]], Any],
        build_setting_prefix: str,
    ) -> Any | None:
        """The manifest of the project at `root` for a command with `dbt_arguments`, parsed
        now by `parse` (dbt's `parse` command's arguments in, the manifest or None out) unless
        one parsed from the same files, options and environment is kept; None when the parse
        failed (the command itself, run without a manifest, then says why). Environment
        variables whose names start with `build_setting_prefix` are the build settings,
        which macros read only while executing: they do not count. Call it in the
        environment and folder the command runs in. `dbt parse` itself gets None: handed a
        manifest, it would parse nothing and write nothing."""
        if list(dbt_arguments[:1]) == ["parse"]:
            return None
        key = parse_key(root, dbt_arguments, build_setting_prefix)
        kept = self.kept.get(key)
        if kept is not None and _environment_unchanged(kept.parsed_environment):
            self.kept.move_to_end(key)
            return kept.manifest
        self.kept.pop(key, None)
        while len(self.kept) >= KEPT_MANIFESTS:
            self.kept.popitem(last=False)
        # Back into the collector's sight: what the manifests this process no longer keeps
        # left behind goes with the next full collection, which a parse's allocations bring
        # about as they did before any manifest was kept (a collection forced here cost
        # 0.5-0.8 s a parse, and a sharded build's phases each parse).
        gc.unfreeze()
        self.parses += 1
        manifest = parse(_parse_arguments(root, dbt_arguments))
        if manifest is None:
            return None
        self.kept[key] = _KeptManifest(manifest, dict(getattr(manifest, "env_vars", {}) or {}))
        # Everything alive now, the manifest first, is left out of the collections to come:
        # they walk only what the builds allocate.
        gc.freeze()
        return manifest


def parse_key(root: Path, dbt_arguments: Sequence[str], build_setting_prefix: str) -> str:
    """A digest of what a parse of the project at `root` for `dbt_arguments` depends on."""
    digest = hashlib.sha256()
    digest.update(str(root.resolve()).encode())
    for option, value in _parse_options(dbt_arguments):
        digest.update(f"\0{option}={value}".encode())
    for name in sorted(os.environ):
        if name.startswith(ENVIRONMENT_PREFIXES) and not name.startswith(build_setting_prefix):
            digest.update(f"\0{name}={os.environ[name]}".encode())
    for relative, fingerprint in _project_files(root):
        digest.update(f"\0{relative}:{fingerprint}".encode())
    return digest.hexdigest()


def _parse_options(dbt_arguments: Sequence[str]) -> list[tuple[str, str]]:
    """The command's PARSE_OPTIONS with their values, and its PARSE_FLAGS (value "")."""
    found = []
    for index, argument in enumerate(dbt_arguments):
        option, equals, value = argument.partition("=")
        if option in PARSE_FLAGS:
            found.append((option, ""))
        if option not in PARSE_OPTIONS:
            continue
        if equals:
            found.append((option, value))
        elif index + 1 < len(dbt_arguments):
            found.append((option, dbt_arguments[index + 1]))
    return found


def _parse_arguments(root: Path, dbt_arguments: Sequence[str]) -> list[str]:
    """`dbt parse` with the options of the command that reach a parse; silent, since the
    command that follows prints dbt's header, and its errors should the parse fail."""
    arguments = [
        "parse", "--log-level", "none", "--project-dir", str(root), "--profiles-dir", str(root)
    ]  # fmt: skip
    for option, value in _parse_options(dbt_arguments):
        arguments += [option, value] if value else [option]
    return arguments


def _environment_unchanged(parsed_environment: dict[str, str]) -> bool:
    return all(
        os.environ.get(name, DEFAULT_PLACEHOLDER) == value
        for name, value in parsed_environment.items()
    )


def _project_files(root: Path) -> Iterator[tuple[str, str]]:
    """Every file dbt parses the project from: its path (relative) and what it holds."""
    for name in PROJECT_FILES:
        yield from _fingerprint(root, root / name)
    for folder in _project_folders(root):
        for directory, subdirectories, files in os.walk(root / folder):
            subdirectories.sort()
            for name in sorted(files):
                yield from _fingerprint(root, Path(directory) / name)


def _project_folders(root: Path) -> list[str]:
    try:
        text = (root / "dbt_project.yml").read_text(encoding="utf-8")
        settings = yaml.load(text, Loader=_YAML_LOADER) or {}
    except (OSError, yaml.YAMLError):
        settings = {}
    folders: list[str] = []
    for key, default in PROJECT_FOLDERS.items():
        value = settings.get(key, default) if isinstance(settings, dict) else default
        folders += [str(folder) for folder in (value or [])]
    return sorted(set(folders))


def _fingerprint(root: Path, path: Path) -> Iterator[tuple[str, str]]:
    """A file's contents' digest, or for a file over a MiB (a large seed, which dbt too
    tells apart by its path alone) its size and modification time: a rewritten file of the
    same size within one tick of a coarse clock is still told apart where it matters."""
    try:
        status = path.stat()
        if status.st_size > LARGE_FILE_BYTES:
            fingerprint = f"{status.st_size}:{status.st_mtime_ns}"
        else:
            fingerprint = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return
    yield str(path.relative_to(root)), fingerprint
