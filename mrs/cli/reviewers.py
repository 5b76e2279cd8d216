"""`mrs reviewers`: list, add, change or remove reviewers in the registry (mrs.review.reviewers)."""

from __future__ import annotations

import argparse
import getpass
import sys

from mrs.cli.options import add_database_option
from mrs.pipeline.project import MrsError, Project
from mrs.review.reviewers import read_registry, read_scopes, registry_file, set_reviewer


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
    adding.add_argument(
        "--scope",
        help="the stores they may act on: 'region:North West;store:ST-009' (kinds store, "
        "region, city, retailer); '' for every store; left out: unchanged (every store for a "
        "new reviewer)",
    )
    add_database_option(adding)
    adding.set_defaults(handler=_add)
    removing = actions.add_parser("remove", help="remove a reviewer (their logged edits stay)")
    removing.add_argument("login")
    add_database_option(removing)
    removing.set_defaults(handler=_remove)
    password = actions.add_parser(
        "password",
        help="set a reviewer's review app password (your own, or anyone's as an admin)",
        description="The review app signs reviewers in with a password (streamlit-"
        "authenticator; only its bcrypt hash is stored, in <database>_access/). Prompts twice "
        "unless --password-stdin.",
    )
    password.add_argument("login")
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add_database_option(password)
    password.set_defaults(handler=_password)


def _list(args: argparse.Namespace) -> int:
    project = Project.locate(args.database)
    registry = read_registry(project.database, project.root)
    scopes = read_scopes(project.database)
    print(f"{registry_file(project.database)}: {len(registry)} reviewer(s)")
    for login, role in sorted(registry.items()):
        print(f"  {login}  {role}  {'; '.join(scopes.get(login, ())) or 'every store'}")
    return 0


def _add(args: argparse.Namespace) -> int:
    project = Project.locate(args.database)
    print(
        "mrs: "
        + set_reviewer(project.database, project.root, args.login, args.role.strip(), args.scope)
    )
    return 0


def _remove(args: argparse.Namespace) -> int:
    project = Project.locate(args.database)
    print("mrs: " + set_reviewer(project.database, project.root, args.login, None))
    return 0


def _password(args: argparse.Namespace) -> int:
    from mrs.review.passwords import set_password

    project = Project.locate(args.database)
    if args.password_stdin:
        secret = sys.stdin.readline().rstrip("\n")
    else:
        secret = getpass.getpass(f"app password for {args.login}: ")
        if getpass.getpass("again: ") != secret:
            raise MrsError("the two passwords differ; nothing was changed")
    set_password(project.database, project.root, args.login, secret)
    print(f"mrs: app password of {args.login.strip()} set; sign in with it at `mrs app`")
    return 0
