"""anomaly_classifier_model: decides which candidate windows are reports (DESIGN.md section 6).

Thin wrapper: the decision logic is mrs.detection, unit-tested on its own. Routing (real or
mock) and thresholds come from the model's config, which reads the project vars (dbt only
passes config keys that this file names literally).
"""

from mrs.detection import ClassifierParams, decide_candidate_windows, narrative_windows


def model(dbt, session):
    dbt.config(materialized="table")
    params = ClassifierParams(
        onset_evidence=float(dbt.config.get("onset_evidence")),
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
    candidate_hours = dbt.ref("anomaly_candidate_hours")
    narratives = dbt.ref("stg_master_narratives")
    settings = dbt.ref("run_settings").df()
    if dbt.config.get("route") == "mock":
        return narrative_windows(narratives.df(), settings["as_of"].iloc[0], params)
    return decide_candidate_windows(candidate_hours.df(), params)
