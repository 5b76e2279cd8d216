"""The reviewers registry (`mrs reviewers`): who may change it, what it may never become.

Fast: only the registry file is written; no database, no dbt.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import BIN, PROJECT_ROOT, run_mrs

from mrs.pipeline.project import MrsError
from mrs.review.passwords import read_password_hashes
from mrs.review.reviewers import (
    authorise,
    os_login,
    permissions,
    read_registry,
    read_scopes,
    registry_file,
    set_reviewer,
    write_registry,
)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "mrs.duckdb"


def test_the_first_reviewer_is_the_admin_who_creates_the_registry(database: Path) -> None:
    me = os_login()
    for login, role in (("bo", "admin"), (me, "marketer")):
        with pytest.raises(MrsError, match="its first reviewer is its creator, as admin"):
            set_reviewer(database, PROJECT_ROOT, login, role)
    assert not registry_file(database).exists()
    assert set_reviewer(database, PROJECT_ROOT, me, "admin") == f"{me} is now an admin"
    assert set_reviewer(database, PROJECT_ROOT, "ana", "marketer") == "ana is now a marketer"
    assert read_registry(database, PROJECT_ROOT) == {
        me: "admin",
        "ana": "marketer",
    }


def test_only_an_admin_changes_the_registry(database: Path) -> None:
    write_registry(database, {os_login(): "data_scientist", "bo": "admin"})
    before = registry_file(database).read_bytes()
    for login, role in (("eve", "admin"), (os_login(), "admin"), ("bo", None)):
        with pytest.raises(MrsError, match="only an admin changes the reviewers registry"):
            set_reviewer(database, PROJECT_ROOT, login, role)
    assert registry_file(database).read_bytes() == before


def test_the_registry_never_loses_its_last_admin(database: Path) -> None:
    me = os_login()
    write_registry(database, {me: "admin", "ana": "marketer"})
    with pytest.raises(MrsError, match="without an admin"):
        set_reviewer(database, PROJECT_ROOT, me, None)
    with pytest.raises(MrsError, match="without an admin"):
        set_reviewer(database, PROJECT_ROOT, me, "marketer")
    assert set_reviewer(database, PROJECT_ROOT, "bo", "admin") == "bo is now an admin"
    assert set_reviewer(database, PROJECT_ROOT, me, None) == f"removed {me} (admin)"


@pytest.mark.parametrize(
    "login, role, message",
    [
        ("eve", "boss", "unknown role 'boss'"),
        ("eve", "system", "unknown role 'system'"),
        ("eve,admin", "marketer", "is not a login"),
        ("  ", "marketer", "is not a login"),
    ],
)
def test_bad_logins_and_roles_are_refused(
    database: Path, login: str, role: str, message: str
) -> None:
    write_registry(database, {os_login(): "admin"})
    with pytest.raises(MrsError, match=message):
        set_reviewer(database, PROJECT_ROOT, login, role)


def test_permissions_come_from_the_one_seed_and_only_admins_reopen(database: Path) -> None:
    allowed = permissions(PROJECT_ROOT)
    assert set(allowed) == {"marketer", "data_scientist", "admin"}
    assert [role for role, actions in allowed.items() if "reopen" in actions] == ["admin"]
    write_registry(database, {"ana": "marketer", "bo": "admin"})
    authorise(database, PROJECT_ROOT, "bo", "admin", "reopen")
    authorise(database, PROJECT_ROOT, "ana", "marketer", "approve")
    refusals = [
        ("ana", "marketer", "reopen", "a marketer may not reopen"),
        ("ana", "admin", "approve", "'ana' is a marketer in the reviewers registry, not an admin"),
        ("eve", "admin", "approve", "'eve' is not in the reviewers registry"),
    ]
    for actor, role, action, message in refusals:
        with pytest.raises(MrsError, match=message):
            authorise(database, PROJECT_ROOT, actor, role, action)


def test_the_command_line_lists_and_changes_the_registry(database: Path) -> None:
    me = os_login()
    added = run_mrs("reviewers", "add", me, "--role", "admin", "--database", str(database))
    assert added.stdout == f"mrs: {me} is now an admin\n"
    scope = " region:North West;store:ST-009 "
    scoped = run_mrs("reviewers", "add", "ana", "--role", "marketer", "--scope", scope,
                     "--database", str(database))  # fmt: skip
    assert scoped.stdout == "mrs: ana is now a marketer, for region:North West; store:ST-009 only\n"
    listed = run_mrs("reviewers", "list", "--database", str(database)).stdout.splitlines()
    assert listed[0] == f"{registry_file(database)}: 2 reviewer(s)"
    assert sorted(line.strip().split("  ") for line in listed[1:]) == sorted(
        [[me, "admin", "every store"], ["ana", "marketer", "region:North West; store:ST-009"]]
    )
    # A change of role keeps the scope; a scope the build could not read is refused.
    run_mrs("reviewers", "add", "ana", "--role", "data_scientist", "--database", str(database))
    assert read_scopes(database)["ana"] == ("region:North West", "store:ST-009")
    for scope in ("country:UK", "region:", "North West"):
        refused = run_mrs("reviewers", "add", "ana", "--role", "marketer", "--scope", scope,
                          "--database", str(database), check=False)  # fmt: skip
        assert refused.returncode == 2 and "scope entry" in refused.stderr, scope
    refused = run_mrs("reviewers", "remove", me, "--database", str(database), check=False)
    assert refused.returncode == 2
    assert (
        refused.stderr
        == "mrs: that would leave the reviewers registry without an admin; add one first\n"
    )


@pytest.mark.parametrize(
    "command", [["approve", "attribution_model", "v-1"], ["rollback", "attribution_model"]]
)
def test_only_an_admin_approves_or_rolls_back_a_model_version(
    database: Path, command: list[str]
) -> None:
    write_registry(database, {os_login(): "data_scientist", "bo": "admin"})
    result = run_mrs("models", *command, "--database", str(database), check=False)
    assert result.returncode == 2
    assert f"a data_scientist may not {command[0]}_model" in result.stderr
    assert not (database.parent / "mrs_models").exists()


def _password(database: Path, login: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "mrs"), "reviewers", "password", login, "--password-stdin",
         "--database", str(database)],
        input=password + "\n", capture_output=True, text=True, cwd=PROJECT_ROOT, check=False,
    )  # fmt: skip


def test_app_passwords_are_set_by_their_reviewer_or_an_admin(database: Path) -> None:
    me = os_login()
    write_registry(database, {me: "admin", "ana": "marketer"})
    assert _password(database, "ana", "a-long-password").returncode == 0
    assert _password(database, "eve", "a-long-password").stderr.startswith(
        "mrs: 'eve' is not in the reviewers registry"
    )
    assert "at least 12 characters" in _password(database, "ana", "short").stderr
    hashes = read_password_hashes(database)
    assert set(hashes) == {"ana"} and hashes["ana"].startswith("$2b$")
    # A marketer sets their own password only.
    write_registry(database, {"bo": "admin", me: "marketer", "ana": "marketer"})
    refused = _password(database, "ana", "another-long-one")
    assert refused.returncode == 2
    assert f"only ana or an admin sets ana's app password; you are {me!r}" in refused.stderr
    assert read_password_hashes(database) == hashes
    assert _password(database, me, "my-own-long-password").returncode == 0
    assert set(read_password_hashes(database)) == {"ana", me}
