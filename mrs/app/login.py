"""Sign-in for the review app: streamlit-authenticator over the reviewers registry.

Every page needs a signed-in reviewer. The credentials are the registry's reviewers that
have an app password (mrs.review.passwords); the signed-in login is the actor of every action,
with the role the registry gives it, so nobody acts for anyone else through the app.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import streamlit_authenticator as stauth

from mrs.pipeline.project import Project
from mrs.review.passwords import app_credentials, cookie_key
from mrs.review.reviewers import role_of

COOKIE_NAME = "mrs_review_app"
# A sign-in lasts a working day; after that the form asks again.
COOKIE_EXPIRY_DAYS = 1.0
SIGNED_IN = "username"  # where streamlit-authenticator keeps the signed-in login


def signed_in_reviewer(database: Path) -> str | None:
    """The signed-in reviewer's login; otherwise show the sign-in form (and why it failed)
    and return None."""
    root = Project.locate(database).root
    credentials = app_credentials(database, root)
    if not credentials["usernames"]:
        st.warning(
            "No reviewer has an app password yet: a reviewer sets theirs with "
            "`mrs reviewers password LOGIN` (an admin may set anyone's)."
        )
        return None
    authenticator = stauth.Authenticate(
        credentials, COOKIE_NAME, cookie_key(database), COOKIE_EXPIRY_DAYS, auto_hash=False
    )
    authenticator.login(location="main", key="sign_in", fields={"Form name": "Sign in"})
    status = st.session_state.get("authentication_status")
    login = st.session_state.get(SIGNED_IN)
    role = role_of(database, root, login) if status and login else None
    if role:
        with st.sidebar:
            st.caption(f"Signed in as **{login}** ({role})")
            authenticator.logout("Sign out", location="sidebar", key="sign_out")
        return str(login)
    if status is False:
        st.error("Wrong login or password.")
    return None


def current_login() -> str:
    """The signed-in reviewer of this session (empty before sign-in)."""
    return str(st.session_state.get(SIGNED_IN) or "")
