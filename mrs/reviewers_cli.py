"""`mrs reviewers`: list, add, change or remove reviewers in the registry (mrs.reviewers)."""

from __future__ import annotations

import argparse

from mrs.project import Project, add_database_option
from mrs.reviewers import permissions, read_registry, registry_file, set_reviewer


def add_reviewers_parser(commands: argparse._SubParsersAction) -> None:
    reviewers = commands.add_parser(
        "reviewers",
        help="list or change who may review, and with which role (admins only)",
        description="The reviewers registry beside the database (<database>_access/"
        "reviewers.csv). `mrs review` acts as the OS user running it, with the role given "
        "here; every build refuses journal edits by anyone not listed or beyond their role "
        "(seed review_permissions). Only an admin changes the registry; the first reviewer "
        "of an empty registry is the admin who creates it.",
    )
    actions = reviewers.add_subparsers(dest="reviewers_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every reviewer and role")
    add_database_option(listing)
    listing.set_defaults(handler=_list)
    adding = actions.add_parser("add", help="add a reviewer or change their role")
    adding.add_argument("login", help="the reviewer's OS login")
    adding.add_argument("--role", required=True, help="marketer, data_scientist or admin")
    add_database_option(adding)
    adding.set_defaults(handler=_add)
    removing = actions.add_parser("remove", help="remove a reviewer (their logged edits stay)")
    removing.add_argument("login")
    add_database_option(removing)
    removing.set_defaults(handler=_remove)


def _list(args: argparse.Namespace) -> int:
    project = Project.locate(args.database)
    registry = read_registry(project.database, set(permissions(project.root)))
    print(f"{registry_file(project.database)}: {len(registry)} reviewer(s)")
    for login, role in sorted(registry.items()):
        print(f"  {login}  {role}")
    return 0


def _add(args: argparse.Namespace) -> int:
    project = Project.locate(args.database)
    print("mrs: " + set_reviewer(project.database, project.root, args.login, args.role.strip()))
    return 0


def _remove(args: argparse.Namespace) -> int:
    project = Project.locate(args.database)
    print("mrs: " + set_reviewer(project.database, project.root, args.login, None))
    return 0
