"""Passwords of the review app (docs/review_app.md), beside the reviewers registry.

The app signs reviewers in with streamlit-authenticator: `<database>_access/app_passwords.json`
holds one bcrypt hash per login (hashed by the library, never the password), and
`app_cookie_key` the secret that signs the app's sign-in cookie. Both are readable by their
owner only. Only a login in the reviewers registry can sign in; its role comes from there.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from mrs.pipeline.project import MrsError
from mrs.pipeline.whole_files import replace_file
from mrs.review.reviewers import ADMIN, access_dir, os_login, read_registry

PASSWORDS_FILE = "app_passwords.json"
COOKIE_KEY_FILE = "app_cookie_key"
MIN_PASSWORD_LENGTH = 12


def passwords_file(database: Path) -> Path:
    return access_dir(database) / PASSWORDS_FILE


def read_password_hashes(database: Path) -> dict[str, str]:
    """Login -> bcrypt hash; empty when no password was ever set."""
    path = passwords_file(database)
    if not path.exists():
        return {}
    try:
        hashes = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise MrsError(
            f"{path} is damaged ({error}); set the passwords again with "
            "`mrs reviewers password LOGIN`"
        ) from error
    return {str(login): str(hashed) for login, hashed in hashes.items()}


def set_password(database: Path, project_root: Path, login: str, password: str) -> None:
    """Set the app password of `login` (a reviewer), as the OS user running this: reviewers
    set their own, an admin anyone's."""
    registry = read_registry(database, project_root)
    caller = os_login()
    login = login.strip()
    if login not in registry:
        raise MrsError(
            f"{login!r} is not in the reviewers registry; an admin adds them first with "
            f"`mrs reviewers add {login} --role ROLE`"
        )
    if caller != login and registry.get(caller) != ADMIN:
        raise MrsError(f"only {login} or an admin sets {login}'s app password; you are {caller!r}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise MrsError(f"an app password has at least {MIN_PASSWORD_LENGTH} characters")
    from streamlit_authenticator import Hasher  # imports Streamlit: only when needed

    hashes = read_password_hashes(database)
    hashes[login] = Hasher.hash(password)
    replace_file(
        passwords_file(database), json.dumps(hashes, indent=1, sort_keys=True) + "\n", private=True
    )
    cookie_key(database)


def cookie_key(database: Path) -> str:
    """The secret that signs the app's sign-in cookie, made on first use."""
    path = access_dir(database) / COOKIE_KEY_FILE
    if not path.exists():
        replace_file(path, secrets.token_hex(32) + "\n", private=True)
    return path.read_text(encoding="utf-8").strip()


def app_credentials(database: Path, project_root: Path) -> dict[str, dict[str, dict[str, str]]]:
    """streamlit-authenticator's credentials: the reviewers of the registry that have a
    password (a login removed from the registry can no longer sign in)."""
    registry = read_registry(database, project_root)
    hashes = read_password_hashes(database)
    return {
        "usernames": {
            login: {"name": login, "email": "", "password": hashed}
            for login, hashed in sorted(hashes.items())
            if login in registry
        }
    }
