"""`mrs train` and `mrs models`: train candidate versions, approve them, roll them back.

Training and approval happen outside dbt (DESIGN.md section 6) and only write the registry
journal beside the database (mrs.registry.records); the next build runs the approved version on its
new rows, and `model_registry_log` records every step.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mrs.cli.options import add_database_option
from mrs.pipeline.project import MrsError, Project
from mrs.registry.records import (
    MANAGED_MODELS,
    active_version,
    approve,
    records,
    registry_dir,
    rollback,
    unreadable_records,
)
from mrs.review.context import validation_source
from mrs.review.reviewers import authorise, current_reviewer, permissions, read_registry


def add_models_parsers(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "train",
        help="train a candidate version of a model from the latest build (not activated)",
        description="Fit a new version outside dbt and record it as a candidate in the model "
        "registry beside the database. attribution_model: a logistic model over the evidence "
        "features, from the analysts' final decisions. baseline_sales_model: the baseline "
        "refitted on --training-start..--training-end without the series-days of reports "
        "analysts approved as anomalies. cluster_comparison_model: centroids moved towards the "
        "shapes of approved reports. Approve it with `mrs models approve`.",
    )
    train.add_argument("model", choices=MANAGED_MODELS)
    train.add_argument("--training-start", help="baseline: first training day, YYYY-MM-DD")
    train.add_argument("--training-end", help="baseline: end of training (exclusive), YYYY-MM-DD")
    add_database_option(train)
    train.set_defaults(handler=_train)

    models = commands.add_parser(
        "models",
        help="list, approve or roll back model versions (the model registry)",
        description="The model registry: `list` shows versions and the active one, `approve` "
        "activates a candidate for the next build's new rows, `rollback` points the model back "
        "at the version active before (earlier rows are never changed).",
    )
    actions = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="versions of every trainable model")
    add_database_option(listing)
    listing.set_defaults(handler=_list)
    approving = actions.add_parser("approve", help="activate a candidate version")
    approving.add_argument("model", choices=MANAGED_MODELS)
    approving.add_argument("version")
    rolling = actions.add_parser("rollback", help="go back to the previously active version")
    rolling.add_argument("model", choices=MANAGED_MODELS)
    for parser in (approving, rolling):
        # Decided by the OS user running the command, who must be an admin in the reviewers
        # registry (seed review_permissions: approve_model, rollback_model).
        add_database_option(parser)
    approving.set_defaults(handler=_approve)
    rolling.set_defaults(handler=_rollback)


def _train(args: argparse.Namespace) -> int:
    from mrs.registry.training import train_attribution, train_baseline, train_centroids

    database = Project.locate(args.database).database
    if args.model == "baseline_sales_model":
        if not (args.training_start and args.training_end):
            raise MrsError("baseline_sales_model needs --training-start and --training-end")
        record = train_baseline(database, args.training_start, args.training_end)
    elif args.model == "cluster_comparison_model":
        record = train_centroids(database)
    else:
        record = train_attribution(database)
    print(
        f"mrs: trained {record['model_name']} {record['model_version']} on "
        f"{record['trained_on']}: {json.dumps(record['metrics'])}; it is a candidate until "
        f"an admin runs `mrs models approve {record['model_name']} {record['model_version']}`"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    project = Project.locate(args.database)
    folder = registry_dir(project.database)
    history = records(folder)
    registry = read_registry(project.database, project.root)
    allowed = permissions(project.root)
    for model in MANAGED_MODELS:
        active = active_version(folder, model, registry, allowed)
        print(f"{model}: active {active['model_version'] if active else 'shipped version'}")
        for record in history:
            if record["model_name"] == model and record["record_type"] == "candidate":
                print(f"  {record.get('model_version')}  {json.dumps(record.get('metrics'))}")
    unreadable = unreadable_records(folder)
    if unreadable:
        print(
            f"{len(unreadable)} record file(s) are no registry record and count for nothing "
            f"(the build lists them in model_registry_errors): "
            + ", ".join(file.name for file in unreadable)
        )
    return 0


def _approve(args: argparse.Namespace) -> int:
    project = Project.locate(args.database)
    database = project.database
    actor = _admin(project, "approve_model")
    approve(registry_dir(database), args.model, args.version, actor, _now(database))
    print(f"mrs: {args.model} {args.version} approved; the next build uses it on new rows")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    project = Project.locate(args.database)
    database = project.database
    actor = _admin(project, "rollback_model")
    record = rollback(
        registry_dir(database),
        args.model,
        actor,
        _now(database),
        read_registry(database, project.root),
        permissions(project.root),
    )
    version = record["model_version"] or "the shipped version"
    print(f"mrs: {args.model} rolled back to {version}; the next build uses it on new rows")
    return 0


def _admin(project: Project, action: str) -> str:
    """The OS user running the command, if the registry lets their role take `action`."""
    reviewer = current_reviewer(project.database, project.root)
    authorise(project.database, project.root, reviewer.login, reviewer.role, action)
    return reviewer.login


def _now(database: Path) -> str:
    """Processing time of the latest build (never the wall clock)."""
    with validation_source(database, wait_seconds=60) as con:
        return str(con.execute("select as_of from run_settings").fetchone()[0])
