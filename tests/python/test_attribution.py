"""The attribution scorer (mrs.models.attribution): scope, direction, tie-break, fallbacks."""

from __future__ import annotations

import math

import duckdb
import pandas as pd
import pytest

from mrs.models.attribution import (
    NO_EVIDENCE_CONFIDENCE,
    UNKNOWN,
    AttributionParams,
    narrative_causes,
    rank_causes,
)

TICK = pd.Timestamp("2025-08-08 12:00")
PARAMS = AttributionParams()


def _snapshots(has_cluster: bool = True) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "report_id": ["MR-1"],
            "written_at": [TICK],
            "store_id": ["ST-001"],
            "sku": ["SKU-001"],
            "window_start": [TICK - pd.Timedelta(hours=4)],
            "has_cluster": [has_cluster],
        }
    )


def _candidate(evidence_id: str, category: str, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "report_id": "MR-1",
        "written_at": TICK,
        "evidence_id": evidence_id,
        "evidence_name": f"evidence {evidence_id}",
        "cause_category": category,
        "scope_level": "store",
        "is_sku_specific": True,
        "overlap_share": 1.0,
        "onset_gap_hours": 0.0,
        "direction": "up",
        "cluster_cause_category": None,
    }
    row.update(overrides)
    return row


def _rank(*candidates: dict[str, object], **kwargs: object) -> pd.Series:
    frame = (
        pd.DataFrame(list(candidates))
        if candidates
        else pd.DataFrame(columns=list(_candidate("x", "weather")))
    )
    return rank_causes(_snapshots(**kwargs), frame, PARAMS, missing_inputs=[]).iloc[0]


def test_specific_evidence_outranks_broad_evidence() -> None:
    ranked = _rank(
        _candidate("CTX-1", "social_viral", scope_level="national", is_sku_specific=False),
        _candidate("CMP-1", "tpo_promotion", scope_level="retailer"),
    )
    assert ranked["proposed_cause_category"] == "tpo_promotion"
    assert ranked["proposed_cause_category_2"] == "social_viral"
    assert ranked["confidence_score"] > ranked["confidence_score_2"]
    assert ranked["supporting_evidence"] == ["CMP-1", "CTX-1"]


def test_a_promotion_cannot_explain_a_drop_but_an_outage_can() -> None:
    drop = _rank(
        _candidate("CMP-1", "tpo_promotion", direction="down"),
        _candidate("CTX-9", "operational", direction="down"),
    )
    assert drop["proposed_cause_category"] == "operational"
    assert pd.isna(drop["proposed_cause_category_2"])
    only_promo = _rank(_candidate("CMP-1", "tpo_promotion", direction="down"))
    assert only_promo["proposed_cause_category"] == UNKNOWN


def test_ties_are_broken_by_category_name() -> None:
    ranked = _rank(_candidate("CTX-2", "weather"), _candidate("CTX-1", "holiday"))
    assert ranked["confidence_score"] == ranked["confidence_score_2"]
    assert [ranked["proposed_cause_category"], ranked["proposed_cause_category_2"]] == [
        "holiday",
        "weather",
    ]


def test_the_cluster_prior_and_timing_weigh_in() -> None:
    prior = _rank(
        _candidate("CTX-1", "weather", cluster_cause_category="social_viral"),
        _candidate("CTX-2", "social_viral", cluster_cause_category="social_viral"),
    )
    assert prior["proposed_cause_category"] == "social_viral"
    late = _rank(_candidate("CTX-1", "weather", onset_gap_hours=-30.0))
    early = _rank(_candidate("CTX-1", "weather", onset_gap_hours=0.5))
    assert late["confidence_score"] < early["confidence_score"]


def test_rows_of_one_category_combine_and_confidence_stays_in_range() -> None:
    one = _rank(_candidate("CTX-1", "weather", scope_level="national"))
    two = _rank(
        _candidate("CTX-1", "weather", scope_level="national"),
        _candidate("CTX-2", "weather", scope_level="national"),
    )
    assert 0 < one["confidence_score"] < two["confidence_score"] <= 0.99
    assert two["supporting_evidence"] == ["CTX-1", "CTX-2"]


def test_pieces_of_one_named_cause_count_once() -> None:
    # A weather feed's showers before a holiday, all named alike and none at the report's
    # onset: added up they had outranked the holiday that covers the report.
    def shower(evidence_id: str, gap: float) -> dict[str, object]:
        return _candidate(
            evidence_id,
            "weather",
            evidence_name="rain",
            scope_level="national",
            is_sku_specific=False,
            onset_gap_hours=gap,
        )

    showers = [shower("WX-1", 21.0), shower("WX-2", 7.0), shower("WX-3", 4.0)]
    holiday = _candidate("HOL-1", "holiday", scope_level="national", is_sku_specific=False)
    ranked = _rank(*showers, holiday)
    assert ranked["proposed_cause_category"] == "holiday"
    assert ranked["confidence_score_2"] == pytest.approx(_rank(showers[2])["confidence_score"])
    assert ranked["supporting_evidence"] == ["HOL-1", "WX-1", "WX-2", "WX-3"]
    # Named apart, the same rows are distinct evidence and add up past the holiday.
    apart = [{**row, "evidence_name": row["evidence_id"]} for row in showers]
    assert _rank(*apart, holiday)["proposed_cause_category"] == "weather"


def test_no_evidence_gives_unknown_at_the_floor() -> None:
    ranked = _rank()
    assert ranked["proposed_cause_category"] == UNKNOWN
    assert ranked["confidence_score"] == pytest.approx(NO_EVIDENCE_CONFIDENCE)
    assert not ranked["is_degraded"]


def test_missing_inputs_give_unknown_with_no_confidence_and_a_degraded_flag() -> None:
    ranked = rank_causes(
        _snapshots(has_cluster=False),
        pd.DataFrame(columns=list(_candidate("x", "weather"))),
        PARAMS,
        missing_inputs=["contextual_data"],
    ).iloc[0]
    assert ranked["proposed_cause_category"] == UNKNOWN
    assert math.isnan(ranked["confidence_score"])
    assert ranked["is_degraded"]
    assert ranked["degraded_reasons"] == ["contextual_data_missing", "MRCL_down"]


def test_mock_version_reads_the_narrative() -> None:
    narratives = pd.DataFrame(
        {
            "narrative_id": ["MRS-9"],
            "store_id": ["ST-001"],
            "sku": ["SKU-001"],
            "start_ts": [TICK - pd.Timedelta(hours=6)],
            "end_ts": [TICK + pd.Timedelta(hours=6)],
            "cause": ["Heatwave"],
            "cause_category": ["weather"],
            "confidence": [0.8],
        }
    )
    proposal = narrative_causes(_snapshots(), narratives).iloc[0]
    assert proposal["proposed_cause_category"] == "weather"
    assert proposal["supporting_evidence"] == ["MRS-9"]


def test_no_report_still_gives_the_evidence_as_lists_of_text() -> None:
    # An object column of no rows reached DuckDB as INTEGER (see test_clustering).
    no_candidates = pd.DataFrame(columns=list(_candidate("x", "weather")))
    for snapshots in (_snapshots().iloc[0:0], _snapshots()):
        proposals = rank_causes(snapshots, no_candidates, PARAMS, missing_inputs=[])
        assert len(proposals) == len(snapshots)
        types = {
            row[0]: row[1] for row in duckdb.sql("describe select * from proposals").fetchall()
        }
        assert types["supporting_evidence"] == "VARCHAR[]"
        assert types["degraded_reasons"] == "VARCHAR[]"
