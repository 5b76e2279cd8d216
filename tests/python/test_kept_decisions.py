"""The classifier keeps its decisions from build to build (mrs.models.kept_decisions, issue
18): on the demo's candidate windows, with hours restated in some windows, a window gone and
a new one, deciding again only what changed (and the chain of carried windows leading to
it) gives exactly the decisions of deciding every window."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from mrs.models.detection import ClassifierParams
from mrs.models.kept_decisions import KEY, SERIES, decide_kept_windows, decision_plan

# The project's thresholds (dbt_project.yml).
PARAMS = ClassifierParams(onset_evidence=6.5, burst_z=5.5, single_hour_z=6.0)


def _decide(con: duckdb.DuckDBPyConnection, hours: pd.DataFrame, kept: str | None) -> pd.DataFrame:
    con.register("hours_now", hours)
    try:
        return decide_kept_windows(con, con.table("hours_now"), kept, PARAMS)
    finally:
        con.unregister("hours_now")


def _apply(kept: pd.DataFrame, written: pd.DataFrame) -> pd.DataFrame:
    """What the incremental strategy replace_series_from makes of the kept table."""
    boundaries = written[written["decision"].isna()]
    marked = kept.merge(boundaries[[*SERIES, "first_elevated_ts"]], on=SERIES, how="left",
                        suffixes=("", "_from"))  # fmt: skip
    replaced = marked["first_elevated_ts"] >= marked["first_elevated_ts_from"]
    kept = marked.loc[~replaced, kept.columns]
    return _ordered(pd.concat([kept, written[written["decision"].notna()]]))


def _ordered(decisions: pd.DataFrame) -> pd.DataFrame:
    return decisions.sort_values(KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def candidate_hours(demo_database: tuple[Path, str]) -> pd.DataFrame:
    with duckdb.connect(str(demo_database[0]), read_only=True) as con:
        return con.sql("select * from anomaly_candidate_hours").df()


def _windows(hours: pd.DataFrame) -> pd.DataFrame:
    """Each window's first hour proper and last elevated hour."""
    index = hours["trading_hour_index"]
    return (
        hours.assign(
            first_index=index.where(hours["is_in_window"].astype(bool)),
            last_index=index.where(hours["is_elevated"].astype(bool)),
        )
        .groupby(KEY, as_index=False)
        .agg(first_index=("first_index", "min"), last_index=("last_index", "max"))
    )


def test_deciding_only_changed_windows_equals_deciding_every_window(
    candidate_hours: pd.DataFrame,
) -> None:
    con = duckdb.connect()
    full = _decide(con, candidate_hours, None)
    assert full["decision"].notna().all() and full["window_digest"].notna().all()
    con.register("kept_frame", full)
    con.execute("create table kept_decisions as select * from kept_frame")

    # Unchanged hours: nothing is decided again, nothing replaced.
    unchanged = _decide(con, candidate_hours, "kept_decisions")
    assert unchanged.empty

    windows = _windows(candidate_hours).merge(full[[*KEY, "decision"]], on=KEY)
    series_windows = windows.groupby(SERIES)
    # A window whose dismissed predecessor ended close before it (the classifier carries
    # that one into it), a window in the middle of a series, the last window of a series.
    previous = series_windows.shift()
    carried = windows[
        (previous["decision"] == "dismissed")
        & (windows["first_index"] - previous["last_index"] <= 2 * (PARAMS.closure_hours + 1))
    ]
    assert not carried.empty, "the demo has no carried window: the chain is not exercised"
    restated = carried.iloc[0]
    middle = windows.drop(carried.index[:1]).iloc[len(windows) // 2]
    vanished = windows.drop(index=[restated.name, middle.name]).iloc[-1]

    changed = candidate_hours.copy()
    for window in (restated, middle):
        hour = (changed[KEY] == window[KEY].to_numpy()).all(axis=1).to_numpy().nonzero()[0][0]
        changed.loc[hour, "residual_z"] += 0.25
        changed.loc[hour, "onset_z"] += 0.25
    changed = changed[~(changed[KEY] == vanished[KEY].to_numpy()).all(axis=1)]

    written = _decide(con, changed, "kept_decisions")
    everything = _ordered(_decide(con, changed, None))
    pd.testing.assert_frame_equal(_apply(full, written), everything)
    # Only the changed series were decided again, from the chain before the restated window.
    boundaries = written[written["decision"].isna()]
    assert len(boundaries) == 3
    assert 0 < written["decision"].notna().sum() < len(full) / 2
    chain_start = boundaries.merge(restated.to_frame().T[SERIES], on=SERIES)
    assert (chain_start["first_elevated_ts"] < restated["first_elevated_ts"]).all()


def test_a_new_code_or_threshold_decides_every_window_again(
    candidate_hours: pd.DataFrame,
) -> None:
    con = duckdb.connect()
    full = _decide(con, candidate_hours, None)
    con.register("kept_frame", full.assign(window_digest=0))
    con.execute("create table kept_decisions as select * from kept_frame")
    written = _decide(con, candidate_hours, "kept_decisions")
    assert written["decision"].notna().sum() == len(full)
    assert len(written[written["decision"].isna()]) == full.groupby(SERIES).ngroups


def test_a_plan_starts_where_the_carried_chain_starts() -> None:
    ts = pd.to_datetime(["2025-01-01 08:00", "2025-01-01 14:00", "2025-01-02 09:00"])
    windows = pd.DataFrame(
        {
            "store_id": "ST-001",
            "sku": "SKU-001",
            "direction": "up",
            "first_elevated_ts": ts,
            "window_digest": [1, 2, 30],
            "first_in_window_index": [10, 16, 40],
            "last_elevated_index": [12, 18, 42],
        }
    )
    kept = windows[["store_id", "sku", "direction", "first_elevated_ts", "window_digest"]].assign(
        decision=["reported", "dismissed", "dismissed"], window_digest=[1, 2, 3]
    )
    plan = decision_plan(windows, kept, closure_hours=4)
    # The third window changed; the second, dismissed, ended 22 hours before it: too far to
    # be carried, so it is decided alone.
    assert list(plan["decided_from_ts"]) == [ts[2]]
    # Ten hours closer, the second is carried into it and decided again with it; the first
    # was reported, so the chain stops there.
    closer = windows.assign(first_in_window_index=[10, 16, 28])
    assert list(decision_plan(closer, kept, closure_hours=4)["decided_from_ts"]) == [ts[1]]
    # The last window gone: its decision is replaced and nothing is decided.
    gone = decision_plan(windows.iloc[:2], kept, closure_hours=4)
    assert list(gone["replaced_from_ts"]) == [ts[2]] and gone["decided_from_ts"].isna().all()
