"""Issue 6's model lifecycle for attribution: train from analysts' decisions, approve, roll
back. New rows carry the approved version; earlier rows are never changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, as_reviewer, query, run_mrs

from mrs.dev.demo_scenarios import run_review_scenarios
from mrs.registry.records import records, registry_dir
from mrs.review.reviewers import os_login, read_registry, write_registry

FIRST, SECOND = "2025-08-12 06:00", "2025-08-12 12:00"
EVENTS_OF = """
select n.narrative_id, min(r.report_group_id)
from minority_reports as r
inner join stg_master_narratives as n
    on n.store_id = r.store_id and n.sku = r.sku and r.window_start < n.end_ts
group by n.narrative_id
"""


def _rows(database: Path) -> set[str]:
    return {
        repr(row)
        for row in query(database, "select * from minority_reports_proposed_attribution_log")
    }


def _versions(database: Path) -> list[tuple]:
    return query(
        database,
        "select model_version, min(written_at), max(written_at) "
        "from minority_reports_proposed_attribution_log group by 1 order by 2",
    )


@pytest.fixture(scope="module")
def decided(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo built to FIRST, with analysts' approvals and rejections applied."""
    database = tmp_path_factory.mktemp("lifecycle") / "mrs.duckdb"
    run_mrs("build", "--database", str(database), "--as-of", FIRST, "--no-tests")
    as_reviewer(database, "admin")  # reviews, and approves model versions
    assert all(error is None for _, error in run_review_scenarios(database))
    events = dict(query(database, EVENTS_OF))
    for action, narrative in (("approve", "MRS-005"), ("reject", "MRS-006"), ("reject", "MRS-004")):
        run_mrs("review", action, events[narrative], "--database", str(database))
    run_mrs("build", "--database", str(database), "--as-of", FIRST, "--no-tests")
    return database


def test_a_trained_version_runs_on_new_rows_only_and_rollback_restores_the_old(
    decided: Path,
) -> None:
    before = _rows(decided)
    assert _versions(decided) == [("evidence-scorer-1.0", *_versions(decided)[0][1:])]
    trained = run_mrs("train", "attribution_model", "--database", str(decided))
    assert "evidence-logistic-1" in trained.stdout
    # A candidate is not active: a build before approval keeps the shipped version.
    [candidate] = [r for r in records(registry_dir(decided)) if r["record_type"] == "candidate"]
    assert candidate["metrics"]["evidence_pairs"] >= 10
    assert len(candidate["parameters"]["logistic"]) == 7

    run_mrs("models", "approve", "attribution_model", "evidence-logistic-1",
            "--database", str(decided))  # fmt: skip
    # The cluster library's centroids, moved towards the approved reports' shapes.
    clustered_before = {
        repr(row) for row in query(decided, "select * from minority_reports_clustered_log")
    }
    run_mrs("train", "cluster_comparison_model", "--database", str(decided))
    run_mrs("models", "approve", "cluster_comparison_model", "cosine-centroid-retrained-1",
            "--database", str(decided))  # fmt: skip
    run_mrs("build", "--database", str(decided), "--as-of", SECOND, "--no-tests")
    assert clustered_before <= {
        repr(row) for row in query(decided, "select * from minority_reports_clustered_log")
    }
    cluster_versions = query(
        decided,
        "select model_version, min(written_at), max(written_at) "
        "from minority_reports_clustered_log group by 1 order by 2",
    )
    assert [row[0] for row in cluster_versions] == [
        "cosine-centroid-1.0",
        "cosine-centroid-retrained-1",
    ]
    assert f"{cluster_versions[0][2]:%Y-%m-%d %H:%M}" == FIRST
    [centroids] = [
        r
        for r in records(registry_dir(decided))
        if r["model_name"] == "cluster_comparison_model" and r["record_type"] == "candidate"
    ]
    assert 0 <= centroids["metrics"]["accuracy"] <= 1
    cluster_provenance = query(
        decided,
        "select distinct model_version, trained_on, model_registry_source, "
        "model_confidence_metric from cluster_comparison_model_prediction_log order by 1",
    )
    assert cluster_provenance == [
        ("cosine-centroid-1.0", "cluster_library centroids", "model_registry seed", None),
        (
            "cosine-centroid-retrained-1",
            centroids["trained_on"],
            "registry journal",
            centroids["metrics"]["accuracy"],
        ),
    ]
    after_approval = _rows(decided)
    assert before <= after_approval  # earlier rows untouched
    versions = {version: (start, end) for version, start, end in _versions(decided)}
    assert set(versions) == {"evidence-scorer-1.0", "evidence-logistic-1"}
    assert f"{versions['evidence-scorer-1.0'][1]:%Y-%m-%d %H:%M}" == FIRST
    assert versions["evidence-logistic-1"][0] > versions["evidence-scorer-1.0"][1]
    provenance = query(
        decided,
        "select distinct trained_on, model_registry_source, model_confidence_metric "
        "from attribution_model_prediction_log where model_version = 'evidence-logistic-1'",
    )
    assert provenance == [
        (candidate["trained_on"], "registry journal", candidate["metrics"]["accuracy"])
    ]

    run_mrs("models", "rollback", "attribution_model", "--database", str(decided))
    run_mrs("build", "--database", str(decided), "--no-tests")
    assert after_approval <= _rows(decided)
    latest = query(
        decided,
        "select distinct model_version from minority_reports_proposed_attribution_log "
        f"where written_at > '{SECOND}'",
    )
    assert latest == [("evidence-scorer-1.0",)]
    registry = query(
        decided,
        "select record_type, model_version from model_registry_log "
        "where model_name = 'attribution_model' and record_type != 'shipped' order by sequence",
    )
    assert registry == [
        ("candidate", "evidence-logistic-1"),
        ("approval", "evidence-logistic-1"),
        ("approval", None),
    ]


def test_approving_an_unknown_version_is_refused(decided: Path) -> None:
    result = run_mrs("models", "approve", "attribution_model", "evidence-logistic-99",
                     "--database", str(decided), check=False)  # fmt: skip
    assert result.returncode == 2 and "no candidate version" in result.stderr


def test_a_hand_written_approval_approves_nothing_and_says_why(decided: Path) -> None:
    """Approval files no `mrs models` command wrote: for a login outside the registry, for a
    reviewer whose role may not approve, for a version nobody trained, and a truncated one.
    The build refuses each with its reason; the version in force does not change."""
    as_reviewer(decided, "admin")
    login = os_login()
    write_registry(decided, {**read_registry(decided, PROJECT_ROOT), "marketer-ann": "marketer"})
    if not any(r["record_type"] == "candidate" for r in records(registry_dir(decided))):
        run_mrs("train", "attribution_model", "--database", str(decided))
    candidate = next(
        r["model_version"]
        for r in records(registry_dir(decided))
        if r["record_type"] == "candidate" and r["model_name"] == "attribution_model"
    )
    in_force = query(decided, "select * from approved_model_versions order by all")
    forged = {
        "mallory": (candidate, "approver is not in the reviewers registry"),
        "marketer-ann": (
            candidate,
            "the role of the approver may not take this action (review_permissions)",
        ),
        login: ("evidence-logistic-404", "approves a version with no earlier candidate record"),
    }
    folder = registry_dir(decided) / "records"
    for number, (actor, (version, _)) in enumerate(forged.items(), start=90):
        record = {
            "record_type": "approval",
            "model_name": "attribution_model",
            "model_version": version,
            "recorded_by": actor,
            "recorded_at": "2025-08-12 12:34:56",
        }
        (folder / f"{number:08d}-attribution_model-approval.json").write_text(json.dumps(record))
    (folder / "00000099-attribution_model-approval.json").write_text('{"record_type": "appro')
    run_mrs("build", "--database", str(decided), "--no-tests")

    errors = query(
        decided,
        "select recorded_by, model_version, error_reason from model_registry_errors order by all",
    )
    assert sorted(errors, key=repr) == sorted(
        [(actor, version, reason) for actor, (version, reason) in forged.items()]
        + [(None, None, "not a JSON record")],
        key=repr,
    )
    assert query(
        decided,
        "select count(*) from model_registry_log where recorded_at = '2025-08-12 12:34:56'",
    ) == [(0,)]
    assert query(decided, "select * from approved_model_versions order by all") == in_force
    listed = run_mrs("models", "list", "--database", str(decided)).stdout
    versions = {row[0]: row[1] for row in in_force}
    active = versions.get("attribution_model", "shipped version")
    assert f"attribution_model: active {active}\n" in listed
    assert "00000099-attribution_model-approval.json" in listed  # named as counting for nothing
