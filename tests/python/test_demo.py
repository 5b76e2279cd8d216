"""The README demo command: builds, summarises, and leaves a file other processes can read."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DBT_TARGET, LOGS, PROJECT_ROOT, query, run_mrs

from mrs.pipeline.publication import published_database


@pytest.fixture(scope="module")
def demo(demo_database: tuple[Path, str]) -> tuple[Path, str]:
    return demo_database


def test_demo_prints_a_summary_with_elapsed_time(demo) -> None:
    _, output = demo
    assert "inputs: " in output
    assert "0 rejected" in output
    assert "elapsed: " in output
    assert "reports: " in output and "detected" in output
    assert "top causes: operational" in output
    # Events that stand, by status, and the merged rows minority_events also keeps.
    assert re.search(
        r"events: \d+ \(\d+ active, \d+ ended\); minority_events also keeps \d+ merged", output
    ), output
    assert "review: approved 10, pending 17" in output
    # MRS-001: one approve per report (3), MRS-002: evidence + approve, MRS-003: three steps.
    assert "mrs demo: 8 review edit(s) recorded" in output


def test_demo_database_opens_read_only_in_another_process(demo) -> None:
    # As a BI tool would: plain DuckDB, the staged inputs in their own schema.
    database, _ = demo
    code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
        "print(con.execute('select count(*) from staging.stg_unified_sales_data').fetchone()[0])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(database)], capture_output=True, text=True, check=True
    )
    assert int(result.stdout) == 24 * 7 * 41 * 24


def test_demo_twice_gives_the_same_logs(demo, tmp_path: Path) -> None:
    database, _ = demo
    again = tmp_path / "mrs.duckdb"
    # Without dbt's tests: they write nothing, and the suite's demo ran them.
    run_mrs("demo", "--database", str(again), "--no-tests")
    published = (
        "user_edits_log",
        "user_minority_events_edits_log",
        "minority_reports_rereview_worklist",
        "minority_reports_proposed_attribution_rereview_log",
        "ui_notifications_log",
        "minority_reports",
        "minority_events",
    )
    for table in ("stg_unified_sales_data", *LOGS, *published):
        sql = f"select * from {table}"
        assert sorted(query(database, sql), key=repr) == sorted(query(again, sql), key=repr)


def test_docs_describe_every_model_column_seed_and_source(demo) -> None:
    database, _ = demo
    env = {"MRS_DUCKDB_PATH": str(database), "DBT_PROFILES_DIR": str(PROJECT_ROOT)}
    import os

    published = published_database(database)
    published_before = published.stat().st_mtime_ns

    subprocess.run(
        # --write-json: the suite turns dbt's JSON artifacts off (conftest.py); this test
        # reads the manifest.
        [str(Path(sys.executable).with_name("dbt")), "docs", "generate", "--quiet", "--write-json"],
        cwd=PROJECT_ROOT,
        env=dict(os.environ, **env),
        check=True,
    )
    manifest = json.loads((DBT_TARGET / "manifest.json").read_text())
    catalog = json.loads((DBT_TARGET / "catalog.json").read_text())
    undocumented = []
    for unique_id, node in {**manifest["nodes"], **manifest["sources"]}.items():
        if node["resource_type"] not in ("model", "seed", "source"):
            continue
        if not node.get("description", "").strip():
            undocumented.append(unique_id)
        documented = {
            name for name, column in node["columns"].items() if column["description"].strip()
        }
        built = catalog["nodes"].get(unique_id, {}).get("columns", {})
        undocumented += [f"{unique_id}.{name}" for name in built if name not in documented]
    assert undocumented == []
    # Every model has an owner (its folder's group), and `dbt docs serve` opens on MRS.
    ungrouped = [
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node.get("group") not in manifest_groups(manifest)
    ]
    assert ungrouped == []
    assert "Minority Report System" in manifest["docs"]["doc.mrs.__overview__"]["block_contents"]
    # Issue 16: the review index was exported by an on-run-end hook, which also ran on
    # `dbt docs generate`, so documenting the project rewrote what the app and `mrs review`
    # read. It is now written by model `publication`, which documenting does not run.
    assert published.stat().st_mtime_ns == published_before
    assert not published.with_name(published.name + ".next").exists()


def manifest_groups(manifest: dict) -> set[str]:
    """The groups the project declares, each with an owner."""
    return {
        group["name"]
        for group in manifest["groups"].values()
        if group["owner"].get("name") or group["owner"].get("email")
    }
