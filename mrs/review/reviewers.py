"""Who may review, and what each role may do (docs/review.md, Threat model).

- The reviewers registry: `<database>_access/reviewers.csv` (columns reviewer, user_role and
  an optional scope: `kind:value` entries separated by ';', kind store, region, city or
  retailer, limiting the stores whose reports and events the reviewer may act on), apart
  from the edit journal so that only admins need write access to it. `mrs reviewers`
  edits it; `mrs review` acts as the OS user that runs it, with the role the registry gives
  that login; every build checks each journal edit against it again (stg_reviewers), so a
  hand-written journal file acts for no one.
- The permission table: the project seed `seeds/review_permissions.csv` (user_role, action),
  the one source read here and by the build. Role `system` is in neither: it is reserved for
  auto-approval inside the build.
"""

from __future__ import annotations

import csv
import getpass
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mrs.pipeline.project import MrsError
from mrs.pipeline.whole_files import replace_file

REGISTRY_FILE = "reviewers.csv"
REGISTRY_COLUMNS = ("reviewer", "user_role", "scope")
SCOPE_KINDS = ("store", "region", "city", "retailer")
PERMISSIONS_SEED = Path("seeds") / "review_permissions.csv"
ADMIN = "admin"


@dataclass(frozen=True)
class Reviewer:
    login: str
    role: str


def _a(role: str) -> str:
    """The role with its article: 'a marketer', 'an admin'."""
    return ("an " if role[:1] in "aeiou" else "a ") + role


def access_dir(database: Path) -> Path:
    """The folder of the reviewers registry: mrs.duckdb -> mrs_access/ beside it."""
    return database.parent / f"{database.stem}_access"


def registry_file(database: Path) -> Path:
    return access_dir(database) / REGISTRY_FILE


def os_login() -> str:
    """The login of the OS user running this process: the effective user id's name where
    the platform has one (environment variables such as USER are not trusted)."""
    try:
        import pwd
    except ImportError:  # Windows: no user database to ask
        return getpass.getuser()
    return pwd.getpwuid(os.geteuid()).pw_name


def permissions(project_root: Path) -> dict[str, frozenset[str]]:
    """Role -> the actions it may take, from the project's permission seed."""
    path = project_root / PERMISSIONS_SEED
    allowed: dict[str, set[str]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            allowed.setdefault(row["user_role"].strip(), set()).add(row["action"].strip())
    return {role: frozenset(actions) for role, actions in allowed.items()}


def read_registry(database: Path, project_root: Path) -> dict[str, str]:
    """Login -> role, as the build reads the file: a line without a login, with a role that
    has no permissions or with a malformed scope grants nothing, and a login listed twice
    keeps its first line."""
    roles = set(permissions(project_root))
    path = registry_file(database)
    if not path.exists():
        return {}
    registry: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            login = (row.get("reviewer") or "").strip()
            role = (row.get("user_role") or "").strip().lower()
            try:
                parse_scope(row.get("scope") or "")
            except MrsError:
                continue  # the build refuses the line (reviewers_errors)
            if login and role in roles and login not in registry:
                registry[login] = role
    return registry


def authorise(database: Path, project_root: Path, actor: str, role: str, action: str) -> None:
    """Raise MrsError unless `actor` is in the registry with `role` and `role` may `action`."""
    allowed = permissions(project_root)
    registry = read_registry(database, project_root)
    listed = registry.get(actor)
    if listed is None:
        raise MrsError(
            f"{actor!r} is not in the reviewers registry {registry_file(database)}; an admin "
            f"adds them with `mrs reviewers add {actor} --role ROLE`"
        )
    if listed != role:
        raise MrsError(f"{actor!r} is {_a(listed)} in the reviewers registry, not {_a(role)}")
    if action not in allowed.get(role, frozenset()):
        may = ", ".join(sorted(allowed.get(role, frozenset()))) or "nothing"
        raise MrsError(
            f"{_a(role)} may not {action} (review_permissions: {_a(role)} may {may}); "
            "ask an admin to do it"
        )


def role_of(database: Path, project_root: Path, login: str) -> str | None:
    """The role the registry gives `login`, or None when it is not a reviewer."""
    return read_registry(database, project_root).get(login.strip())


def current_reviewer(database: Path, project_root: Path) -> Reviewer:
    """The OS user running this command, with the role the registry gives them."""
    login = os_login()
    registry = read_registry(database, project_root)
    if login not in registry:
        raise MrsError(
            f"you are logged in as {login!r}, who is not in the reviewers registry "
            f"{registry_file(database)}; ask an admin to run "
            f"`mrs reviewers add {login} --role ROLE --database {database}`"
        )
    return Reviewer(login, registry[login])


def set_reviewer(
    database: Path, project_root: Path, login: str, role: str | None, scope: str | None = None
) -> str:
    """Add or change (`role`, and `scope` when given: '' for every store) or remove (`role`
    None) one reviewer, as the OS user running this: only an admin changes the registry,
    except that the first reviewer of an empty registry is its creator, as admin. No change
    may leave the registry without an admin. Returns what changed, in words."""
    allowed = permissions(project_root)
    registry = read_registry(database, project_root)
    caller = os_login()
    login = login.strip()
    if not login or any(character in login for character in ',"\n\r'):
        raise MrsError(f"{login!r} is not a login: give the reviewer's OS user name")
    if role is not None and role not in allowed:
        raise MrsError(f"unknown role {role!r}; use one of {', '.join(sorted(allowed))}")
    scopes = read_scopes(database)
    if scope is not None:
        scopes[login] = parse_scope(scope)
    if not registry:
        if role != ADMIN or login != caller:
            raise MrsError(
                f"the reviewers registry {registry_file(database)} is empty: its first "
                f"reviewer is its creator, as admin (`mrs reviewers add {caller} --role admin`)"
            )
    elif registry.get(caller) != ADMIN:
        raise MrsError(
            f"only an admin changes the reviewers registry; you ({caller!r}) are "
            + (_a(registry[caller]) if caller in registry else "not in it")
        )
    before = registry.get(login)
    if role is None:
        if before is None:
            raise MrsError(f"{login!r} is not in the reviewers registry")
        del registry[login]
    else:
        registry[login] = role
    if ADMIN not in registry.values():
        raise MrsError("that would leave the reviewers registry without an admin; add one first")
    write_registry(database, registry, scopes)
    if role is None:
        return f"removed {login} ({before})"
    scoped = f", for {'; '.join(scopes[login])} only" if scopes.get(login) else ""
    return f"{login} is now {_a(role)}" + (f" (was {_a(before)})" if before else "") + scoped


def write_registry(
    database: Path, registry: dict[str, str], scopes: Mapping[str, Sequence[str]] | None = None
) -> Path:
    """Replace the registry file atomically (a build never reads half a file). Without
    `scopes`, each login keeps the scope the file gives it now."""
    kept = read_scopes(database) if scopes is None else scopes
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REGISTRY_COLUMNS)
    writer.writerows(
        (login, role, ";".join(kept.get(login, ()))) for login, role in sorted(registry.items())
    )
    return replace_file(registry_file(database), buffer.getvalue())


def parse_scope(text: str) -> tuple[str, ...]:
    """`region:North; store:ST-009` -> ('region:North', 'store:ST-009'); '' -> () (every
    store). Raises MrsError on an entry the build would refuse (stg_reviewers_checked)."""
    entries = tuple(entry.strip() for entry in text.split(";") if entry.strip())
    for entry in entries:
        kind, _, value = entry.partition(":")
        if kind not in SCOPE_KINDS or not value.strip():
            raise MrsError(
                f"scope entry {entry!r}: write {', '.join(k + ':VALUE' for k in SCOPE_KINDS)}, "
                "several separated by ';' (for example 'region:North West;store:ST-009')"
            )
    return entries


def read_scopes(database: Path) -> dict[str, tuple[str, ...]]:
    """Login -> scope entries (none: every store), as the build reads the registry; a line
    with a malformed scope is left out, as the build leaves it out."""
    path = registry_file(database)
    if not path.exists():
        return {}
    scopes: dict[str, tuple[str, ...]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            login = (row.get("reviewer") or "").strip()
            try:
                entries = parse_scope(row.get("scope") or "")
            except MrsError:
                continue
            if login and login not in scopes:
                scopes[login] = entries
    return scopes


def in_scope(entries: Sequence[str], store: Mapping[str, object]) -> bool:
    """Whether a store (store_id, region, city, retailer) is inside scope `entries`."""
    if not entries:
        return True
    for entry in entries:
        kind, _, value = entry.partition(":")
        field = "store_id" if kind == "store" else kind
        if str(store.get(field) or "").strip().lower() == value.strip().lower():
            return True
    return False
