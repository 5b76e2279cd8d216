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

from mrs.pipeline.database_lock import open_database
from mrs.pipeline.project import WITHOUT_TESTS, MrsError, Project


@dataclass(frozen=True)
class Phase:
    """What every shard builds in one phase: dbt's selection, what it leaves out (built by an
    earlier phase) and the environment variables that make it this phase (not vars: a change
    of vars makes dbt parse the whole project again, about 5 s a phase; an environment
    variable only the files that read it)."""

    name: str
    select: str
    exclude: str = ""
    environment: tuple[tuple[str, str], ...] = ()

    @property
    def is_partial_pass(self) -> bool:
        """A partial pass writes a model's rows under another name: its tests, which read the
        model, wait for the phase that builds it."""
        return any(value for _, value in self.environment)


# The first phase: the feed's hour partials, with what they are computed from, and the
# newest tick each log of the shard holds (before any log is written).
FIRST_PHASE_MODELS = "+stg_unified_sales_data_hour_partials shard_log_watermarks"
PREDICTIONS = "baseline_sales_predictions"
# What the predictions read of each day (built before their first pass, kept as they are).
DAY_TOTALS = "baseline_day_totals"
# The environment variables that choose a model's pass (macro mrs_shard_pass).
PASS_VARIABLES = ("MRS_FIT_PASS", "MRS_SCORE_PASS")
# What a shard builds, phase by phase: the feed's hour partials and what they are computed
# from, and its logs' newest ticks; the baseline fit's two partial passes (its pooled
# medians are over every shard's series); the fit and the day totals the predictions read,
# with the predictions' two partial passes (the first day any shard scores again, then each
# day's sums of the score scale from it); then everything
# that runs per shard (the per_shard and every_shard tags, docs/scale_out.md), reading every
# shard's partials, and writes its interfaces for the global stage.
SHARD_PHASES: tuple[Phase, ...] = (
    Phase("feed", FIRST_PHASE_MODELS),
    Phase(
        "fit dispersion",
        "+baseline_sales_model_fit",
        FIRST_PHASE_MODELS,
        (("MRS_FIT_PASS", "dispersion"),),
    ),
    Phase("fit day noise", "baseline_sales_model_fit", "", (("MRS_FIT_PASS", "day_noise"),)),
    Phase(
        "score plan",
        f"baseline_sales_model_fit {DAY_TOTALS} {PREDICTIONS}",
        "",
        (("MRS_SCORE_PASS", "plan"),),
    ),
    Phase("score scale", PREDICTIONS, "", (("MRS_SCORE_PASS", "scale"),)),
    Phase("shard", "tag:per_shard tag:every_shard", FIRST_PHASE_MODELS),
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

    def shard_interfaces(self, shard: int) -> Path:
        """Where shard `shard` writes its interfaces (macro mrs_shard_interface_file)."""
        return self.shard_exchange(shard) / "interfaces"

    def shard_folder(self, shard: int) -> Path:
        return self.folder / f"shard-{shard}-of-{self.count}"

    def shard_database(self, shard: int) -> Path:
        return self.shard_folder(shard) / self.database.name

    def dbt_vars(self, shard: int | str) -> dict[str, object]:
        """The vars that make a build shard `shard` (or, with GLOBAL_STAGE, the global stage
        on the deployment's own database), with the deployment's one journal, registry and
        reviewers file (by default each database's own, beside it)."""
        beside = self.database.with_suffix("")
        return {
            "mrs_shard": shard,
            "mrs_shard_count": self.count,
            "mrs_shard_exchange_dir": str(self.exchange),
            "mrs_edits_dir": f"{beside}_edits",
            "mrs_registry_dir": f"{beside}_models",
            "mrs_reviewers_file": f"{beside}_access/reviewers.csv",
        }


# The value of var mrs_shard that makes a build the global stage (macro mrs_is_global_stage).
GLOBAL_STAGE = "global"
# What the global stage builds: the models over every store, and the ones the same in every
# shard (seeds, reference data, the feed's statistics), which it reads too.
GLOBAL_SELECTION = ("tag:global", "tag:every_shard")


def built_shard_counts(database: Path) -> list[int]:
    """The shard counts `database` has been built with (none: one process, or never built),
    from the exchange folders its sharded builds left beside it."""
    folder = ShardLayout(database, 1).folder
    counts = []
    for exchange in folder.glob("exchange-of-*"):
        count = exchange.name.removeprefix("exchange-of-")
        if exchange.is_dir() and count.isdigit():
            counts.append(int(count))
    return sorted(counts)


def check_deployment(database: Path, shards: int) -> None:
    """Refuse a build that would mix one process's and a sharded build's record: the logs
    are append-only, and a deployment keeps them where its first build put them (the
    global stage's database holds views over the shards' logs; one process's, the logs
    themselves)."""
    built = built_shard_counts(database)
    if shards == 1 and built:
        raise MrsError(
            f"{database} is the database of a sharded deployment (built with --shards "
            f"{built[-1]}, its shards in {ShardLayout(database, 1).folder}): build it with "
            f"--shards {built[-1]} again, or build one process into a new --database"
        )
    if shards > 1 and built and built != [shards]:
        raise MrsError(
            f"{database} was built with --shards {built[-1]}: a shard's stores and logs stay "
            f"in its own file, so another count would lose them; build with --shards "
            f"{built[-1]}, or build {shards} shards into a new --database"
        )
    if shards > 1 and not built and _holds_logs_of_one_process(database):
        raise MrsError(
            f"{database} holds the logs of builds by one process; a sharded build writes "
            "its logs in the shards' files: build it without --shards, or build the "
            "shards into a new --database"
        )


def _holds_logs_of_one_process(database: Path) -> bool:
    """Whether `database` holds the detected log as a table (a sharded deployment's holds a
    view over its shards')."""
    if not database.exists():
        return False
    with open_database(database) as con:
        found = con.execute(
            "select count(*) from information_schema.tables where table_catalog = "
            "current_database() and table_schema = 'logs' and table_type = 'BASE TABLE' "
            "and table_name = 'minority_reports_detected_log'"
        ).fetchone()
    return bool(found and found[0])


@dataclass(frozen=True)
class ShardWork:
    """One phase of one shard, with the build's settings."""

    layout: ShardLayout
    shard: int
    phase: Phase
    settings: tuple[tuple[str, object], ...]
    with_tests: bool


@dataclass(frozen=True)
class DbtCommand:
    """One dbt command of a sharded build: on which database, with what."""

    project: Project
    arguments: list[str]
    dbt_vars: dict[str, object]
    environment: dict[str, str]

    def run(self, in_process: bool) -> int:
        """Run it in this process (dbt's programmatic runner) or as a dbt process of its own;
        return dbt's exit code."""
        if in_process:
            return self.project.dbt_in_process(self.arguments, self.dbt_vars, self.environment)
        return self.project.dbt(self.arguments, self.dbt_vars, self.environment)


def shard_phase_command(work: ShardWork) -> DbtCommand:
    """The dbt command of one shard's phase: its selection, its own database and target
    folder, its vars and its passes."""
    project = Project.locate(work.layout.shard_database(work.shard))
    arguments = ["build", "--select", *work.phase.select.split()]
    exclude = work.phase.exclude.split()
    if not work.with_tests or work.phase.is_partial_pass:
        exclude += list(WITHOUT_TESTS[1:])
    if exclude:
        arguments += ["--exclude", *exclude]
    arguments += ["--target-path", str(work.layout.shard_folder(work.shard) / "target")]
    dbt_vars = {**dict(work.settings), **work.layout.dbt_vars(work.shard)}
    # Every phase says its passes: none inherited from the caller's environment.
    environment = {**dict.fromkeys(PASS_VARIABLES, ""), **dict(work.phase.environment)}
    return DbtCommand(project, arguments, dbt_vars, environment)


def build_shard_phase(work: ShardWork, in_process: bool = False) -> int:
    """Run one shard's phase as a dbt process of its own, or `in_process` (a Ray worker,
    which runs one task at a time and keeps dbt imported from task to task); return dbt's
    exit code."""
    return shard_phase_command(work).run(in_process)


def build_shard_phase_in_worker(work: ShardWork) -> int:
    """build_shard_phase in the Ray worker that runs it: the worker is reused for the next
    task, so dbt's import (about 3 s) is paid once per worker, not once per phase."""
    return build_shard_phase(work, in_process=True)


Runner = Callable[[list[ShardWork]], list[int]]


def run_one_after_another(work: list[ShardWork]) -> list[int]:
    """Every shard's phase in this process, one after the other (no cluster)."""
    return [build_shard_phase(one) for one in work]


def build_shards(
    layout: ShardLayout,
    settings: dict[str, object],
    runner: Runner = run_one_after_another,
    with_tests: bool = False,
    phases: Sequence[Phase] = SHARD_PHASES,
    progress: Callable[[str], None] = print,
) -> None:
    """Build every shard, phase by phase: a phase starts when every shard finished the one
    before (its partial statistics are in the exchange folder)."""
    for shard in range(layout.count):
        # dbt-duckdb's external materialization and DuckDB's COPY write into folders that
        # must exist.
        layout.shard_interfaces(shard).mkdir(parents=True, exist_ok=True)
    frozen = tuple(sorted(settings.items()))
    for phase in phases:
        progress(f"mrs: shards, phase '{phase.name}': {layout.count} shard(s)")
        work = [ShardWork(layout, k, phase, frozen, with_tests) for k in range(layout.count)]
        codes = runner(work)
        failed = [one.shard for one, code in zip(work, codes, strict=True) if code != 0]
        if failed:
            raise MrsError(
                f"shard(s) {failed} failed in phase '{phase.name}' (dbt's output above names the "
                f"model); their files are in {layout.folder}: fix the cause and build again"
            )


def run_on_ray(address: str | None = None) -> Runner:
    """Every shard's phase as a Ray task of one CPU, on the cluster at `address` (`ray start
    --head` prints it; `auto` finds the one this machine belongs to), or on a Ray started in
    this process when none is given. Each task runs dbt in its worker, on whichever node Ray
    places it: the shards' folders and the exchange folder must be reachable from every node
    under the same path."""
    import ray  # only a sharded build on Ray needs it, and it takes seconds to import

    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=True)
    remote_phase = ray.remote(num_cpus=1, max_retries=0)(build_shard_phase_in_worker)

    def run(work: list[ShardWork]) -> list[int]:
        return ray.get([remote_phase.remote(one) for one in work])

    return run


def global_stage_command(
    layout: ShardLayout, settings: dict[str, object], with_tests: bool = False
) -> DbtCommand:
    """The global stage, once every shard is built: the `global` models on the deployment's
    own database, reading each shard interface (a per_shard model a global one reads, and
    the shards' logs) as a view over every shard's Parquet file
    (macros/sharding/interfaces.sql)."""
    arguments = ["build", "--select", *GLOBAL_SELECTION]
    if not with_tests:
        arguments += list(WITHOUT_TESTS)
    return DbtCommand(
        Project.locate(layout.database),
        arguments,
        {**settings, **layout.dbt_vars(GLOBAL_STAGE)},
        dict.fromkeys(PASS_VARIABLES, ""),
    )


def build_global_stage(
    layout: ShardLayout,
    settings: dict[str, object],
    with_tests: bool = False,
    in_process: bool = True,
) -> int:
    """Run the global stage (global_stage_command) in this process or as a dbt process of
    its own; return dbt's exit code."""
    return global_stage_command(layout, settings, with_tests).run(in_process)


def build_sharded(
    layout: ShardLayout,
    settings: dict[str, object],
    runner: Runner = run_one_after_another,
    with_tests: bool = False,
    progress: Callable[[str], None] = print,
    in_process: bool = True,
) -> None:
    """A whole sharded build: every shard phase by phase, then the global stage."""
    build_shards(layout, settings, runner, with_tests, progress=progress)
    progress(f"mrs: shards, global stage on {layout.database}")
    if build_global_stage(layout, settings, with_tests, in_process) != 0:
        raise MrsError(
            "the global stage of the sharded build failed (dbt's output above names the "
            "model); the shards are built: fix the cause and build again"
        )
