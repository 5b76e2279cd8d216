"""anomaly_classifier_model_real: decides which candidate windows are reports (DESIGN.md
section 6). Built when model_routing.anomaly_classifier_model is 'real'; the routing model
anomaly_classifier_model reads it.

Thin wrapper: the decision logic is mrs.models.detection, unit-tested on its own; which
windows a build decides again, and which decisions it keeps, is mrs.models.kept_decisions
(issue 18: a build decides the new and changed windows, not the history). Thresholds come
from the model's config, which reads the project vars (dbt only passes config keys that this
file names literally).
"""

from mrs.models.detection import ClassifierParams
from mrs.models.kept_decisions import decide_kept_windows


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="replace_series_from",
        # A table kept by a version without window_digest is dropped before the build and
        # built again in full (on-run-start, mrs_drop_moved_relations).
        on_schema_change="fail",
    )
    params = ClassifierParams(
        onset_evidence=float(dbt.config.get("onset_evidence")),
        store_onset_evidence=float(dbt.config.get("store_onset_evidence")),
        onset_reference_z=float(dbt.config.get("onset_reference_z")),
        onset_hours=int(dbt.config.get("onset_hours")),
        onset_max_hours=int(dbt.config.get("onset_max_hours")),
        single_hour_z=float(dbt.config.get("single_hour_z")),
        burst_z=float(dbt.config.get("burst_z")),
        closure_hours=int(dbt.config.get("closure_hours")),
        backdate_reference_z=float(dbt.config.get("backdate_reference_z")),
        backdate_shift_fraction=float(dbt.config.get("backdate_shift_fraction")),
        drift_reference_z=float(dbt.config.get("drift_reference_z")),
        shift_reference_z=float(dbt.config.get("shift_reference_z")),
    )
    kept = repr(dbt.this) if dbt.is_incremental else None
    decisions = decide_kept_windows(session, dbt.ref("anomaly_candidate_hours"), kept, params)
    decided = int(decisions["decision"].notna().sum())
    if kept is None:
        print(f"mrs: classifier decided every window ({decided})")
    else:
        series = len(decisions) - decided  # one boundary row per series decided again
        print(
            f"mrs: classifier decisions kept, {decided} window(s) of {series} series decided again"
        )
    return decisions
