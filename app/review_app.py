"""The analyst review app (issue 8). Start it with `mrs app [--database PATH] [--port N]`, or
`streamlit run app/review_app.py` with MRS_DUCKDB_PATH naming the database.

Every page needs a signed-in reviewer (mrs.app.login). It reads only the published copy each
build writes beside the database (never the DuckDB file, so it never holds a lock a build
needs) and writes only through `mrs review`'s validated edit path, as the signed-in reviewer;
an edit takes effect at the next build.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from mrs.app import event_page, overview, report_page
from mrs.app.data import IndexUnavailable, ReviewData, load, signature, within_scope
from mrs.app.login import signed_in_reviewer
from mrs.app.navigation import EVENT, REPORT, sidebar
from mrs.pipeline.project import MrsError, Project
from mrs.review.reviewers import read_scopes


@st.cache_data(max_entries=4, show_spinner=False)
def _cached(database: str, published: tuple[int, int]) -> ReviewData:
    """One read per build: `published` (size, mtime of the published copy) changes when a
    build publishes."""
    return load(Path(database))


def main() -> None:
    st.set_page_config(page_title="MRS review", page_icon="🔎", layout="wide")
    try:
        database = Project.locate().database
        data = _cached(str(database), signature(database))
    except IndexUnavailable as error:
        st.title("Minority Report System: review")
        st.warning(str(error))
        return
    except MrsError as error:
        st.title("Minority Report System: review")
        st.error(str(error))
        return
    login = signed_in_reviewer(database)
    if login is None:
        return
    scope = read_scopes(database).get(login, ())
    if scope:
        data = within_scope(data, scope)
        st.sidebar.caption(f"Your stores: {'; '.join(scope)} (reviewers registry)")
    location = sidebar(data)
    if location.page == REPORT:
        report_page.render(data, location.report_id)
    elif location.page == EVENT:
        event_page.render(data, location.event_id)
    else:
        overview.render(data)


main()
