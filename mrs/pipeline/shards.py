"""The shards of a sharded build (issue 17, docs/scale_out.md): one dbt build of the project
per shard of stores, each on a DuckDB file and dbt target folder of its own, run phase by
phase. A phase ends where shards need each other: each writes its partial statistics to the
exchange folder as Parquet (the models tagged `shard_partials`), and the next phase of every
shard reads all of them. The edit journal, the registry and the reviewers file stay the
deployment's one set, beside the main database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mrs.pipeline.project import WITHOUT_TESTS, MrsError, Project

# What a shard builds, phase by phase: first every shard's partial statistics and what they
# are computed from, then the rest of what runs per shard (the per_shard and every_shard
# tags, docs/scale_out.md), reading every shard's partials.
SHARD_PHASES: tuple[tuple[str, str], ...] = (
    ("partials", "+tag:shard_partials"),
    ("shard", "tag:per_shard tag:every_shard"),
)


@dataclass(frozen=True)
class ShardLayout:
    """Where the shards of the database `database` keep their files: beside it, in
    `<name>.shards/`, one folder per shard (its database and dbt target) and the exchange."""

    database: Path
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise MrsError(f"--shards {self.count}: give 1 or more shards")

    @property
    def folder(self) -> Path:
        return self.database.with_name(self.database.stem + ".shards")

    @property
    def exchange(self) -> Path:
        return self.folder / f"exchange-of-{self.count}"

    def shard_exchange(self, shard: int) -> Path:
        """Where shard `shard` writes its partial statistics (macro mrs_shard_partials_file)."""
        return self.exchange / f"shard-{shard}-of-{self.count}"

    def shard_folder(self, shard: int) -> Path:
        return self.folder / f"shard-{shard}-of-{self.count}"

    def shard_database(self, shard: int) -> Path:
        return self.shard_folder(shard) / self.database.name

    def dbt_vars(self, shard: int) -> dict[str, object]:
        """The vars that make a build shard `shard`, with the deployment's one journal,
        registry and reviewers file (by default each database's own, beside it)."""
        beside = self.database.with_suffix("")
        return {
            "mrs_shard": shard,
            "mrs_shard_count": self.count,
            "mrs_shard_exchange_dir": str(self.exchange),
            "mrs_edits_dir": f"{beside}_edits",
            "mrs_registry_dir": f"{beside}_models",
            "mrs_reviewers_file": f"{beside}_access/reviewers.csv",
        }


@dataclass(frozen=True)
class ShardPhase:
    """One phase of one shard: what it selects and what the phases before it built."""

    layout: ShardLayout
    shard: int
    select: str
    exclude: tuple[str, ...]
    settings: tuple[tuple[str, object], ...]
    with_tests: bool


def shard_phases(
    layout: ShardLayout,
    settings: dict[str, object],
    with_tests: bool = False,
    phases: Sequence[tuple[str, str]] = SHARD_PHASES,
) -> list[tuple[str, list[ShardPhase]]]:
    """Each phase's name and the work of every shard in it, in the order they run."""
    planned = []
    for index, (name, select) in enumerate(phases):
        exclude = tuple(earlier for _, earlier in phases[:index])
        work = [
            ShardPhase(layout, shard, select, exclude, tuple(sorted(settings.items())), with_tests)
            for shard in range(layout.count)
        ]
        planned.append((name, work))
    return planned


def build_shard_phase(phase: ShardPhase) -> int:
    """Run one shard's phase as a dbt process of its own; return dbt's exit code."""
    project = Project.locate(phase.layout.shard_database(phase.shard))
    arguments = ["build", "--select", *phase.select.split()]
    exclude = [*" ".join(phase.exclude).split()]
    if not phase.with_tests:
        exclude += list(WITHOUT_TESTS[1:])
    if exclude:
        arguments += ["--exclude", *exclude]
    arguments += ["--target-path", str(phase.layout.shard_folder(phase.shard) / "target")]
    dbt_vars = {**dict(phase.settings), **phase.layout.dbt_vars(phase.shard)}
    return project.dbt(arguments, dbt_vars)


Runner = Callable[[list[ShardPhase]], list[int]]


def run_one_after_another(work: list[ShardPhase]) -> list[int]:
    """Every shard's phase in this process, one after the other (no cluster)."""
    return [build_shard_phase(phase) for phase in work]


def build_shards(
    layout: ShardLayout,
    settings: dict[str, object],
    runner: Runner = run_one_after_another,
    with_tests: bool = False,
    phases: Sequence[tuple[str, str]] = SHARD_PHASES,
    progress: Callable[[str], None] = print,
) -> None:
    """Build every shard, phase by phase: a phase starts when every shard finished the one
    before (its partial statistics are in the exchange folder)."""
    for shard in range(layout.count):
        # dbt-duckdb's external materialization writes into a folder that must exist.
        layout.shard_exchange(shard).mkdir(parents=True, exist_ok=True)
    for name, work in shard_phases(layout, settings, with_tests, phases):
        progress(f"mrs: shards, phase '{name}': {layout.count} shard(s)")
        codes = runner(work)
        failed = [phase.shard for phase, code in zip(work, codes, strict=True) if code != 0]
        if failed:
            raise MrsError(
                f"shard(s) {failed} failed in phase '{name}' (dbt's output above names the "
                f"model); their files are in {layout.folder}: fix the cause and build again"
            )


def run_on_ray(address: str | None = None) -> Runner:
    """Every shard's phase as a Ray task of one CPU, on the cluster at `address` (`ray start
    --head` prints it; `auto` finds the one this machine belongs to), or on a Ray started in
    this process when none is given. Each task runs dbt as a process of its own, as
    run_one_after_another does, on whichever node Ray places it: the shards' folders and the
    exchange folder must be reachable from every node under the same path."""
    import ray  # only a sharded build on Ray needs it, and it takes seconds to import

    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=True)
    remote_phase = ray.remote(num_cpus=1, max_retries=0)(build_shard_phase)

    def run(work: list[ShardPhase]) -> list[int]:
        return ray.get([remote_phase.remote(phase) for phase in work])

    return run
