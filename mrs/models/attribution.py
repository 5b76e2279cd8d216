"""Attribution: ranked causes for each report snapshot from campaign and context evidence.

SQL pairs every report snapshot with the evidence rows that overlap it in time and scope
and describes each pair; the functions here weigh the pairs into ranked causes. Plain
pandas in, plain pandas out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

UNKNOWN = "unknown"
NO_EVIDENCE_CONFIDENCE = 0.05
SCOPE_WEIGHTS = {"store": 1.0, "city": 0.9, "region": 0.85, "retailer": 0.8, "national": 0.7}
# Causes that can only lift sales (a promotion cannot explain a drop) and those that can
# only lower them; weather, holidays and data errors can move sales either way.
UPLIFT_ONLY = frozenset(
    {"tpo_promotion", "paid_media", "social_viral", "traditional_media", "competitor_stockout"}
)
DROP_ONLY = frozenset({"operational"})
# Typed even with no row: an object column of no rows reached DuckDB as INTEGER.
TEXT_LIST = pd.ArrowDtype(pa.list_(pa.string()))
PROPOSAL_COLUMNS: dict[str, str | pd.ArrowDtype] = {
    "report_id": "string",
    "written_at": "datetime64[us]",
    "proposed_cause": "string",
    "proposed_cause_category": "string",
    "confidence_score": "float64",
    "proposed_cause_2": "string",
    "proposed_cause_category_2": "string",
    "confidence_score_2": "float64",
    "proposed_cause_3": "string",
    "proposed_cause_category_3": "string",
    "confidence_score_3": "float64",
    "supporting_evidence": TEXT_LIST,
    "candidate_count": "int64",
    "is_degraded": "bool",
    "degraded_reasons": TEXT_LIST,
}


@dataclass(frozen=True)
class AttributionParams:
    """Weights of the evidence scorer (project vars attribution_*)."""

    onset_scale_hours: float = 12.0
    sku_wide_weight: float = 0.75
    prior_match_weight: float = 1.0
    prior_mismatch_weight: float = 0.8
    prior_unknown_weight: float = 0.9
    # A trained version (mrs train attribution_model): intercept and one weight per
    # EVIDENCE_FEATURES column of a logistic model; None for the shipped product scorer.
    logistic: tuple[float, ...] | None = None


EVIDENCE_FEATURES = (
    "coverage",
    "alignment",
    "scope",
    "sku_specific",
    "prior_match",
    "prior_mismatch",
)


def evidence_features(candidates: pd.DataFrame, params: AttributionParams) -> pd.DataFrame:
    """The scorer's evidence features of each candidate pair (EVIDENCE_FEATURES order)."""
    gap = (candidates["onset_gap_hours"].abs() - 1.0).clip(lower=0.0)
    prior = candidates["cluster_cause_category"]
    return pd.DataFrame(
        {
            "coverage": 0.5 + 0.5 * candidates["overlap_share"].clip(0.0, 1.0),
            "alignment": np.exp(-gap / params.onset_scale_hours),
            "scope": candidates["scope_level"].map(SCOPE_WEIGHTS).fillna(SCOPE_WEIGHTS["national"]),
            "sku_specific": candidates["is_sku_specific"].astype(bool).astype(float),
            "prior_match": (prior == candidates["cause_category"]).astype(float),
            "prior_mismatch": (prior.notna() & (prior != candidates["cause_category"])).astype(
                float
            ),
        },
        index=candidates.index,
    )


def score_candidates(candidates: pd.DataFrame, params: AttributionParams) -> pd.Series:
    """Confidence in [0, 1] that one evidence row explains one report snapshot.

    Evidence that cannot move sales the report's way scores 0. Otherwise the score is the
    product of: how much of the report the evidence covers (at least half for any overlap),
    how closely its start matches the report's start, how specific its place is (store down
    to national), whether it names the product, and the matched cluster's cause prior. A
    trained version scores the same features with its logistic weights instead.
    """
    if params.logistic is not None:
        features = evidence_features(candidates, params).to_numpy(dtype=float)
        weights = np.asarray(params.logistic, dtype=float)
        score = pd.Series(
            1.0 / (1.0 + np.exp(-(weights[0] + features @ weights[1:]))), index=candidates.index
        )
        return score.where(is_direction_compatible(candidates), 0.0).clip(0.0, 1.0)
    coverage = 0.5 + 0.5 * candidates["overlap_share"].clip(0.0, 1.0)
    gap = (candidates["onset_gap_hours"].abs() - 1.0).clip(lower=0.0)
    alignment = np.exp(-gap / params.onset_scale_hours)
    scope = candidates["scope_level"].map(SCOPE_WEIGHTS).fillna(SCOPE_WEIGHTS["national"])
    product = np.where(candidates["is_sku_specific"].astype(bool), 1.0, params.sku_wide_weight)
    prior = np.select(
        [
            candidates["cluster_cause_category"].isna(),
            candidates["cluster_cause_category"] == candidates["cause_category"],
        ],
        [params.prior_unknown_weight, params.prior_match_weight],
        default=params.prior_mismatch_weight,
    )
    score = coverage * alignment * scope * product * prior
    return score.where(is_direction_compatible(candidates), 0.0).clip(0.0, 1.0)


class _Evidence(NamedTuple):
    """One scored evidence row of a snapshot."""

    category: str
    name: str
    evidence_id: str
    score: float


def is_direction_compatible(candidates: pd.DataFrame) -> pd.Series:
    """Whether each evidence row's cause can move sales the way its report goes."""
    up = candidates["direction"] == "up"
    category = candidates["cause_category"]
    return (up & ~category.isin(DROP_ONLY)) | (~up & ~category.isin(UPLIFT_ONLY))


def rank_causes(
    snapshots: pd.DataFrame,
    candidates: pd.DataFrame,
    params: AttributionParams,
    missing_inputs: list[str],
) -> pd.DataFrame:
    """Ranks 1-3 per snapshot; categories combine their rows (noisy-or), ties by name.

    `snapshots`: report_id, written_at, has_cluster. `candidates`: one row per snapshot and
    evidence row (see score_candidates for the columns). With no usable candidate the cause
    is 'unknown' at 0.05, or at a null confidence when an evidence input is missing (absence
    of evidence cannot be claimed then).
    """
    scored = candidates.assign(score=score_candidates(candidates, params))
    grouped = _evidence_by_snapshot(scored[scored["score"] > 0])
    rows = []
    for snapshot in snapshots.sort_values(["report_id", "written_at"]).itertuples(index=False):
        reasons = [f"{name}_missing" for name in missing_inputs]
        if not bool(snapshot.has_cluster):
            reasons.append("MRCL_down")
        ranked = _rank(grouped.get((snapshot.report_id, snapshot.written_at)))
        row: dict[str, object] = {
            "report_id": snapshot.report_id,
            "written_at": snapshot.written_at,
            "supporting_evidence": sorted({e for _, _, _, ids in ranked[:3] for e in ids}),
            "candidate_count": sum(len(ids) for _, _, _, ids in ranked),
            "is_degraded": bool(reasons),
            "degraded_reasons": reasons,
        }
        if not ranked:
            ranked = [
                (
                    UNKNOWN,
                    "No supporting evidence found",
                    None if missing_inputs else NO_EVIDENCE_CONFIDENCE,
                    [],
                )
            ]
        for rank in range(3):
            suffix = "" if rank == 0 else f"_{rank + 1}"
            category, cause, confidence, _ = (
                ranked[rank] if rank < len(ranked) else (None, None, None, [])
            )
            row[f"proposed_cause{suffix}"] = cause
            row[f"proposed_cause_category{suffix}"] = category
            row[f"confidence_score{suffix}"] = (
                math.nan if confidence is None else round(float(confidence), 6)
            )
        rows.append(row)
    return _typed(rows)


def _evidence_by_snapshot(scored: pd.DataFrame) -> dict[tuple[object, object], list[_Evidence]]:
    """Each snapshot's scored evidence rows with a cause category, in their order, as plain
    records: a few rows per snapshot, for which pandas' per-call overhead cost about 5 ms a
    snapshot (half the attribution's time on the demo)."""
    columns = ("report_id", "written_at", "cause_category", "evidence_name", "evidence_id")
    grouped: dict[tuple[object, object], list[_Evidence]] = {}
    for report_id, written_at, category, name, evidence_id, score in zip(
        *(scored[column].tolist() for column in columns),
        scored["score"].to_numpy(dtype=np.float64).tolist(),
        strict=True,
    ):
        # Rows without a key or a category are left out, as pandas' groupby leaves them.
        if pd.isna(report_id) or pd.isna(written_at) or pd.isna(category):
            continue
        grouped.setdefault((report_id, written_at), []).append(
            _Evidence(category, name, evidence_id, score)
        )
    return grouped


def _rank(evidence: list[_Evidence] | None) -> list[tuple[str, str, float, list[str]]]:
    if not evidence:
        return []
    by_category: dict[str, list[_Evidence]] = {}
    for row in evidence:
        by_category.setdefault(row.category, []).append(row)
    causes = []
    for category in sorted(by_category):
        rows = by_category[category]
        # The best row: highest score, ties by evidence id (the first of equals).
        best = min(rows, key=lambda row: (-row.score, row.evidence_id))
        # Distinct evidence adds up (noisy-or); rows of one name are one cause delivered in
        # pieces (a weather feed's hour-by-hour rain): its best piece counts, once. Added up,
        # three short showers before a holiday outweighed the holiday that covered the report
        # (docs/detection.md, "Real demand series").
        by_name: dict[str, float] = {}
        for row in rows:
            by_name[row.name] = max(by_name.get(row.name, 0.0), row.score)
        scores = np.array(list(by_name.values()), dtype=np.float64)
        confidence = min(0.99, 1.0 - float(np.prod(1.0 - scores)))
        causes.append((category, best.name, confidence, sorted(row.evidence_id for row in rows)))
    # Highest confidence first; ties broken by category name.
    return sorted(causes, key=lambda cause: (-round(cause[2], 9), cause[0]))


def narrative_causes(snapshots: pd.DataFrame, narratives: pd.DataFrame) -> pd.DataFrame:
    """Mock version: the cause of the master narrative the report overlaps."""
    rows = []
    for snapshot in snapshots.sort_values(["report_id", "written_at"]).itertuples(index=False):
        story = narratives[
            (narratives["store_id"] == snapshot.store_id)
            & (narratives["sku"] == snapshot.sku)
            & (narratives["start_ts"] <= snapshot.written_at)
            & (narratives["end_ts"] > snapshot.window_start)
        ].sort_values("start_ts", kind="stable")
        found = len(story) > 0
        first = story.iloc[0] if found else None
        row: dict[str, object] = {
            "report_id": snapshot.report_id,
            "written_at": snapshot.written_at,
            "proposed_cause": first["cause"] if found else "No supporting evidence found",
            "proposed_cause_category": first["cause_category"] if found else UNKNOWN,
            "confidence_score": float(first["confidence"]) if found else NO_EVIDENCE_CONFIDENCE,
            "supporting_evidence": [first["narrative_id"]] if found else [],
            "candidate_count": int(found),
            "is_degraded": False,
            "degraded_reasons": [],
        }
        for rank in (2, 3):
            row[f"proposed_cause_{rank}"] = None
            row[f"proposed_cause_category_{rank}"] = None
            row[f"confidence_score_{rank}"] = math.nan
        rows.append(row)
    return _typed(rows)


def _typed(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(PROPOSAL_COLUMNS))
    return frame.astype(PROPOSAL_COLUMNS)
